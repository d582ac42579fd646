//! Creates that carry a `request_id` (AIP-155) are made once.
//!
//! A client that times out and retries `POST /v1/albums` must not get a second album
//! and a second bill. So a create may carry a UUID of the client's choosing, and each
//! service keeps, per client and id, what the first request was (a fingerprint) and,
//! once it succeeded, its reply. The pattern is zero-to-production's idempotency
//! table, in both of our databases:
//!
//! - [`RequestIds::begin`] reads the id's row first. A different request under it is
//!   [`IdempotencyError::Mismatch`] (`INVALID_ARGUMENT` naming `request_id`); a
//!   finished one is replayed from the stored reply, with no model called; a running
//!   one is waited for, by reading the row again, which works as well across replicas
//!   that share PostgreSQL as within one process. Only a new id, a row more than
//!   [`KEPT_FOR`] old, or an attempt whose lease has lapsed is claimed, with one
//!   `INSERT … ON CONFLICT` statement that checks the same again, so that of two
//!   replicas racing for it one wins. Waiters write nothing: they never queue behind
//!   the holder's renewals.
//! - A lease is short ([`LEASE`]) and the holder renews it while it works, so a holder
//!   that dies (`kill -9`, a lost machine) loses the id within [`LEASE`] and a retry on
//!   another replica takes over. A holder that cannot renew (its database connection
//!   stalls, the row was withdrawn) stops at once, before anyone else may take over:
//!   [`Claim::lost`] fires and the work (the provider's calls) is dropped, so that an
//!   order is paid for once. The holder's caller gets `ABORTED` (`CLAIM_LOST`).
//! - Every time here is the database's ([`Database::now`]): claiming, renewing and
//!   sweeping compare times other replicas wrote, and replicas' clocks disagree. A
//!   holder knows its lease holds [`LEASE`] after it *sent* the statement that set it,
//!   on its own monotonic clock, whatever the wall clocks say.
//! - The work stores its results and [`Claim::complete`] stores the reply in the same
//!   transaction, so the two commit together or not at all. A claim dropped without
//!   completing releases the id (the request failed: a retry may run it again).
//! - [`withdraw`] is for the song producer's own orders to the cover designer: an
//!   order withdrawn while it runs can no longer complete, and one already done hands
//!   back its reply, so that the caller can delete what it made in the same
//!   transaction.
//!
//! Ids are scoped per client (the name the gateway authenticated), so one client's id
//! says nothing about another's. Rows past [`KEPT_FOR`] are deleted by a background
//! task, in batches, off every request's path.

use std::{sync::Arc, time::Duration};
use superstar_proto::errors::{self, error};
use tonic::Code;

use prost::Message;
use sha2::{Digest, Sha256};
use sqlx::{Any, Row, Transaction};
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, DropGuard, WaitForCancellationFutureOwned};
use uuid::Uuid;

use crate::{
    calls::call_context::CallContext,
    serve::request_fields::{InvalidField, hyphenated_uuid},
    storage::db::Database,
};

/// How long a request id is remembered.
pub const KEPT_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// How long a claim holds without being renewed: a holder that dies loses its id this
/// long after its last renewal at most.
pub const LEASE: Duration = Duration::from_secs(6);

/// How often a holder renews its lease: three renewals fit in one, so a slow database
/// write does not cost the claim.
const RENEW_EVERY: Duration = Duration::from_secs(2);

/// How soon a renewal that failed is tried again, while the lease still holds.
const RENEW_AGAIN: Duration = Duration::from_millis(200);

/// How often rows past [`KEPT_FOR`] are swept away, and how many one statement deletes
/// (SQLite has one writer: a batch keeps each write short).
const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);
const SWEEP_BATCH: i64 = 500;

/// A client's request id: a UUID in its hyphenated form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId(Uuid);

impl RequestId {
    /// Parses the `request_id` field: empty means none was given.
    pub fn parse(value: &str) -> Result<Option<Self>, InvalidField> {
        if value.is_empty() {
            return Ok(None);
        }
        hyphenated_uuid(value)
            .map(|id| Some(Self(id)))
            .ok_or_else(|| {
                InvalidField::new(
                    "request_id",
                    "must be a UUID, e.g. 0b6c1d6e-3a6f-4c8e-9f41-2d3c6f0e8a11",
                )
            })
    }

    /// A fresh id, for a request this service makes itself.
    pub fn new_random() -> Self {
        Self(Uuid::new_v4())
    }

