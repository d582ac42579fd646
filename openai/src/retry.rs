//! Retrying provider calls within the request's deadline.

use std::{future::Future, time::Duration};

use rand::Rng;
use tokio::time::Instant;

use super::ProviderError;

/// How failed provider calls are retried: rate limits (429) and outages (5xx, broken
/// connections), with exponential backoff and jitter, or after the wait the provider
/// asked for in `Retry-After`. A wait that would end past the deadline is not begun:
/// the caller hears the failure at once instead of a deadline later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (at least 1).
    pub attempts: u32,
    /// The wait before the first retry, before jitter; it doubles with each retry.
    pub first_backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            first_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// Runs `attempt` until it succeeds, fails in a way retrying cannot mend, has been
    /// tried [`attempts`](Self::attempts) times, or the deadline does not leave room
    /// for the next wait. Each attempt is cut off at `deadline` with
    /// [`ProviderError::DeadlineExceeded`].
    pub async fn run<T, F, Fut>(
        &self,
        deadline: Instant,
        mut attempt: F,
    ) -> Result<T, ProviderError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let mut tried = 0;
        loop {
            tried += 1;
            let error = match tokio::time::timeout_at(deadline, attempt()).await {
                Err(_) => return Err(ProviderError::DeadlineExceeded),
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(error)) => error,
            };
            if !error.is_retryable() || tried >= self.attempts {
                return Err(error);
            }
            let wait = error.retry_after().unwrap_or_else(|| self.backoff(tried));
            if Instant::now() + wait >= deadline {
                tracing::info!(attempt = tried, wait_ms = wait.as_millis() as u64, %error, "not retrying: the deadline comes first");
                return Err(error);
            }
            tracing::info!(attempt = tried, wait_ms = wait.as_millis() as u64, %error, "retrying the model provider");
            tokio::time::sleep(wait).await;
        }
    }

    /// The wait after the `retry`-th failure (from 1): `first_backoff · 2^(retry-1)`,
    /// capped at `max_backoff`, of which a random half is taken off ("equal jitter"),
    /// so that clients that failed together do not come back together.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(16);
        let full = self
            .first_backoff
            .saturating_mul(1 << exponent)
            .min(self.max_backoff);
        let half = full / 2;
        let jitter = rand::rng().random_range(0..=half.as_micros() as u64);
        half + Duration::from_micros(jitter)
    }
}
