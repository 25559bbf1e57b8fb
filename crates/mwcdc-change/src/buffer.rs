//! A transaction's row changes, held in memory up to a budget and spilled to a temporary file
//! beyond it, so that a transaction of a million rows does not need a million rows of memory.
//!
//! The budget is shared by every buffer of one policy (the transaction being read and those
//! queued for publishing): when together they exceed it, the buffer that grows writes what it
//! holds to its file, in chunks of at least [`SPILL_CHUNK`] (or all it holds, if less than
//! that would exceed the budget on its own).
//!
//! The changes are kept in order: once the budget is exceeded, what is in memory is appended
//! to the file and memory starts again empty, so the file always holds a prefix. The buffer can
//! be read any number of times (the record encoder and the MediaWiki folding both read it).
//! The file is created unlinked (`O_TMPFILE` where available) and vanishes with the buffer.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use mwcdc_binlog::Value;
use thiserror::Error;

use crate::row::{Op, RowChange, TableSchema};

/// The smallest write to a spill file while the buffer alone is within the budget.
pub const SPILL_CHUNK: usize = 1 << 20;

/// When and where transactions' changes go to disk.
#[derive(Debug)]
pub struct SpillPolicy {
    memory_budget: usize,
    dir: PathBuf,
    /// Estimated bytes held in memory by all buffers of this policy.
    in_memory: AtomicUsize,
}

impl SpillPolicy {
    /// Buffers of this policy hold at most about `memory_budget` bytes of changes in memory
    /// together, and spill to files in `dir` beyond it.
    pub fn new(memory_budget: usize, dir: PathBuf) -> Self {
        Self {
            memory_budget,
            dir,
            in_memory: AtomicUsize::new(0),
        }
    }

    /// Never spill.
    pub fn unbounded() -> Self {
        Self::new(usize::MAX, std::env::temp_dir())
    }

    /// Estimated bytes of changes held in memory by all buffers of this policy now.
    pub fn memory_in_use(&self) -> usize {
        self.in_memory.load(Ordering::Relaxed)
    }
}

/// The spill file could not be written or read back.
#[derive(Debug, Error)]
pub enum SpillError {
    /// An I/O error on the spill file.
    #[error("transaction spill file in {dir}: {source}")]
    Io {
        /// The spill directory.
        dir: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// What was read back is not what was written.
    #[error("transaction spill file in {dir} is corrupt: {message}")]
    Corrupt {
        /// The spill directory.
        dir: PathBuf,
        /// What was wrong.
        message: String,
    },
}

/// How many changes of one operation on one table a buffer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableOpCount {
    /// The table.
    pub table: Arc<TableSchema>,
    /// The operation.
    pub op: Op,
    /// The number of changes.
    pub count: u64,
}

/// A transaction's row changes in binlog order.
#[derive(Debug)]
pub struct ChangeBuffer {
    policy: Arc<SpillPolicy>,
    memory: Vec<RowChange>,
    memory_bytes: usize,
    spill: Option<SpillFile>,
    len: usize,
    counts: Vec<TableOpCount>,
}

impl ChangeBuffer {
    /// An empty buffer that spills by `policy`.
    pub fn new(policy: Arc<SpillPolicy>) -> Self {
        Self {
            policy,
            memory: Vec::new(),
            memory_bytes: 0,
            spill: None,
            len: 0,
            counts: Vec::new(),
        }
    }

    /// Appends a change; may write the changes held so far to the spill file.
    pub fn push(&mut self, change: RowChange) -> Result<(), SpillError> {
        self.count(&change);
        let size = estimated_size(&change);
        self.memory_bytes += size;
        let total = self.policy.in_memory.fetch_add(size, Ordering::Relaxed) + size;
        self.memory.push(change);
        self.len += 1;
        let budget = self.policy.memory_budget;
        if self.memory_bytes > budget
            || (total > budget && self.memory_bytes >= SPILL_CHUNK.min(budget))
        {
            self.spill_memory()?;
        }
        Ok(())
    }

