//! Exactly-once delivery without broker transactions: what each partition already holds.
//!
//! The idempotent producer (with `enable.gapless.guarantee`) keeps every partition a
//! gap-free, ordered prefix of what was sent to it, and every record carries the position
//! after its transaction and its index in it (headers [`POSITION_HEADER`], [`INDEX_HEADER`]).
//! When a topic is first written to in a run, the last record of each of its partitions is
//! read. A replayed record is already written when that last record's position covers the
//! record's transaction (or is the same transaction at the same or a later index); the first
//! record past the end is written, and so is everything after it in that partition.
//!
//! Snapshot records are compared by their place in the job instead ([`crate::JobPlace`]): a
//! chunk read again after a restart goes out at another position. A snapshot record is
//! already written when the partition's last record says the job had got to or past its
//! table and key; the first one that is not ends the comparison of the partition's snapshot
//! records. And a last record that is a snapshot record came after every stream record at
//! its position.
//!
//! Transactional delivery reads the ends `read_committed`: an aborted transaction's records
//! do not count, and the offsets before a partition's end may be transaction markers or
//! aborted records, which are read past (from further back) until a committed record is found.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mwcdc_backoff::Backoff;
use mwcdc_position::Position;
use rdkafka::client::Client;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};
use tracing::{info, warn};

use crate::headers::SNAPSHOT_HEADER;
use crate::job_place::Mark;
use crate::partition::partition_for;
use crate::{JobPlace, Origin, SinkError, INDEX_HEADER, POSITION_HEADER};
use mwcdc_record::KeyEncoding;

/// The last record of a partition: where a replay stops skipping.
#[derive(Debug, Clone, PartialEq)]
pub struct End {
    /// The position after its transaction.
    pub position: Position,
    /// Its index among its transaction's records.
    pub index: u32,
    /// Its place in a snapshot job (its `mwcdc.snapshot` header), if it has one.
    pub job: Option<Mark>,
}

impl End {
    /// Whether the stream record at `origin` is at or before this end in the partition. A
    /// snapshot record at the end went out after the stream records at its position.
    pub fn covers(&self, origin: &Origin<'_>) -> Result<bool, mwcdc_position::PositionError> {
        if self.position == *origin.position {
            let after_the_stream = self.job.as_ref().is_some_and(Mark::is_read);
            return Ok(after_the_stream || origin.index <= self.index);
        }
        self.position.try_covers(origin.position)
    }
}

/// One partition while a replay is compared with it.
#[derive(Debug)]
struct PartitionEnd {
    /// `None` once a stream record past the end was written.
    end: Option<End>,
    /// The last record's place in a snapshot job; `None` once a snapshot record past it was
    /// written (the job's later records are later in its order).
    job: Option<Mark>,
    /// Stream records skipped.
    skipped: u64,
    /// Snapshot records skipped.
    rows_skipped: u64,
}

/// Where a record goes, or that it is already there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Already in this partition.
    AlreadyInPartition,
    /// To be written to this partition.
    Partition(i32),
    /// To be written to this partition with this `mwcdc.snapshot` header instead of the
    /// pipeline's: the partition holds snapshot rows of the job that this run has not
    /// published yet (it resumed from a checkpoint behind them), and the record's header must
    /// not say less than the partition holds, or a later replay would write them again.
    PartitionAfterRows(i32, String),
}

/// Which records count as written when the ends are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// Every record the partition holds (exactly-once mode: there are no transactions).
    ReadUncommitted,
    /// Records of committed transactions only (transactional mode).
    ReadCommitted,
}

impl Isolation {
    fn property(self) -> &'static str {
        match self {
            Isolation::ReadUncommitted => "read_uncommitted",
            Isolation::ReadCommitted => "read_committed",
        }
    }
}

/// The offset to read a partition from in the next round, after a round from `from` found no
/// record before the end `high`: twice as far back, not before `low`. `None` when `from` was
/// already `low` (the partition holds no record that counts).
fn further_back(low: i64, high: i64, from: i64) -> Option<i64> {
    (from > low).then(|| (high - 2 * (high - from)).max(low))
}

