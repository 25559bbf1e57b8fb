//! The merge against scripted streams and chunks: where each chunk goes out and which of its
//! rows it keeps.

use std::time::Duration;

use mwcdc_binlog::Value;
use tokio::sync::oneshot;

use super::*;
use crate::reader::Chunk;

fn revision() -> Arc<TableSchema> {
    Arc::new(TableSchema::new(
        "enwiki".into(),
        "revision".into(),
        vec!["rev_id".into(), "rev_deleted".into()],
        vec![0],
    ))
}

fn at(file: &str, pos: u64) -> Coordinates {
    Coordinates {
        file: file.into(),
        pos,
    }
}

/// A binlog transaction ending at `file:end` that updates the revisions `ids`.
fn txn(seq: u64, file: &str, end: u64, ids: &[u64]) -> Received {
    let table = revision();
    let gtid: Arc<str> = format!("0-1-{seq}").into();
    let changes: Vec<RowChange> = ids
        .iter()
        .map(|&id| RowChange {
            table: table.clone(),
            op: Op::Update,
            before: Some(vec![Value::UInt(id), Value::UInt(0)]),
            after: Some(vec![Value::UInt(id), Value::UInt(1)]),
            gtid: gtid.clone(),
            event_index: 0,
            row_index: 0,
            file: file.into(),
            pos: end - 100,
            server_id: 1,
            ts_sec: 0,
        })
        .collect();
    Received {
        transaction: Transaction {
            gtid: gtid.clone(),
            position: Position::parse_any(&gtid).expect("position"),
            file: file.into(),
            end_pos: end,
            commit_ts: 0,
            changes: changes.into(),
            xa: None,
            snapshot: None,
        },
        at: Instant::now(),
    }
}

/// A chunk of the revisions `ids` read at `read_at`, the last of its table and job.
fn chunk(read_at: Coordinates, ids: &[u64]) -> FromReader {
    FromReader::Chunk(ReadChunk {
        chunk: Chunk {
            rows: ids
                .iter()
                .map(|&id| vec![Value::UInt(id), Value::UInt(0)])
                .collect(),
            at: read_at,
            server_id: 1,
            read_ts: 7,
        },
        cursor: ids.last().map(|&id| vec![Value::UInt(id)]),
        last_of_table: true,
        next_table: None,
    })
}

struct Script {
    stream: mpsc::Sender<Received>,
    reader: mpsc::Sender<FromReader>,
    out: mpsc::Receiver<Inbound>,
    source: Arc<StreamProgress>,
    stats: Arc<SnapshotStats>,
    merge: JoinHandle<Result<(), SnapshotError>>,
    /// Keeps the stand-in reader task's result pending until the test ends.
    _job_done: oneshot::Sender<()>,
}

impl Script {
    fn start() -> Self {
        Self::with_output(8)
    }

    /// A merge whose output holds `capacity` items.
    fn with_output(capacity: usize) -> Self {
        let (stream, stream_rx) = mpsc::channel(8);
        let (reader, reader_rx) = mpsc::channel(1);
        let (out_tx, out) = mpsc::channel(capacity);
        let source = Arc::new(StreamProgress::default());
        let stats = Arc::new(SnapshotStats::default());
        let (job_done, job_wait) = oneshot::channel::<()>();
        let job = tokio::spawn(async move {
            let _ = job_wait.await;
            Ok(())
        });
        let merger = Merger {
            stream: stream_rx,
            reader: reader_rx,
            out: out_tx,
            progress: SnapshotProgress {
                job: "initial".into(),
                lanes: Vec::new(),
                tables_done: 0,
                rows: 0,
                done_at: None,
            },
            start: Position::parse_any("0-1-0").expect("position"),
            start_at: None,
            source: source.clone(),
            spill: Arc::new(SpillPolicy::unbounded()),
            stats: stats.clone(),
        };
        Self {
            stream,
            reader,
            out,
            source,
            stats,
            merge: tokio::spawn(merger.run(job)),
            _job_done: job_done,
        }
    }

    /// Announces the revision table and waits until the merge records its keys.
    async fn announce(&self) {
        let (ready, recording) = oneshot::channel();
        self.reader
            .send(FromReader::Table {
                table: revision(),
                ready,
            })
            .await
            .expect("announce");
        recording.await.expect("recording");
    }