    fn count(&mut self, change: &RowChange) {
        let same =
            |c: &&mut TableOpCount| c.op == change.op && Arc::ptr_eq(&c.table, &change.table);
        match self.counts.iter_mut().rev().find(same) {
            Some(c) => c.count += 1,
            None => self.counts.push(TableOpCount {
                table: change.table.clone(),
                op: change.op,
                count: 1,
            }),
        }
    }

    /// The number of changes per table and operation, without reading spilled changes back.
    pub fn counts(&self) -> &[TableOpCount] {
        &self.counts
    }

    /// The number of changes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no changes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes written to the spill file (0 while everything fits in memory).
    pub fn spilled_bytes(&self) -> u64 {
        self.spill.as_ref().map_or(0, |s| s.len)
    }

    /// The changes in order: spilled ones are read back one at a time.
    pub fn iter(&self) -> ChangeIter<'_> {
        ChangeIter {
            buffer: self,
            spilled: self.spill.as_ref().map(|s| SpillReader {
                file: s,
                reader: BufReader::with_capacity(
                    64 * 1024,
                    PositionedReader {
                        file: &s.file,
                        offset: 0,
                        end: s.len,
                    },
                ),
                remaining: s.count,
            }),
            memory: self.memory.iter(),
            failed: false,
        }
    }

    /// All changes in a vector (for tests and small transactions).
    pub fn to_vec(&self) -> Result<Vec<RowChange>, SpillError> {
        self.iter().map(|c| c.map(Cow::into_owned)).collect()
    }

    /// Called once the transaction is complete: when the buffers of the policy hold more than
    /// the budget, this one's changes go to its file, however few, so that the transactions
    /// queued for publishing do not hold more than the budget between them.
    pub fn seal(&mut self) -> Result<(), SpillError> {
        if !self.memory.is_empty()
            && self.policy.in_memory.load(Ordering::Relaxed) > self.policy.memory_budget
        {
            self.spill_memory()?;
        }
        Ok(())
    }

    fn spill_memory(&mut self) -> Result<(), SpillError> {
        if self.spill.is_none() {
            self.spill = Some(SpillFile::create(&self.policy.dir)?);
        }
        let spill = self.spill.as_mut().expect("created above");
        let mut bytes = Vec::with_capacity(self.memory_bytes);
        for change in &self.memory {
            spill.encode(change, &mut bytes);
        }
        // Only once the file holds them do the changes leave memory.
        spill.write(&bytes, self.memory.len(), &self.policy.dir)?;
        self.memory.clear();
        self.release();
        Ok(())
    }

    /// Gives this buffer's memory back to the policy's budget.
    fn release(&mut self) {
        self.policy
            .in_memory
            .fetch_sub(self.memory_bytes, Ordering::Relaxed);
        self.memory_bytes = 0;
    }
}

impl Drop for ChangeBuffer {
    fn drop(&mut self) {
        self.release();
    }
}

impl From<Vec<RowChange>> for ChangeBuffer {
    /// An in-memory buffer of `changes`.
    fn from(changes: Vec<RowChange>) -> Self {
        let mut buffer = ChangeBuffer::new(Arc::new(SpillPolicy::unbounded()));
        for change in &changes {
            buffer.count(change);
        }
        buffer.len = changes.len();
        buffer.memory = changes;
        buffer
    }
}

impl PartialEq for ChangeBuffer {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len
            && self.iter().zip(other.iter()).all(|pair| match pair {
                (Ok(a), Ok(b)) => a == b,
                _ => false,
            })
    }
}

/// Iterates a [`ChangeBuffer`]: borrowed changes from memory, owned ones from the file.
pub struct ChangeIter<'a> {
    buffer: &'a ChangeBuffer,
    spilled: Option<SpillReader<'a>>,
    memory: std::slice::Iter<'a, RowChange>,
    failed: bool,
}

impl<'a> Iterator for ChangeIter<'a> {
    type Item = Result<Cow<'a, RowChange>, SpillError>;