    /// An id derived from this one for `purpose`, the same every time: an order a
    /// request places under it is found again by a retry of that request, on any
    /// replica. (A UUID of version 8, from SHA-256 of the two.)
    pub fn derived(self, purpose: &str) -> Self {
        let hash = Sha256::new()
            .chain_update(self.0.as_bytes())
            .chain_update(purpose.as_bytes())
            .finalize();
        let mut bytes = [0; 16];
        bytes.copy_from_slice(&hash[..16]);
        Self(uuid::Builder::from_custom_bytes(bytes).into_uuid())
    }

    /// The id in its hyphenated form.
    pub fn to_field(self) -> String {
        self.0.hyphenated().to_string()
    }
}

/// What a request asked for: SHA-256 of the method's name and the request's encoding,
/// taken with its `request_id` field cleared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of `messages` sent to `method`. Clear each message's
    /// `request_id` first; prost encodes fields in a fixed order, so equal requests
    /// give equal bytes.
    pub fn of<'a, M: Message + 'a>(
        method: &str,
        messages: impl IntoIterator<Item = &'a M>,
    ) -> Self {
        let mut hash = Sha256::new();
        hash.update(method.as_bytes());
        for message in messages {
            // Length-prefixed, so that two messages never read as one.
            hash.update(message.encode_length_delimited_to_vec());
        }
        Self(hash.finalize().into())
    }
}

/// What a repeat of a create is known by: its request id, and the fingerprint of the
/// request that came with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestKey {
    id: RequestId,
    fingerprint: Fingerprint,
}

impl RequestKey {
    /// The key of a request made of several messages (a client stream).
    pub fn new(id: RequestId, fingerprint: Fingerprint) -> Self {
        Self { id, fingerprint }
    }

    /// Takes the `request_id` field (reached by `field`) out of `request`, and
    /// fingerprints what is left: `None` when the request carries no id.
    pub fn take<M: Message>(
        method: &str,
        request: &mut M,
        field: impl FnOnce(&mut M) -> &mut String,
    ) -> Result<Option<Self>, InvalidField> {
        let Some(id) = RequestId::parse(&std::mem::take(field(request)))? else {
            return Ok(None);
        };
        Ok(Some(Self::new(id, Fingerprint::of(method, [&*request]))))
    }
}

