//! Which partition a record goes to: Kafka's default partitioner for keyed records (the Java
//! client's, librdkafka's `murmur2_random`), partition 0 for records without a key.
//!
//! Exactly-once mode sets each record's partition itself, so that a replay compares a record
//! with the end of the very partition it was written to.

/// Kafka's murmur2 hash of `data` (`org.apache.kafka.common.utils.Utils.murmur2`).
pub fn murmur2(data: &[u8]) -> u32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    // Kafka hashes the length as a Java int.
    let mut h = SEED ^ (data.len() as u32);
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if let Some(&first) = tail.first() {
        h ^= u32::from(first);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

/// The partition of a record with `key` in a topic of `partitions` partitions (at least 1).
pub fn partition_for(key: Option<&[u8]>, partitions: usize) -> usize {
    match key {
        Some(key) => (murmur2(key) & 0x7fff_ffff) as usize % partitions.max(1),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur2_matches_kafkas_test_vectors() {
        // From Kafka's UtilsTest.testMurmur2 (Java ints).
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            (b"abc", 479_470_107),
        ];
        for (data, expected) in cases {
            assert_eq!(
                murmur2(data) as i32,
                expected,
                "{}",
                String::from_utf8_lossy(data)
            );
        }
    }

    #[test]
    fn records_without_a_key_go_to_partition_zero() {
        assert_eq!(partition_for(None, 12), 0);
        assert!(partition_for(Some(b"enwiki:1"), 12) < 12);
        assert_eq!(partition_for(Some(b"enwiki:1"), 1), 0);
    }
}