    fn next(&mut self) -> Option<Self::Item> {
        // After an error the rest would be out of place: the iteration ends there.
        if self.failed {
            return None;
        }
        if let Some(spilled) = &mut self.spilled {
            if spilled.remaining > 0 {
                spilled.remaining -= 1;
                let dir = &self.buffer.policy.dir;
                let result = spilled.decode().map_err(|e| match e {
                    ReadError::Io(source) => SpillError::Io {
                        dir: dir.clone(),
                        source,
                    },
                    ReadError::Corrupt(message) => SpillError::Corrupt {
                        dir: dir.clone(),
                        message,
                    },
                });
                self.failed = result.is_err();
                return Some(result.map(Cow::Owned));
            }
        }
        self.memory.next().map(|c| Ok(Cow::Borrowed(c)))
    }
}

/// The memory a change takes: the structs, the capacity of every heap allocation, and 16 bytes
/// of allocator overhead per allocation (what glibc's malloc adds, rounded up).
fn estimated_size(change: &RowChange) -> usize {
    const ALLOCATION: usize = 16;
    let row = |r: &Option<Vec<Value>>| {
        r.as_ref().map_or(0, |values| {
            ALLOCATION
                + values.capacity() * std::mem::size_of::<Value>()
                + values
                    .iter()
                    .map(|v| match v {
                        Value::Decimal(s) | Value::Text(s) | Value::Temporal(s) => {
                            ALLOCATION + s.capacity()
                        }
                        Value::Bytes(b) | Value::UndecodedText(b) => ALLOCATION + b.capacity(),
                        Value::Json(j) => ALLOCATION + j.to_string().len(),
                        _ => 0,
                    })
                    .sum::<usize>()
        })
    };
    std::mem::size_of::<RowChange>() + row(&change.before) + row(&change.after)
}

/// The spill file and the shared values its records refer to by index.
#[derive(Debug)]
struct SpillFile {
    file: File,
    len: u64,
    count: usize,
    tables: Vec<Arc<TableSchema>>,
    strings: Vec<Arc<str>>,
}