/// Why a request id cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    /// The id was used with a different request.
    #[error("request_id: already used with a different request; use a new id for a new request")]
    Mismatch,
    /// The order was withdrawn by the service that placed it.
    #[error("request_id: this order was withdrawn")]
    Withdrawn,
    /// The caller's deadline came while the first request with this id still ran.
    #[error("the first request with this request_id is still running")]
    StillRunning,
    /// The stored reply cannot be read back.
    #[error("the stored reply cannot be decoded: {0}")]
    Decode(#[from] prost::DecodeError),
    /// The database failed.
    #[error("storage failed: {0}")]
    Storage(#[from] sqlx::Error),
}

impl IdempotencyError {
    /// The status a client gets: a reused id is its mistake (`INVALID_ARGUMENT`, naming
    /// `request_id`); a first request still running past the deadline is
    /// `DEADLINE_EXCEEDED` (retry with the same id); storage trouble is ours.
    pub fn to_status(&self) -> tonic::Status {
        match self {
            Self::Mismatch => errors::invalid_field(
                "REQUEST_ID_REUSED",
                "request_id",
                "already used with a different request; use a new id for a new request",
            ),
            Self::Withdrawn => error(
                Code::FailedPrecondition,
                "ORDER_WITHDRAWN",
                self.to_string(),
            ),
            Self::StillRunning => error(
                Code::DeadlineExceeded,
                "REQUEST_STILL_RUNNING",
                self.to_string(),
            ),
            Self::Decode(_) | Self::Storage(_) => {
                tracing::error!(error = %self, "request id lookup failed");
                error(Code::Internal, "INTERNAL", "internal error")
            }
        }
    }
}

/// What [`RequestIds::begin`] found.
#[derive(Debug)]
pub enum Begun<R> {
    /// Do the work; with a request id, [`Claim::complete`] the claim on it.
    Fresh(Option<Claim>),
    /// The id's first request succeeded: this is its reply.
    Replay(R),
}

/// The request ids of one service. Cheap to clone: clones share the pools, and the
/// sweep runs while any clone lives.
#[derive(Debug, Clone)]
pub struct RequestIds {
    db: Database,
    _sweeping: Arc<DropGuard>,
}

/// The row of a taken id, as a repeat sees it, with the database's time of the read.
struct Taken {
    fingerprint: Vec<u8>,
    state: String,
    response: Option<Vec<u8>>,
    lease_until: i64,
    create_time: i64,
    now: i64,
}

impl Taken {
    /// Whether [`RequestIds::try_claim`] may take the row: the same conditions as its
    /// `WHERE`, so that a waiter writes only when the write can win.
    fn claimable(&self, fingerprint: &Fingerprint) -> bool {
        self.create_time < self.now - micros(KEPT_FOR)
            || (self.state == "running"
                && self.lease_until < self.now
                && self.fingerprint == fingerprint.0)
    }
}

impl RequestIds {
    /// Request ids kept in `db` (the table `request_ids` of the service's migrations).
    /// Starts the sweep: call it inside the runtime.
    pub fn new(db: Database) -> Self {
        let stop = CancellationToken::new();
        tokio::spawn(sweep(db.clone(), stop.clone()));
        Self {
            db,
            _sweeping: Arc::new(stop.drop_guard()),
        }
    }

    /// Claims `key` for the client of `context`, or finds what became of it: see the
    /// [module](self). Waits while another attempt runs it, until the caller's
    /// deadline. A request without a key is simply [`Begun::Fresh`].
    pub async fn begin<R: Message + Default>(
        &self,
        key: Option<RequestKey>,
        context: &CallContext,
    ) -> Result<Begun<R>, IdempotencyError> {
        let Some(RequestKey { id, fingerprint }) = key else {
            return Ok(Begun::Fresh(None));
        };
        let (client, give_up_at) = (context.client(), context.give_up_at());
        let id = id.to_field();
        let mut pause = Duration::from_millis(10);
        loop {
            match self.taken(client, &id).await? {
                Some(taken) if !taken.claimable(&fingerprint) => {
                    if taken.state == "withdrawn" {
                        return Err(IdempotencyError::Withdrawn);
                    }
                    if taken.fingerprint != fingerprint.0 {
                        return Err(IdempotencyError::Mismatch);
                    }
                    if let ("done", Some(response)) = (taken.state.as_str(), taken.response) {
                        return Ok(Begun::Replay(R::decode(&*response)?));
                    }
                    // Running elsewhere: wait for it to finish, fail, or lapse.
                    if give_up_at.is_some_and(|at| Instant::now() + pause >= at) {
                        return Err(IdempotencyError::StillRunning);
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(250));
                }
                // New, forgotten or lapsed: claim it, unless another attempt does first
                // (then the next read finds that attempt's row).
                _ => {
                    if let Some(claim) = self.try_claim(client, &id, &fingerprint).await? {
                        return Ok(Begun::Fresh(Some(claim)));
                    }
                }
            }
        }
    }

    /// One `INSERT … ON CONFLICT DO UPDATE … WHERE`: a new id, a forgotten one, or a
    /// lapsed attempt at the same request becomes ours.
    async fn try_claim(
        &self,
        client: &str,
        id: &str,
        fingerprint: &Fingerprint,
    ) -> Result<Option<Claim>, sqlx::Error> {
        let owner = Uuid::new_v4().to_string();
        let sent = Instant::now();
        let now = self.db.now();
        let claimed = sqlx::query(&format!(
            "INSERT INTO request_ids (client, request_id, fingerprint, state, owner, lease_until, response, create_time) \
             VALUES ($1, $2, $3, 'running', $4, {now} + $5, NULL, {now}) \
             ON CONFLICT (client, request_id) DO UPDATE SET \
               fingerprint = excluded.fingerprint, state = 'running', owner = excluded.owner, \
               lease_until = excluded.lease_until, response = NULL, create_time = excluded.create_time \
             WHERE request_ids.create_time < {now} - $6 \
                OR (request_ids.state = 'running' AND request_ids.lease_until < {now} \
                    AND request_ids.fingerprint = excluded.fingerprint)",
        ))
        .bind(client)
        .bind(id)
        .bind(fingerprint.0.to_vec())
        .bind(&owner)
        .bind(micros(LEASE))
        .bind(micros(KEPT_FOR))
        .execute(self.db.writes())
        .await?
        .rows_affected()
            == 1;
        Ok(claimed.then(|| {
            let row = ClaimRow {
                db: self.db.clone(),
                client: client.to_owned(),
                id: id.to_owned(),
                owner,
            };
            let (renewing, lost) = (CancellationToken::new(), CancellationToken::new());
            tokio::spawn(hold(row.clone(), sent, renewing.clone(), lost.clone()));
            Claim {
                row,
                settled: false,
                lost,
                _renewing: renewing.drop_guard(),
            }
        }))
    }

    async fn taken(&self, client: &str, id: &str) -> Result<Option<Taken>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT fingerprint, state, response, lease_until, create_time, {} AS now \
             FROM request_ids WHERE client = $1 AND request_id = $2",
            self.db.now()
        ))
        .bind(client)
        .bind(id)
        .fetch_optional(self.db.reads())
        .await?;
        row.map(|row| {
            Ok(Taken {
                fingerprint: row.try_get("fingerprint")?,
                state: row.try_get("state")?,
                response: row.try_get("response")?,
                lease_until: row.try_get("lease_until")?,
                create_time: row.try_get("create_time")?,
                now: row.try_get("now")?,
            })
        })
        .transpose()
    }
}

