//! Each client's model-call budget: every song written and every cover ordered costs
//! one call, inside streams too, where the gateway cannot see them.
//!
//! The gateway's model bucket counts *requests* and sheds floods at the edge; this
//! budget counts the *calls* those requests make (an album of ten songs is eleven: ten
//! songs and its cover; each take of a `Jam` is one). Both are token buckets of
//! `MODEL_RATE_PER_SECOND` and `MODEL_BURST`, one per client, keyed by the client's
//! name that the gateway forwards. A request is charged all its calls before the first
//! one is made, all or nothing: refused, it has cost nothing and stored nothing. A
//! `Jam` is charged take by take.
//!
//! So that the largest request can ever pass, the bucket holds at least
//! [`LARGEST_REQUEST`] calls even when `MODEL_BURST` is smaller.
//!
//! Covers a client asks the cover designer for directly are one request, one call:
//! the gateway's model bucket counts them exactly.
//!
//! With several replicas each keeps its own buckets, so a client can reach up to that
//! many times its budget when the gateway spreads its requests over them; the gateway's
//! bucket, one per gateway, still holds its requests to the budget.
//!
//! [`governor`]'s keyed limiter (GCRA) keeps one timestamp per client; clients are
//! the gateway's configured ones.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};

use crate::domain::SongsCount;

/// The most calls one request makes: the largest album, and its cover.
pub const LARGEST_REQUEST: u32 = SongsCount::MAX as u32 + 1;

/// A budget a request went over.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "model-call budget spent: this needs {calls} model call(s); retry in {:.1} s",
    retry_after.as_secs_f64()
)]
pub struct OverBudget {
    /// How many calls the request needed.
    pub calls: u32,
    /// How long until the budget holds them.
    pub retry_after: Duration,
}

/// Calls a second and the bucket's size, per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetSettings {
    /// `MODEL_RATE_PER_SECOND`, default 2.
    pub per_second: NonZeroU32,
    /// `MODEL_BURST`, default 10 (raised to [`LARGEST_REQUEST`] here).
    pub burst: NonZeroU32,
}

impl Default for BudgetSettings {
    fn default() -> Self {
        Self {
            per_second: NonZeroU32::new(2).expect("2 is not zero"),
            burst: NonZeroU32::new(10).expect("10 is not zero"),
        }
    }
}

/// Every client's budget. Cheap to clone: clones share the buckets.
#[derive(Clone)]
pub struct ModelBudget {
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl ModelBudget {
    /// Budgets of `settings` for every client.
    pub fn new(settings: BudgetSettings) -> Self {
        let burst = settings
            .burst
            .max(NonZeroU32::new(LARGEST_REQUEST).expect("not zero"));
        let quota = Quota::per_second(settings.per_second).allow_burst(burst);
        Self {
            limiter: Arc::new(RateLimiter::keyed(quota)),
            clock: DefaultClock::default(),
        }
    }

    /// Takes `calls` from `client`'s budget, all or none.
    pub fn spend(&self, client: &str, calls: u32) -> Result<(), OverBudget> {
        let Some(n) = NonZeroU32::new(calls) else {
            return Ok(());
        };
        match self.limiter.check_key_n(&client.to_owned(), n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(OverBudget {
                calls,
                retry_after: not_until.wait_time_from(self.clock.now()),
            }),
            // More than the bucket holds: cannot happen for requests the contract
            // allows (see LARGEST_REQUEST); refuse as if it were spent.
            Err(_) => Err(OverBudget {
                calls,
                retry_after: Duration::from_secs(1),
            }),
        }
    }
}

impl std::fmt::Debug for ModelBudget {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ModelBudget")
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(per_second: u32, burst: u32) -> ModelBudget {
        ModelBudget::new(BudgetSettings {
            per_second: NonZeroU32::new(per_second).unwrap(),
            burst: NonZeroU32::new(burst).unwrap(),
        })
    }

    #[test]
    fn each_client_has_its_own_budget() {
        let budget = budget(1, 12);
        budget.spend("alice", 12).unwrap();
        let refused = budget.spend("alice", 1).unwrap_err();
        assert!(
            refused.retry_after > Duration::ZERO && refused.retry_after <= Duration::from_secs(1)
        );
        budget.spend("bob", 12).unwrap();
    }

    #[test]
    fn a_request_is_charged_all_or_nothing() {
        let budget = budget(1, 12);
        budget.spend("alice", 8).unwrap();
        let refused = budget.spend("alice", 5).unwrap_err();
        assert_eq!(refused.calls, 5);
        assert!(refused.to_string().contains("retry in"), "{refused}");
        // The refused request took nothing: the four left are still there.
        budget.spend("alice", 4).unwrap();
    }

    #[test]
    fn the_largest_album_fits_a_smaller_burst() {
        budget(2, 1).spend("alice", LARGEST_REQUEST).unwrap();
    }
}