impl SpillFile {
    fn create(dir: &std::path::Path) -> Result<Self, SpillError> {
        let io = |source| SpillError::Io {
            dir: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let file = tempfile::tempfile_in(dir).map_err(io)?;
        Ok(Self {
            file,
            len: 0,
            count: 0,
            tables: Vec::new(),
            strings: Vec::new(),
        })
    }

    /// Appends the encoding of `count` changes.
    fn write(
        &mut self,
        bytes: &[u8],
        count: usize,
        dir: &std::path::Path,
    ) -> Result<(), SpillError> {
        self.file
            .write_all_at(bytes, self.len)
            .map_err(|source| SpillError::Io {
                dir: dir.to_path_buf(),
                source,
            })?;
        self.len += bytes.len() as u64;
        self.count += count;
        Ok(())
    }

    fn intern_table(&mut self, table: &Arc<TableSchema>) -> u32 {
        let i = match self.tables.iter().position(|t| Arc::ptr_eq(t, table)) {
            Some(i) => i,
            None => {
                self.tables.push(table.clone());
                self.tables.len() - 1
            }
        };
        i as u32
    }

    fn intern_str(&mut self, s: &Arc<str>) -> u32 {
        let i = match self
            .strings
            .iter()
            .position(|t| Arc::ptr_eq(t, s) || t == s)
        {
            Some(i) => i,
            None => {
                self.strings.push(s.clone());
                self.strings.len() - 1
            }
        };
        i as u32
    }

    /// Appends one change's encoding to `out`.
    fn encode(&mut self, c: &RowChange, out: &mut Vec<u8>) {
        let table = self.intern_table(&c.table);
        let gtid = self.intern_str(&c.gtid);
        let file = self.intern_str(&c.file);
        for n in [
            table,
            gtid,
            file,
            c.event_index,
            c.row_index,
            c.server_id,
            c.ts_sec,
        ] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        out.extend_from_slice(&c.pos.to_le_bytes());
        out.push(match c.op {
            Op::Create => 0,
            Op::Update => 1,
            Op::Delete => 2,
            Op::Truncate => 3,
            Op::Read => 4,
        });
        encode_row(c.before.as_deref(), out);
        encode_row(c.after.as_deref(), out);
    }
}

fn encode_row(row: Option<&[Value]>, out: &mut Vec<u8>) {
    match row {
        None => out.push(0),
        Some(values) => {
            out.push(1);
            out.extend_from_slice(&(values.len() as u32).to_le_bytes());
            for v in values {
                encode_value(v, out);
            }
        }
    }
}

fn encode_value(v: &Value, out: &mut Vec<u8>) {
    let bytes = |tag: u8, b: &[u8], out: &mut Vec<u8>| {
        out.push(tag);
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        out.extend_from_slice(b);
    };
    match v {
        Value::Null => out.push(0),
        Value::Int(n) => {
            out.push(1);
            out.extend_from_slice(&n.to_le_bytes());
        }
        Value::UInt(n) => {
            out.push(2);
            out.extend_from_slice(&n.to_le_bytes());
        }
        Value::Float(f) => {
            out.push(3);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::Double(f) => {
            out.push(4);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::Decimal(s) => bytes(5, s.as_bytes(), out),
        Value::Text(s) => bytes(6, s.as_bytes(), out),
        Value::Bytes(b) => bytes(7, b, out),
        Value::UndecodedText(b) => bytes(8, b, out),
        Value::Temporal(s) => bytes(9, s.as_bytes(), out),
        Value::Json(j) => bytes(10, j.to_string().as_bytes(), out),
    }
}

/// Reads a file from an offset of its own, so that readers do not share a cursor.
struct PositionedReader<'a> {
    file: &'a File,
    offset: u64,
    end: u64,
}

impl Read for PositionedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = (self.end - self.offset).min(buf.len() as u64) as usize;
        let n = self.file.read_at(&mut buf[..left], self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}

enum ReadError {
    Io(std::io::Error),
    Corrupt(String),
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        ReadError::Io(e)
    }
}

struct SpillReader<'a> {
    file: &'a SpillFile,
    reader: BufReader<PositionedReader<'a>>,
    remaining: usize,
}