/// The partitions' ends, read as topics are first written to.
pub struct PartitionEnds {
    reader: BaseConsumer,
    topics: HashMap<Arc<str>, Vec<PartitionEnd>>,
    /// The kind of the snapshot records each topic got: a topic must not get both row and
    /// entity records of a snapshot (see [`PartitionEnds::place`]).
    read_kinds: HashMap<Arc<str>, KeyEncoding>,
    timeout: Duration,
}

impl PartitionEnds {
    /// A reader with the producer's connection properties, reading at `isolation`.
    pub fn new(
        properties: &ClientConfig,
        timeout: Duration,
        isolation: Isolation,
    ) -> Result<Self, SinkError> {
        let mut config = properties.clone();
        config
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .set("group.id", "mwcdc-partition-ends")
            .set("isolation.level", isolation.property());
        let reader = config.create().map_err(|e| SinkError::Setup {
            sink: "kafka",
            message: format!("the reader of partition ends: {e}"),
        })?;
        Ok(Self {
            reader,
            topics: HashMap::new(),
            read_kinds: HashMap::new(),
            timeout,
        })
    }

    /// Where the record at `origin` with `key` (of `kind`) goes in `topic`; reads the topic's
    /// partition ends first if this run has not written to it yet.
    ///
    /// A snapshot's row and entity records of one chunk go out rows first, so in a topic that
    /// gets both (a row topic template that renders an entity topic's name) a partition's
    /// snapshot records are not in the job's order, and a replay could skip rows it does not
    /// hold: the second kind is an error, before any of it is written.
    pub fn place<C: ClientContext>(
        &mut self,
        client: &Client<C>,
        topic: &Arc<str>,
        (key, kind): (Option<&[u8]>, KeyEncoding),
        origin: &Origin<'_>,
    ) -> Result<Placement, SinkError> {
        if matches!(origin.snapshot, Some(JobPlace::Read(_))) {
            let first = *self.read_kinds.entry(topic.clone()).or_insert(kind);
            if first != kind {
                return Err(SinkError::SharedSnapshotTopic {
                    topic: topic.to_string(),
                });
            }
        }
        if !self.topics.contains_key(topic) {
            let ends = self.read_ends(client, topic)?;
            self.topics.insert(topic.clone(), ends);
        }
        let partitions = self.topics.get_mut(topic).expect("inserted above");
        let p = partition_for(key, partitions.len());
        let state = &mut partitions[p];
        let partition = p as i32;
        if let Some(JobPlace::Read(text)) = origin.snapshot {
            return place_read(state, text, topic, partition);
        }
        if let Some(end) = &state.end {
            let covered = end.covers(origin).map_err(|e| SinkError::ExactlyOnce {
                topic: topic.to_string(),
                partition,
                message: format!(
                    "its last record's position cannot be compared with the source's: {e}; \
                     use new topics (another sink.topic_prefix) or delivery = \"at-least-once\""
                ),
            })?;
            if covered {
                state.skipped += 1;
                return Ok(Placement::AlreadyInPartition);
            }
            info!(%topic, partition, skipped = state.skipped, "exactly-once: past the records this partition already holds");
            state.end = None;
        }
        Ok(match (origin.snapshot, &state.job) {
            (Some(JobPlace::Progress(text)), Some(held)) => match Mark::parse(text) {
                Ok(published) if published.job == held.job => {
                    Placement::PartitionAfterRows(partition, held.as_progress())
                }
                _ => Placement::Partition(partition),
            },
            _ => Placement::Partition(partition),
        })
    }

    /// Reads the end of every partition of `topic`, waiting for as long as the broker is
    /// unreachable (as deliveries do), but not past an end that cannot be understood.
    fn read_ends<C: ClientContext>(
        &self,
        client: &Client<C>,
        topic: &str,
    ) -> Result<Vec<PartitionEnd>, SinkError> {
        let mut backoff = Backoff::new(Duration::from_secs(1), MAX_RETRY_DELAY);
        loop {
            match self.try_read_ends(client, topic) {
                Ok(ends) => return Ok(ends),
                Err(Unreadable::Definite(e)) => return Err(e),
                Err(Unreadable::Unavailable(e)) => {
                    warn!(error = %e, retry_in = ?backoff.delay(), "exactly-once: a partition's end cannot be read yet");
                    std::thread::sleep(backoff.advance());
                }
            }
        }
    }

