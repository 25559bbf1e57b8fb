//! The exponential backoff every reconnect and retry waits by: from a first delay, doubling
//! up to a longest one, back to the first once an attempt made progress.

#![warn(missing_docs)]

use std::time::Duration;

use tracing::warn;

/// The waits between attempts: `min`, then twice the last, at most `max`.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    delay: Duration,
}

impl Backoff {
    /// Waits from `min`, doubling up to `max`.
    pub fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max,
            delay: min,
        }
    }

    /// The wait before the next attempt.
    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// The wait before the next attempt, the one after it doubled.
    pub fn advance(&mut self) -> Duration {
        let delay = self.delay;
        self.delay = (delay * 2).min(self.max);
        delay
    }

    /// Back to the first wait (an attempt made progress).
    pub fn reset(&mut self) {
        self.delay = self.min;
    }
}

/// Runs `attempt` again while it fails with an error `retry` accepts, warning `message` with
/// the error each time and waiting by `backoff`. Another error, or success, is returned.
pub async fn retry<T, E: std::fmt::Display>(
    message: &str,
    mut backoff: Backoff,
    retry: impl Fn(&E) -> bool,
    mut attempt: impl AsyncFnMut() -> Result<T, E>,
) -> Result<T, E> {
    loop {
        match attempt().await {
            Err(e) if retry(&e) => {
                warn!(error = %e, retry_in = ?backoff.delay(), "{message}");
                tokio::time::sleep(backoff.advance()).await;
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_longest_and_start_again_after_a_reset() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(5));
        let waits: Vec<u64> = (0..5).map(|_| backoff.advance().as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 5, 5]);
        assert_eq!(backoff.delay(), Duration::from_secs(5));
        backoff.reset();
        assert_eq!(backoff.advance(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_waits_out_accepted_errors_and_returns_others() {
        let mut attempts = 0;
        let backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(2));
        let result: Result<u32, String> = retry(
            "waiting",
            backoff.clone(),
            |e: &String| e == "again",
            async || {
                attempts += 1;
                if attempts < 4 {
                    Err("again".to_string())
                } else {
                    Ok(attempts)
                }
            },
        )
        .await;
        assert_eq!(result, Ok(4));
        let started = tokio::time::Instant::now();
        let result: Result<u32, String> = retry(
            "waiting",
            backoff,
            |e: &String| e == "again",
            async || Err("fatal".to_string()),
        )
        .await;
        assert_eq!(result, Err("fatal".to_string()));
        assert_eq!(
            started.elapsed(),
            Duration::ZERO,
            "a definite error is not waited on"
        );
    }
}
