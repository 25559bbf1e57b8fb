//! The simulated clock: every timestamp the generator writes comes from it, never from the
//! wall clock, so that the same seed gives the same rows.

use chrono::{DateTime, TimeDelta, Utc};
use rand::{rngs::StdRng, Rng};

/// 2026-01-01T00:00:00Z, where the simulated clock starts.
const START_UNIX_SECS: i64 = 1_767_225_600;

/// A point in simulated time, with one-second precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ts(DateTime<Utc>);

impl Ts {
    /// MediaWiki's `YYYYMMDDHHMMSS` form, as stored in `BINARY(14)` columns.
    pub fn mw(self) -> String {
        self.0.format("%Y%m%d%H%M%S").to_string()
    }

    /// RFC 3339 in UTC with `Z`, seconds precision, as in the records' `entity_ts`.
    pub fn rfc3339(self) -> String {
        self.0.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// This point moved `secs` seconds later.
    pub fn plus_secs(self, secs: i64) -> Ts {
        Ts(self.0 + TimeDelta::seconds(secs))
    }
}

/// Simulated time that advances 1 to 10 seconds (seeded) per operation.
pub struct Clock {
    now: Ts,
}

impl Clock {
    /// A clock at 2026-01-01T00:00:00Z.
    pub fn at_start() -> Self {
        Clock {
            now: Ts(DateTime::UNIX_EPOCH + TimeDelta::seconds(START_UNIX_SECS)),
        }
    }

    /// Advances the clock for the next operation and returns the new time.
    pub fn advance(&mut self, rng: &mut StdRng) -> Ts {
        self.now = self.now.plus_secs(rng.random_range(1..=10));
        self.now
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn starts_at_2026_and_formats_both_ways() {
        let start = Clock::at_start().now;
        assert_eq!(start.mw(), "20260101000000");
        assert_eq!(start.rfc3339(), "2026-01-01T00:00:00Z");
        assert_eq!(start.plus_secs(86_400 + 5).mw(), "20260102000005");
    }

    #[test]
    fn advances_one_to_ten_seconds() {
        let mut clock = Clock::at_start();
        let mut rng = StdRng::seed_from_u64(1);
        let mut last = clock.now;
        for _ in 0..100 {
            let now = clock.advance(&mut rng);
            assert!(now > last && now <= last.plus_secs(10));
            last = now;
        }
    }
}