    /// The topic's partition count; asking the producer creates the topic if the broker
    /// creates topics on first use.
    fn partition_count<C: ClientContext>(
        &self,
        client: &Client<C>,
        topic: &str,
    ) -> Result<i32, Unreadable> {
        let deadline = Instant::now() + self.timeout;
        // A topic the broker creates on this first request has its partitions some tens of
        // milliseconds later: ask again soon, then less often.
        let mut pause = Backoff::new(Duration::from_millis(10), Duration::from_millis(200));
        loop {
            let last_error = match client.fetch_metadata(Some(topic), self.timeout) {
                Ok(md) => match md.topics().iter().find(|t| t.name() == topic) {
                    Some(t) if t.error().is_none() && !t.partitions().is_empty() => {
                        return Ok(t.partitions().len() as i32)
                    }
                    Some(t) => format!("{:?}", t.error()),
                    None => "not in the metadata".into(),
                },
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                return Err(Unreadable::Unavailable(SinkError::ExactlyOnce {
                    topic: topic.into(),
                    partition: -1,
                    message: format!(
                        "its partitions are unknown ({last_error}); create the topic or let the \
                         broker create topics on first use"
                    ),
                }));
            }
            std::thread::sleep(pause.advance());
        }
    }

    /// The position and index of the last record of every partition of `topic` (`None` for
    /// an empty one), all partitions read at once.
    ///
    /// Reading goes on from each listed end offset until the fetch reports the end of the
    /// partition, so that whatever was appended after the listing is seen too. A partition whose last
    /// offsets hold no record that counts (transaction markers, aborted records) is read
    /// again from twice as far back, until a record is found or its start is reached.
    fn try_read_ends<C: ClientContext>(
        &self,
        client: &Client<C>,
        topic: &str,
    ) -> Result<Vec<PartitionEnd>, Unreadable> {
        let count = self.partition_count(client, topic)?;
        let error = |partition: i32, message: String| SinkError::ExactlyOnce {
            topic: topic.into(),
            partition,
            message,
        };
        // Per partition still to read: (low, high, where the next round reads from).
        let mut reading: HashMap<i32, (i64, i64, i64)> = HashMap::new();
        for partition in 0..count {
            let (low, high) = self
                .reader
                .fetch_watermarks(topic, partition, self.timeout)
                .map_err(|e| {
                    Unreadable::Unavailable(error(
                        partition,
                        format!("its offsets could not be read: {e}"),
                    ))
                })?;
            if high > low {
                reading.insert(partition, (low, high, high - 1));
            }
        }
        // Only each partition's last record matters.
        let mut last: HashMap<i32, Result<End, String>> = HashMap::new();
        let deadline = Instant::now() + self.timeout;
        while !reading.is_empty() {
            let found = self.read_round(topic, &reading, deadline, &error)?;
            for (partition, end) in found {
                last.insert(partition, end);
            }
            reading = reading
                .into_iter()
                .filter(|(partition, _)| !last.contains_key(partition))
                .filter_map(|(partition, (low, high, from))| {
                    further_back(low, high, from).map(|from| (partition, (low, high, from)))
                })
                .collect();
        }
        (0..count)
            .map(|partition| {
                let end = match last.remove(&partition) {
                    None => None,
                    Some(Ok(end)) => Some(end),
                    Some(Err(message)) => {
                        return Err(Unreadable::Definite(error(partition, message)))
                    }
                };
                let job = end.as_ref().and_then(|e| e.job.clone());
                Ok(PartitionEnd {
                    end,
                    job,
                    skipped: 0,
                    rows_skipped: 0,
                })
            })
            .collect()
    }

