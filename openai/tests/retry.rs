//! The retry loop: what is retried, how often, how long it waits, and never past the
//! deadline.

use std::{
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use superstar_openai::{ProviderError, RetryPolicy};
use tokio::time::Instant;

fn fast(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        first_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(4),
    }
}

fn later() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

#[test]
fn backoff_doubles_within_jitter_and_stops_at_the_cap() {
    let policy = RetryPolicy::default();
    for retry in 1..=8 {
        let full = (Duration::from_millis(250) * (1 << (retry - 1))).min(Duration::from_secs(8));
        let wait = policy.backoff(retry);
        assert!(
            wait >= full / 2 && wait <= full,
            "retry {retry}: {wait:?} vs {full:?}"
        );
    }
    assert!(policy.backoff(60) <= Duration::from_secs(8));
}

#[tokio::test]
async fn outages_are_retried_until_one_attempt_succeeds() {
    let calls = AtomicU32::new(0);
    let result = fast(4)
        .run(later(), || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(ProviderError::Unavailable("HTTP 503".into())),
                _ => Ok("song"),
            }
        })
        .await;
    assert_eq!(result.unwrap(), "song");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn attempts_are_bounded() {
    let calls = AtomicU32::new(0);
    let result: Result<(), _> = fast(3)
        .run(later(), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ProviderError::Unavailable("HTTP 500".into()))
        })
        .await;
    assert!(matches!(result, Err(ProviderError::Unavailable(_))));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn failures_retrying_cannot_mend_are_not_retried() {
    for error in [
        ProviderError::QuotaExhausted,
        ProviderError::Rejected,
        ProviderError::Malformed("not JSON".into()),
    ] {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = fast(4)
            .run(later(), || {
                calls.fetch_add(1, Ordering::SeqCst);
                let error = error.clone();
                async move { Err(error) }
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1, "{error:?}");
    }
}

/// On tokio's paused clock: what is measured is the time the policy waits, not how
/// busy the machine is.
#[tokio::test(start_paused = true)]
async fn a_wait_past_the_deadline_is_not_begun() {
    let calls = AtomicU32::new(0);
    let started = Instant::now();
    let result: Result<(), _> = fast(4)
        .run(Instant::now() + Duration::from_secs(2), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ProviderError::RateLimited {
                retry_after: Some(Duration::from_secs(30)),
            })
        })
        .await;
    assert!(matches!(result, Err(ProviderError::RateLimited { .. })));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn a_slow_attempt_ends_at_the_deadline() {
    let started = Instant::now();
    let result: Result<(), _> = fast(4)
        .run(Instant::now() + Duration::from_millis(100), || async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(())
        })
        .await;
    assert!(matches!(result, Err(ProviderError::DeadlineExceeded)));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(100) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}