/// Deletes rows past [`KEPT_FOR`] every [`SWEEP_EVERY`], [`SWEEP_BATCH`] rows a
/// statement, until `stop`. A failure is logged and left for the next round.
async fn sweep(db: Database, stop: CancellationToken) {
    let statement = format!(
        "DELETE FROM request_ids WHERE (client, request_id) IN ( \
           SELECT client, request_id FROM request_ids \
           WHERE create_time < {now} - $1 AND (state <> 'running' OR lease_until < {now}) LIMIT $2)",
        now = db.now()
    );
    loop {
        let mut swept = 0;
        loop {
            let batch = sqlx::query(&statement)
                .bind(micros(KEPT_FOR))
                .bind(SWEEP_BATCH)
                .execute(db.writes());
            let deleted = tokio::select! {
                () = stop.cancelled() => return,
                deleted = batch => deleted,
            };
            match deleted {
                Ok(done) if done.rows_affected() > 0 => swept += done.rows_affected(),
                Ok(_) => break,
                Err(error) => {
                    tracing::warn!(%error, "sweeping old request ids failed");
                    break;
                }
            }
        }
        if swept > 0 {
            tracing::debug!(rows = swept, "old request ids swept");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(SWEEP_EVERY) => {}
        }
    }
}

/// Renews `claim`'s lease every [`RENEW_EVERY`] until `stop` (the claim settled or was
/// dropped). The lease is known to hold until [`LEASE`] after the statement that last
/// set it was sent (`sent`, on this process's monotonic clock): the database set it no
/// earlier. A renewal that fails is tried again while that holds; once it no longer
/// does, or the row is no longer this attempt's (withdrawn, or taken over), `lost` is
/// cancelled, and the work holding the claim stops before anyone may take it over.
async fn hold(claim: ClaimRow, sent: Instant, stop: CancellationToken, lost: CancellationToken) {
    let statement = format!(
        "UPDATE request_ids SET lease_until = {} + $1 \
         WHERE client = $2 AND request_id = $3 AND owner = $4 AND state = 'running'",
        claim.db.now()
    );
    let mut holds_until = sent + LEASE;
    let mut next = sent + RENEW_EVERY;
    let why = loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep_until(next) => {}
        }
        let sent = Instant::now();
        let renewal = sqlx::query(&statement)
            .bind(micros(LEASE))
            .bind(&claim.client)
            .bind(&claim.id)
            .bind(&claim.owner)
            .execute(claim.db.writes());
        let renewed = tokio::select! {
            () = stop.cancelled() => return,
            renewed = tokio::time::timeout_at(holds_until, renewal) => renewed,
        };
        match renewed {
            Ok(Ok(done)) if done.rows_affected() == 1 => {
                holds_until = sent + LEASE;
                next = sent + RENEW_EVERY;
            }
            Ok(Ok(_)) => break "the request id was withdrawn or taken over",
            Ok(Err(error)) if Instant::now() + RENEW_AGAIN < holds_until => {
                tracing::warn!(%error, "renewing a request id's lease failed; trying again");
                next = Instant::now() + RENEW_AGAIN;
            }
            Ok(Err(_)) | Err(_) => break "the lease could not be renewed before it lapsed",
        }
    };
    tracing::warn!(
        reason = why,
        "the request id's claim is lost; stopping its work"
    );
    lost.cancel();
}

/// A claim's row: the client, its id, and the attempt that owns it.
#[derive(Debug, Clone)]
struct ClaimRow {
    db: Database,
    client: String,
    id: String,
    owner: String,
}

/// A request id this attempt runs. Dropped without [`Claim::settle`] (the request
/// failed, or its caller went away), it releases the id in the background, so a
/// retry runs the request again.
#[derive(Debug)]
pub struct Claim {
    row: ClaimRow,
    settled: bool,
    /// Cancelled when this attempt can no longer prove it holds the id.
    lost: CancellationToken,
    /// Stops the renewal when the claim settles or is dropped.
    _renewing: DropGuard,
}