    /// Reads every partition of `reading` from its offset to its end; returns the last record
    /// of each partition in which one was read.
    fn read_round(
        &self,
        topic: &str,
        reading: &HashMap<i32, (i64, i64, i64)>,
        deadline: Instant,
        error: &impl Fn(i32, String) -> SinkError,
    ) -> Result<HashMap<i32, Result<End, String>>, Unreadable> {
        let mut assignment = TopicPartitionList::new();
        for (&partition, &(_, _, from)) in reading {
            assignment
                .add_partition_offset(topic, partition, Offset::Offset(from))
                .map_err(|e| Unreadable::Definite(error(partition, e.to_string())))?;
        }
        self.reader.assign(&assignment).map_err(|e| {
            Unreadable::Unavailable(error(
                -1,
                format!("its last records could not be read: {e}"),
            ))
        })?;
        let mut open: HashSet<i32> = reading.keys().copied().collect();
        let mut last = HashMap::new();
        while !open.is_empty() {
            if Instant::now() >= deadline {
                return Err(Unreadable::Unavailable(error(
                    -1,
                    format!(
                        "the ends of its partitions were not reached within {:?}",
                        self.timeout
                    ),
                )));
            }
            match self.reader.poll(Duration::from_millis(100)) {
                Some(Ok(m)) => {
                    last.insert(m.partition(), parse_end(&m));
                }
                Some(Err(KafkaError::PartitionEOF(partition))) => {
                    open.remove(&partition);
                }
                Some(Err(e)) => {
                    return Err(Unreadable::Unavailable(error(
                        -1,
                        format!("reading the last records failed: {e}"),
                    )))
                }
                None => {}
            }
        }
        Ok(last)
    }
}

/// Where a snapshot record goes: nowhere when the partition's last record says the job had
/// got to or past it.
fn place_read(
    state: &mut PartitionEnd,
    text: &str,
    topic: &str,
    partition: i32,
) -> Result<Placement, SinkError> {
    let Some(end) = &state.job else {
        return Ok(Placement::Partition(partition));
    };
    let unordered = |message: String| SinkError::ExactlyOnce {
        topic: topic.to_string(),
        partition,
        message: format!(
            "a snapshot record cannot be compared with the partition's last record: {message}; \
             exactly-once snapshots need keys of integers, floating point or binary strings \
             (leave the table out of snapshot.tables, or use delivery = \"at-least-once\")"
        ),
    };
    let read = Mark::parse(text).map_err(unordered)?;
    if end.holds(&read).map_err(unordered)? {
        state.rows_skipped += 1;
        return Ok(Placement::AlreadyInPartition);
    }
    info!(%topic, partition, rows_skipped = state.rows_skipped, job = %read.job, "exactly-once: past the snapshot rows this partition already holds");
    state.job = None;
    Ok(Placement::Partition(partition))
}

/// Why a partition's end was not read.
enum Unreadable {
    /// The broker did not answer: try again.
    Unavailable(SinkError),
    /// The end cannot be understood: stop.
    Definite(SinkError),
}