    /// Sends a binlog transaction and takes it from the merge's output.
    async fn stream_through(&mut self, received: Received) {
        let gtid = received.transaction.gtid.clone();
        self.stream.send(received).await.expect("stream");
        let next = self.next().await;
        assert_eq!(next.received.transaction.gtid, gtid);
        assert!(next.snapshot.is_none());
    }

    async fn next(&mut self) -> Inbound {
        tokio::time::timeout(Duration::from_secs(5), self.out.recv())
            .await
            .expect("the merge hands something on")
            .expect("the merge is running")
    }

    /// What the merge returned: it must stop within 5 s.
    async fn stopped(&mut self) -> Result<(), SnapshotError> {
        tokio::time::timeout(Duration::from_secs(5), &mut self.merge)
            .await
            .expect("the merge stops")
            .expect("join")
    }

    /// Whether the merge hands nothing on within a while.
    async fn quiet(&mut self) -> bool {
        tokio::time::timeout(Duration::from_millis(300), self.out.recv())
            .await
            .is_err()
    }
}

/// The revision ids of a chunk's rows.
fn ids(inbound: &Inbound) -> Vec<u64> {
    inbound
        .received
        .transaction
        .changes
        .to_vec()
        .expect("changes")
        .iter()
        .map(|c| match c.after.as_deref() {
            Some([Value::UInt(id), ..]) => *id,
            other => panic!("a read row, got {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn a_chunk_read_ahead_of_the_stream_waits_for_the_stream_to_reach_its_position() {
    let mut s = Script::start();
    s.announce().await;
    s.stream_through(txn(1, "bin.000001", 300, &[2])).await;
    s.reader
        .send(chunk(at("bin.000001", 500), &[1, 2, 3]))
        .await
        .expect("chunk");
    assert!(
        s.quiet().await,
        "held: the stream is at 300, the chunk was read at 500"
    );
    // Changed at 500, which the read saw: the row stays.
    s.stream_through(txn(2, "bin.000001", 500, &[3])).await;
    let out = s.next().await;
    assert_eq!(ids(&out), [1, 2, 3]);
    let txn = &out.received.transaction;
    assert_eq!(
        txn.position.to_string(),
        "0-1-2",
        "it goes out where the stream is"
    );
    assert_eq!(txn.snapshot.as_ref().map(|c| c.last_of_job), Some(true));
    let progress = out.snapshot.expect("a chunk moves the job on");
    assert_eq!((progress.rows, progress.tables_done), (3, 1));
    // The job's last chunk finishes it: a checkpoint of it is of a job done.
    assert_eq!(progress.done_at.as_deref(), Some("0-1-2"));
    s.reader.send(FromReader::Done).await.expect("done");
    assert!(s.quiet().await, "the end of a finished job adds nothing");
    let view = s.stats.view();
    assert_eq!((view.chunks_held, view.rows_dropped), (1, 0));
}

#[tokio::test]
async fn rows_the_stream_changed_after_the_read_position_are_dropped() {
    let mut s = Script::start();
    s.announce().await;
    s.stream_through(txn(1, "bin.000001", 400, &[1])).await;
    s.stream_through(txn(2, "bin.000001", 600, &[2])).await;
    s.stream_through(txn(3, "bin.000002", 200, &[5])).await;
    // Read at 500: revision 1 changed before it (kept), 2 after it (dropped), 5 after it
    // in the next file (not in the chunk anyway).
    s.reader
        .send(chunk(at("bin.000001", 500), &[1, 2, 3]))
        .await
        .expect("chunk");
    let out = s.next().await;
    assert_eq!(ids(&out), [1, 3]);
    assert_eq!(out.received.transaction.position.to_string(), "0-1-3");
    let view = s.stats.view();
    assert_eq!((view.chunks_held, view.rows_dropped, view.rows), (0, 1, 2));
    // The job's progress counts what was published, and its cursor where reading goes on.
    let progress = out.snapshot.expect("progress");
    assert_eq!(progress.rows, 2);
}

#[tokio::test]
async fn a_truncate_after_the_read_position_drops_the_whole_chunk() {
    let mut s = Script::start();
    s.announce().await;
    let mut truncate = txn(1, "bin.000001", 600, &[1]);
    let mut changes = truncate.transaction.changes.to_vec().expect("changes");
    changes[0].op = Op::Truncate;
    changes[0].before = None;
    changes[0].after = None;
    truncate.transaction.changes = changes.into();
    s.stream_through(truncate).await;
    s.reader
        .send(chunk(at("bin.000001", 500), &[1, 2, 3]))
        .await
        .expect("chunk");
    let out = s.next().await;
    assert_eq!(
        ids(&out),
        Vec::<u64>::new(),
        "the rows were truncated after the read"
    );
    assert_eq!(s.stats.view().rows_dropped, 3);
}

#[tokio::test]
async fn a_quiet_server_lets_a_chunk_go_once_a_heartbeat_passes_its_position() {
    let mut s = Script::start();
    s.announce().await;
    s.stream_through(txn(1, "bin.000001", 900, &[])).await;
    // Read right after a rotate: no transaction will end at that position.
    s.reader
        .send(chunk(at("bin.000002", 385), &[1]))
        .await
        .expect("chunk");
    assert!(s.quiet().await);
    s.source.heartbeat(b"bin.000002", 300);
    assert!(
        s.quiet().await,
        "a heartbeat before the read position is not enough"
    );
    s.source.heartbeat(b"bin.000002", 385);
    assert_eq!(ids(&s.next().await), [1]);
}

#[tokio::test]
async fn the_end_of_the_job_is_published_with_where_the_stream_stands() {
    let mut s = Script::start();
    s.stream_through(txn(4, "bin.000001", 100, &[])).await;
    s.reader.send(FromReader::Done).await.expect("done");
    let out = s.next().await;
    assert!(out.received.transaction.changes.is_empty());
    let progress = out.snapshot.expect("progress");
    assert_eq!(progress.done_at.as_deref(), Some("0-1-4"));
    assert!(progress.lanes.is_empty());
}

/// A chunk of the revisions `ids` read at `read_at`, with more of its table to come.
fn not_last(read_at: Coordinates, ids: &[u64]) -> FromReader {
    match chunk(read_at, ids) {
        FromReader::Chunk(c) => FromReader::Chunk(ReadChunk {
            last_of_table: false,
            ..c
        }),
        other => other,
    }
}

#[tokio::test]
async fn after_a_chunk_a_waiting_transaction_goes_first() {
    // An output of one place: the merge blocks handing on the first chunk while a
    // transaction and the next chunk both arrive.
    let mut s = Script::with_output(1);
    s.announce().await;
    s.stream
        .send(txn(1, "bin.000001", 500, &[]))
        .await
        .expect("stream");
    s.reader
        .send(not_last(at("bin.000001", 500), &[1]))
        .await
        .expect("chunk");
    s.stream
        .send(txn(2, "bin.000001", 700, &[]))
        .await
        .expect("stream");
    s.reader
        .send(not_last(at("bin.000001", 500), &[2]))
        .await
        .expect("chunk");
    let mut order = Vec::new();
    for _ in 0..4 {
        let next = s.next().await;
        order.push(match next.snapshot {
            Some(_) => format!("chunk {:?}", ids(&next)),
            None => next.received.transaction.gtid.to_string(),
        });
    }
    assert_eq!(order, ["0-1-1", "chunk [1]", "0-1-2", "chunk [2]"]);
}

#[tokio::test]
async fn a_chunk_of_another_binlog_stops_the_merge() {
    let mut s = Script::start();
    s.announce().await;
    s.stream_through(txn(1, "other-bin.000001", 500, &[])).await;
    s.reader
        .send(chunk(at("bin.000001", 500), &[1]))
        .await
        .expect("chunk");
    let result = s.stopped().await;
    assert!(
        matches!(result, Err(SnapshotError::Diverged { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_chunk_of_another_server_than_the_streams_stops_the_merge() {
    // Both servers' binlogs are `bin.*`: only their ids tell them apart.
    let mut s = Script::start();
    s.announce().await;
    s.source.set_server_id(2);
    s.stream_through(txn(1, "bin.000001", 900, &[])).await;
    s.reader
        .send(chunk(at("bin.000001", 500), &[1]))
        .await
        .expect("chunk");
    let result = s.stopped().await;
    assert!(
        matches!(
            result,
            Err(SnapshotError::StreamServerChanged {
                chunk: 1,
                stream: 2
            })
        ),
        "{result:?}"
    );
}

#[test]
fn the_progress_bar_fills_with_the_rows_read_of_the_estimate() {
    assert_eq!(progress_bar(0, 0), "");
    assert_eq!(progress_bar(45, 100), "[#########-----------] 45%");
    assert_eq!(progress_bar(250, 100), "[####################] 100%");
}
