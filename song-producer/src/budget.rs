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
//! What is charged is what the client asks for: one call per song and per cover. The
//! extra calls made to get one of them are not: a provider's retries after a 429 or a
//! 5xx (`OPENAI_MAX_ATTEMPTS` in all), one re-ask of a reply cut at the token limit, the
//! text-format fallback. They come from the provider's trouble or ours, not from the
//! client's request, and each is bounded per song; the usage metrics count every one of
//! them (`superstar_model_calls_total`), so that what a provider bills can be read.
//!
//! Covers a client asks the cover designer for directly are one request, one call:
//! the gateway's model bucket counts them exactly.
//!
//! Both kinds of budget are GCRA (the generic cell rate algorithm): one timestamp per
//! client, the theoretical time its next call may arrive, pushed forward by each call.
//! - A single process (SQLite) keeps them in memory, in [`governor`]'s keyed limiter.
//! - Replicas sharing PostgreSQL keep them in its `model_budgets` table, one row per
//!   client, checked and pushed forward in one statement per request, on the
//!   database's clock, so that a client whose requests the gateway spreads over N
//!   replicas still has one budget, not N, however their clocks disagree.
//!
//! Clients are the gateway's configured ones, so either holds a handful of entries.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use governor::{
    Quota, RateLimiter, clock::Clock, middleware::NoOpMiddleware,
    state::keyed::DefaultKeyedStateStore,
};
use superstar_server::storage::db::Database;

use crate::{domain::SongsCount, error::Error};

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

/// governor's clock, read from tokio's: the machine's monotonic clock in a service, and
/// one a test can pause and move on (`tokio::time::pause`, `advance`). governor's own
/// clocks read the machine's directly, which no test controls.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    type Instant = std::time::Instant;

    fn now(&self) -> Self::Instant {
        tokio::time::Instant::now().into_std()
    }
}

/// One GCRA cell per client, on tokio's clock.
type KeyedLimiter = RateLimiter<
    String,
    DefaultKeyedStateStore<String>,
    TokioClock,
    NoOpMiddleware<std::time::Instant>,
>;

/// Every client's budget. Cheap to clone: clones share the buckets.
#[derive(Clone)]
pub enum ModelBudget {
    /// In this process.
    Local {
        /// One GCRA cell per client.
        limiter: Arc<KeyedLimiter>,
    },
    /// In the database every replica shares.
    Shared {
        /// PostgreSQL.
        database: Database,
        /// Microseconds one call pushes the client's time forward: 1 / the rate.
        call_micros: i64,
        /// How far ahead of now a client's time may run: the burst's worth of calls.
        capacity_micros: i64,
    },
}

/// The bucket's size: the burst, but never less than the largest request.
fn burst(settings: BudgetSettings) -> NonZeroU32 {
    settings
        .burst
        .max(NonZeroU32::new(LARGEST_REQUEST).expect("not zero"))
}

impl ModelBudget {
    /// Budgets of `settings` for every client, in this process.
    pub fn new(settings: BudgetSettings) -> Self {
        let quota = Quota::per_second(settings.per_second).allow_burst(burst(settings));
        Self::Local {
            limiter: Arc::new(RateLimiter::new(
                quota,
                DefaultKeyedStateStore::default(),
                TokioClock,
            )),
        }
    }

    /// Budgets of `settings` for every client, kept in `database` (PostgreSQL) and
    /// shared by every replica that uses it.
    pub fn shared(settings: BudgetSettings, database: Database) -> Self {
        // A microsecond at least: a rate above a million calls a second is no budget.
        let call_micros = (1_000_000 / i64::from(settings.per_second.get())).max(1);
        Self::Shared {
            database,
            call_micros,
            capacity_micros: call_micros * i64::from(burst(settings).get()),
        }
    }

    /// Takes `calls` from `client`'s budget, all or none.
    pub async fn spend(&self, client: &str, calls: u32) -> Result<(), Error> {
        let Some(n) = NonZeroU32::new(calls) else {
            return Ok(());
        };
        let over = |retry_after| Error::OverBudget(OverBudget { calls, retry_after });
        match self {
            Self::Local { limiter } => match limiter.check_key_n(&client.to_owned(), n) {
                Ok(Ok(())) => Ok(()),
                Ok(Err(not_until)) => Err(over(not_until.wait_time_from(TokioClock.now()))),
                // More than the bucket holds: cannot happen for requests the contract
                // allows (see LARGEST_REQUEST); refuse as if it were spent.
                Err(_) => Err(over(Duration::from_secs(1))),
            },
            Self::Shared {
                database,
                call_micros,
                capacity_micros,
            } => {
                let cost = call_micros * i64::from(calls);
                if cost > *capacity_micros {
                    // More than the bucket holds, as above.
                    return Err(over(Duration::from_secs(1)));
                }
                // The client's time moves to max(its time, now) + cost, unless that
                // would put it more than the bucket's capacity ahead of now: then the
                // row is left alone and nothing comes back. "Now" is the database's,
                // one clock for every replica (a replica whose clock ran ahead would
                // push the client's time past what the others allow).
                let spent: Option<i64> = sqlx::query_scalar(&format!(
                    "INSERT INTO model_budgets (client, tat) VALUES ($1, {now} + $2) \
                     ON CONFLICT (client) DO UPDATE \
                     SET tat = GREATEST(model_budgets.tat, {now}) + $2 \
                     WHERE GREATEST(model_budgets.tat, {now}) + $2 - $3 <= {now} \
                     RETURNING tat",
                    now = database.now()
                ))
                .bind(client)
                .bind(cost)
                .bind(*capacity_micros)
                .fetch_optional(database.writes())
                .await?;
                if spent.is_some() {
                    return Ok(());
                }
                let (tat, now): (i64, i64) = sqlx::query_as(&format!(
                    "SELECT tat, {} FROM model_budgets WHERE client = $1",
                    database.now()
                ))
                .bind(client)
                .fetch_one(database.reads())
                .await?;
                let wait = tat.max(now) + cost - capacity_micros - now;
                Err(over(Duration::from_micros(
                    u64::try_from(wait).unwrap_or(0),
                )))
            }
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