/// The longest wait between attempts to read a partition's end.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// Reads the position headers of a record.
fn parse_end(m: &impl Message) -> Result<End, String> {
    let header = |name: &str| {
        m.headers()
            .and_then(|h| h.iter().find(|h| h.key == name).and_then(|h| h.value))
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    let (Some(position), Some(index)) = (header(POSITION_HEADER), header(INDEX_HEADER)) else {
        return Err(format!(
            "its last record (offset {}) has no {POSITION_HEADER} and {INDEX_HEADER} headers: \
             it was not written by mwcdc 0.2 or later, so what the partition holds is unknown; \
             use new topics (another sink.topic_prefix), or run with delivery = \
             \"at-least-once\" until every partition ends with a record of this version",
            m.offset()
        ));
    };
    let position = Position::parse_any(&position)
        .map_err(|e| format!("its last record's {POSITION_HEADER} {position:?}: {e}"))?;
    let index = index
        .parse()
        .map_err(|e| format!("its last record's {INDEX_HEADER} {index:?}: {e}"))?;
    let job = header(SNAPSHOT_HEADER)
        .map(|text| Mark::parse(&text))
        .transpose()
        .map_err(|e| format!("its last record's {SNAPSHOT_HEADER}: {e}"))?;
    Ok(End {
        position,
        index,
        job,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin<'a>(position: &'a Position, index: u32) -> Origin<'a> {
        Origin {
            position,
            position_text: "",
            index,
            snapshot: None,
        }
    }

    #[test]
    fn an_end_covers_earlier_transactions_and_earlier_records_of_its_own() {
        let at = |s: &str| Position::parse_any(s).unwrap();
        let end = End {
            position: at("0-1-10,1-1-4"),
            index: 3,
            job: None,
        };
        let cases = [
            ("0-1-9,1-1-4", 99, true),
            ("0-1-10,1-1-3", 0, true),
            ("0-1-10,1-1-4", 3, true),
            ("0-1-10,1-1-4", 4, false),
            ("0-1-11,1-1-4", 0, false),
            ("0-1-10,1-1-5", 0, false),
            // A promoted replica continues the domain with its own server id.
            ("0-2-11,1-1-4", 0, false),
            ("0-1-10,1-1-4,2-1-1", 0, false),
        ];
        for (position, index, covered) in cases {
            let p = at(position);
            assert_eq!(
                end.covers(&origin(&p, index)).unwrap(),
                covered,
                "{position} #{index}"
            );
        }
    }

    #[test]
    fn a_snapshot_record_at_the_end_came_after_the_stream_records_of_its_position() {
        let at = |s: &str| Position::parse_any(s).unwrap();
        let read = Mark::parse(r#"{"job":"initial","table":"w.t","key":[5]}"#).unwrap();
        let end = End {
            position: at("0-1-10"),
            index: 0,
            job: Some(read),
        };
        for index in [0, 1, 500] {
            assert!(end.covers(&origin(&at("0-1-10"), index)).unwrap());
        }
        assert!(!end.covers(&origin(&at("0-1-11"), 0)).unwrap());
        // A stream record's progress mark does not: its own index decides.
        let progress = Mark::parse(r#"{"job":"initial","table":"w.t","after":[5]}"#).unwrap();
        let end = End {
            job: Some(progress),
            ..end
        };
        assert!(end.covers(&origin(&at("0-1-10"), 0)).unwrap());
        assert!(!end.covers(&origin(&at("0-1-10"), 1)).unwrap());
    }

    #[test]
    fn snapshot_rows_up_to_the_ends_place_are_skipped_and_the_first_past_it_ends_the_comparison() {
        let mark = Mark::parse(r#"{"job":"initial","table":"w.t","after":[5]}"#).unwrap();
        let mut state = PartitionEnd {
            end: None,
            job: Some(mark),
            skipped: 0,
            rows_skipped: 0,
        };
        let row = |key: u64| JobPlace::read_header("initial", "w.t", &format!("[{key}]"));
        let place =
            |state: &mut PartitionEnd, key| place_read(state, &row(key), "topic", 3).unwrap();
        assert_eq!(place(&mut state, 2), Placement::AlreadyInPartition);
        assert_eq!(place(&mut state, 5), Placement::AlreadyInPartition);
        assert_eq!(place(&mut state, 6), Placement::Partition(3));
        assert!(state.job.is_none());
        // From then on every snapshot record of the partition is written.
        assert_eq!(place(&mut state, 1), Placement::Partition(3));
        assert_eq!((state.skipped, state.rows_skipped), (0, 2));
        // A key that cannot be ordered stops the replay rather than guess.
        let mut state = PartitionEnd {
            end: None,
            job: Mark::parse(r#"{"job":"initial","table":"w.t","after":[{"text":"b"}]}"#).ok(),
            skipped: 0,
            rows_skipped: 0,
        };
        let text = JobPlace::read_header("initial", "w.t", r#"[{"text":"a"}]"#);
        let err = place_read(&mut state, &text, "topic", 3).unwrap_err();
        assert!(err.to_string().contains("snapshot.tables"), "{err}");
    }

    #[test]
    fn a_partition_without_a_record_at_its_end_is_read_from_twice_as_far_back() {
        assert_eq!(further_back(0, 100, 99), Some(98));
        assert_eq!(further_back(0, 100, 98), Some(96));
        assert_eq!(further_back(0, 100, 68), Some(36));
        assert_eq!(further_back(0, 100, 36), Some(0));
        assert_eq!(further_back(0, 100, 0), None);
        assert_eq!(further_back(40, 100, 50), Some(40));
    }

    #[test]
    fn positions_of_the_other_flavor_are_not_compared() {
        let end = End {
            position: Position::parse_any("0-1-10").unwrap(),
            index: 0,
            job: None,
        };
        let mysql = Position::parse_any("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5").unwrap();
        assert!(end.covers(&origin(&mysql, 0)).is_err());
    }
}