impl SpillReader<'_> {
    fn u8(&mut self) -> Result<u8, ReadError> {
        let mut b = [0u8; 1];
        self.reader.read_exact(&mut b)?;
        Ok(b[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ReadError> {
        let mut b = [0u8; N];
        self.reader.read_exact(&mut b)?;
        Ok(b)
    }

    fn u32(&mut self) -> Result<u32, ReadError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn bytes(&mut self) -> Result<Vec<u8>, ReadError> {
        let len = self.u32()? as usize;
        let mut b = vec![0u8; len];
        self.reader.read_exact(&mut b)?;
        Ok(b)
    }

    fn string(&mut self) -> Result<String, ReadError> {
        String::from_utf8(self.bytes()?).map_err(|_| ReadError::Corrupt("text is not UTF-8".into()))
    }

    fn decode(&mut self) -> Result<RowChange, ReadError> {
        let [table, gtid, file, event_index, row_index, server_id, ts_sec] =
            [(); 7].map(|_| self.u32());
        let pos = u64::from_le_bytes(self.array()?);
        let op = match self.u8()? {
            0 => Op::Create,
            1 => Op::Update,
            2 => Op::Delete,
            3 => Op::Truncate,
            4 => Op::Read,
            other => return Err(ReadError::Corrupt(format!("operation {other}"))),
        };
        let table = self
            .file
            .tables
            .get(table? as usize)
            .ok_or_else(|| ReadError::Corrupt("table index".into()))?
            .clone();
        let string = |i: u32| {
            self.file
                .strings
                .get(i as usize)
                .cloned()
                .ok_or_else(|| ReadError::Corrupt("string index".into()))
        };
        let (gtid, file) = (string(gtid?)?, string(file?)?);
        Ok(RowChange {
            table,
            op,
            before: self.row()?,
            after: self.row()?,
            gtid,
            event_index: event_index?,
            row_index: row_index?,
            file,
            pos,
            server_id: server_id?,
            ts_sec: ts_sec?,
        })
    }

    fn row(&mut self) -> Result<Option<Vec<Value>>, ReadError> {
        if self.u8()? == 0 {
            return Ok(None);
        }
        let n = self.u32()? as usize;
        let mut values = Vec::with_capacity(n.min(4096));
        for _ in 0..n {
            values.push(self.value()?);
        }
        Ok(Some(values))
    }

    fn value(&mut self) -> Result<Value, ReadError> {
        Ok(match self.u8()? {
            0 => Value::Null,
            1 => Value::Int(i64::from_le_bytes(self.array()?)),
            2 => Value::UInt(u64::from_le_bytes(self.array()?)),
            3 => Value::Float(f32::from_le_bytes(self.array()?)),
            4 => Value::Double(f64::from_le_bytes(self.array()?)),
            5 => Value::Decimal(self.string()?),
            6 => Value::Text(self.string()?),
            7 => Value::Bytes(self.bytes()?),
            8 => Value::UndecodedText(self.bytes()?),
            9 => Value::Temporal(self.string()?),
            10 => Value::Json(
                serde_json::from_str(&self.string()?)
                    .map_err(|e| ReadError::Corrupt(format!("JSON value: {e}")))?,
            ),
            other => return Err(ReadError::Corrupt(format!("value tag {other}"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(i: u32, table: &Arc<TableSchema>) -> RowChange {
        RowChange {
            table: table.clone(),
            op: if i.is_multiple_of(2) {
                Op::Create
            } else {
                Op::Update
            },
            before: (i % 2 == 1).then(|| vec![Value::UInt(u64::from(i)), Value::Null]),
            after: Some(vec![
                Value::UInt(u64::MAX - u64::from(i)),
                Value::Int(-i64::from(i)),
                Value::Float(1.5),
                Value::Double(-2.25),
                Value::Decimal("-1.50".into()),
                Value::Text(format!("tëxt {i}")),
                Value::Bytes(vec![0xff, 0, i as u8]),
                Value::UndecodedText(vec![0xe9]),
                Value::Temporal("2026-11-26T08:00:00Z".into()),
                Value::Json(serde_json::json!({"a": [i]})),
                Value::Null,
            ]),
            gtid: Arc::from("0-1-7"),
            event_index: i / 10,
            row_index: i % 10,
            file: Arc::from("bin.000001"),
            pos: 4 + u64::from(i),
            server_id: 1,
            ts_sec: 1_700_000_000 + i,
        }
    }

    fn table() -> Arc<TableSchema> {
        Arc::new(TableSchema::new(
            "wiki".into(),
            "revision".into(),
            vec!["rev_id".into()],
            vec![0],
        ))
    }

    #[test]
    fn counts_per_table_and_op_include_spilled_changes() {
        let dir = tempfile::tempdir().unwrap();
        let policy = Arc::new(SpillPolicy::new(4096, dir.path().join("spill")));
        let (t, other) = (table(), table());
        let mut buffer = ChangeBuffer::new(policy);
        for i in 0..101 {
            buffer.push(change(i, &t)).unwrap();
        }
        buffer.push(change(2, &other)).unwrap();
        assert!(buffer.spilled_bytes() > 0);
        let counts: Vec<(bool, Op, u64)> = buffer
            .counts()
            .iter()
            .map(|c| (Arc::ptr_eq(&c.table, &t), c.op, c.count))
            .collect();
        assert_eq!(
            counts,
            vec![
                (true, Op::Create, 51),
                (true, Op::Update, 50),
                (false, Op::Create, 1)
            ]
        );
    }

    #[test]
    fn spilled_changes_read_back_equal_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let policy = Arc::new(SpillPolicy::new(4096, dir.path().join("spill")));
        let t = table();
        let expected: Vec<RowChange> = (0..1000).map(|i| change(i, &t)).collect();
        let mut buffer = ChangeBuffer::new(policy);
        for c in &expected {
            buffer.push(c.clone()).unwrap();
        }
        assert!(buffer.spilled_bytes() > 0, "the budget was exceeded");
        assert!(buffer.memory.len() < 1000);
        assert_eq!(buffer.len(), 1000);
        // Twice: each reader has its own cursor.
        assert_eq!(buffer.to_vec().unwrap(), expected);
        let mut a = buffer.iter();
        let mut b = buffer.iter();
        assert_eq!(a.next().unwrap().unwrap().row_index, 0);
        assert_eq!(b.next().unwrap().unwrap().row_index, 0);
        assert_eq!(a.next().unwrap().unwrap().row_index, 1);
        assert!(Arc::ptr_eq(&buffer.to_vec().unwrap()[0].table, &t));
        assert_eq!(buffer, ChangeBuffer::from(expected));
    }

    #[test]
    fn buffers_share_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        let t = table();
        // Clones are what is pushed; their capacities are their lengths.
        let c = change(0, &t).clone();
        let one = estimated_size(&c);
        let policy = Arc::new(SpillPolicy::new(one * 3, dir.path().to_path_buf()));
        let mut queued = ChangeBuffer::new(policy.clone());
        for _ in 0..3 {
            queued.push(c.clone()).unwrap();
        }
        assert_eq!(queued.spilled_bytes(), 0, "within the budget");
        assert_eq!(policy.memory_in_use(), one * 3);
        let mut reading = ChangeBuffer::new(policy.clone());
        for _ in 0..2 {
            reading.push(c.clone()).unwrap();
        }
        // Together over the budget, but the growing buffer holds less than a chunk (here the
        // budget): it keeps its changes.
        assert_eq!(reading.spilled_bytes(), 0);
        assert_eq!(policy.memory_in_use(), one * 5);
        reading.push(c.clone()).unwrap();
        assert!(
            reading.spilled_bytes() > 0,
            "a full chunk over the shared budget is written"
        );
        assert_eq!(
            policy.memory_in_use(),
            one * 3,
            "the spilled changes left memory"
        );
        reading.push(c.clone()).unwrap();
        drop(queued);
        assert_eq!(policy.memory_in_use(), one);
        assert_eq!(reading.to_vec().unwrap(), vec![c; 4]);
        drop(reading);
        assert_eq!(policy.memory_in_use(), 0);
    }

    #[test]
    fn complete_transactions_over_the_budget_are_sealed_to_disk() {
        let dir = tempfile::tempdir().unwrap();
        let t = table();
        let c = change(0, &t).clone();
        let one = estimated_size(&c);
        let policy = Arc::new(SpillPolicy::new(one * 2, dir.path().to_path_buf()));
        let mut queued: Vec<ChangeBuffer> = Vec::new();
        for _ in 0..5 {
            let mut b = ChangeBuffer::new(policy.clone());
            b.push(c.clone()).unwrap();
            b.seal().unwrap();
            queued.push(b);
        }
        // The first two fit; each later one found the budget exceeded and went to disk.
        let spilled: Vec<bool> = queued.iter().map(|b| b.spilled_bytes() > 0).collect();
        assert_eq!(spilled, [false, false, true, true, true]);
        assert_eq!(policy.memory_in_use(), one * 2);
        assert!(queued
            .iter()
            .all(|b| b.to_vec().unwrap() == vec![c.clone()]));
    }

    #[test]
    fn within_budget_nothing_is_written() {
        let t = table();
        let mut buffer = ChangeBuffer::new(Arc::new(SpillPolicy::unbounded()));
        buffer.push(change(1, &t)).unwrap();
        assert_eq!(buffer.spilled_bytes(), 0);
        assert!(matches!(buffer.iter().next(), Some(Ok(Cow::Borrowed(_)))));
    }

    #[test]
    fn an_unusable_directory_is_an_error_naming_it() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut buffer = ChangeBuffer::new(Arc::new(SpillPolicy::new(0, file.path().join("sub"))));
        let e = buffer.push(change(1, &table())).unwrap_err();
        assert!(e.to_string().contains("sub"), "{e}");
    }
}