/// A claim that can no longer complete: the order was withdrawn, or the lease lapsed
/// and another attempt took the id over.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// The claim was lost while the attempt ran: the order was withdrawn, or the lease
    /// could not be renewed (and another attempt may take the id over).
    #[error(
        "request_id: this attempt lost its claim on the id (withdrawn, or its lease could \
         not be renewed) and stopped; retry with the same request_id for the order's outcome"
    )]
    Lost,
    /// The database failed.
    #[error("storage failed: {0}")]
    Storage(#[from] sqlx::Error),
}

impl Claim {
    /// The request id this attempt holds.
    pub fn request_id(&self) -> RequestId {
        RequestId(Uuid::parse_str(&self.row.id).expect("a claimed id is a UUID"))
    }

    /// A token cancelled once this attempt can no longer prove it holds the id: the work
    /// it guards must stop (see [`Claim::guard`]).
    pub fn lost(&self) -> CancellationToken {
        self.lost.clone()
    }

    /// Runs `work` while the claim holds: a claim lost meanwhile drops `work` (and the
    /// provider calls in it) at once and answers [`ClaimError::Lost`]. Without a claim
    /// (the request carried no id), `work` simply runs.
    pub async fn guard<T>(
        claim: Option<&Self>,
        work: impl Future<Output = T>,
    ) -> Result<T, ClaimError> {
        let lost: Option<WaitForCancellationFutureOwned> =
            claim.map(|claim| claim.lost.clone().cancelled_owned());
        let Some(lost) = lost else {
            return Ok(work.await);
        };
        tokio::select! {
            biased;
            () = lost => Err(ClaimError::Lost),
            done = work => Ok(done),
        }
    }

    /// Stores `reply` as the id's answer, in the transaction that stores the results,
    /// so that both commit or neither does. Call [`Claim::settle`] after the commit.
    pub async fn complete(
        &self,
        tx: &mut Transaction<'static, Any>,
        reply: &impl Message,
    ) -> Result<(), ClaimError> {
        let updated = sqlx::query(
            "UPDATE request_ids SET state = 'done', response = $1 \
             WHERE client = $2 AND request_id = $3 AND owner = $4 AND state = 'running'",
        )
        .bind(reply.encode_to_vec())
        .bind(&self.row.client)
        .bind(&self.row.id)
        .bind(&self.row.owner)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        match updated {
            1 => Ok(()),
            _ => Err(ClaimError::Lost),
        }
    }

    /// The transaction holding [`Claim::complete`] committed: nothing to release.
    pub fn settle(mut self) {
        self.settled = true;
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // no runtime left: the lease lapses instead
        };
        let ClaimRow {
            db,
            client,
            id,
            owner,
        } = self.row.clone();
        runtime.spawn(async move {
            let released = sqlx::query(
                "DELETE FROM request_ids WHERE client = $1 AND request_id = $2 AND owner = $3 AND state = 'running'",
            )
            .bind(client)
            .bind(id)
            .bind(owner)
            .execute(db.writes())
            .await;
            if let Err(error) = released {
                tracing::warn!(%error, "releasing a request id failed; its lease will lapse");
            }
        });
    }
}

/// Withdraws `client`'s order `id` inside `tx`, a transaction on `db`: a running attempt can no longer
/// complete, and a later request with the id is refused. Returns the stored reply if
/// the order had already completed, so that the caller deletes what it made in the
/// same transaction.
///
/// One `UPDATE … RETURNING` decides: on PostgreSQL the row lock orders it against the
/// attempt's [`Claim::complete`], so either the attempt completed first (and its reply
/// comes back here) or it finds the order withdrawn and rolls back.
pub async fn withdraw(
    db: &Database,
    tx: &mut Transaction<'static, Any>,
    client: &str,
    id: RequestId,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    let id = id.to_field();
    loop {
        // Withdrawing twice hands the reply back twice; deleting what it names again
        // deletes nothing.
        let row = sqlx::query(
            "UPDATE request_ids SET state = 'withdrawn' WHERE client = $1 AND request_id = $2 \
             RETURNING response",
        )
        .bind(client)
        .bind(&id)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(row) = row {
            return row.try_get("response");
        }
        // Never received: leave a withdrawn row, so that an order arriving late is
        // refused. If an attempt claimed the id in between, withdraw that.
        let inserted = sqlx::query(
            &format!(
                "INSERT INTO request_ids (client, request_id, fingerprint, state, owner, lease_until, response, create_time) \
                 VALUES ($1, $2, $3, 'withdrawn', '', 0, NULL, {}) ON CONFLICT (client, request_id) DO NOTHING",
                db.now()
            ),
        )
        .bind(client)
        .bind(&id)
        .bind(Vec::<u8>::new())
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(None);
        }
    }
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}
