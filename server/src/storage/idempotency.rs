//! Creates that carry a `request_id` (AIP-155) are made once.
//!
//! A client that times out and retries `POST /v1/albums` must not get a second album
//! and a second bill. So a create may carry a UUID of the client's choosing, and each
//! service keeps, per client and id, what the first request was (a fingerprint) and,
//! once it succeeded, its reply. The pattern is zero-to-production's idempotency
//! table, in both of our databases:
//!
//! - [`RequestIds::begin`] claims the id with one `INSERT … ON CONFLICT` statement. The
//!   claim wins when the id is new, when its row is more than [`KEPT_FOR`] old, or when
//!   the attempt running it has let its lease lapse. A lease is short ([`LEASE`]) and
//!   the holder renews it while it works, so a holder that dies (`kill -9`, a lost
//!   machine) loses the id within [`LEASE`] and a retry on another replica takes over.
//! - Otherwise the id is taken: a different request under it is
//!   [`IdempotencyError::Mismatch`] (`INVALID_ARGUMENT` naming `request_id`); a
//!   finished one is replayed from the stored reply, with no model called; a running
//!   one is waited for, by polling the row, which works as well across replicas that
//!   share PostgreSQL as within one process.
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
use tokio_util::sync::{CancellationToken, DropGuard};
use uuid::Uuid;

use crate::{
    calls::call_context::CallContext,
    serve::request_fields::{InvalidField, hyphenated_uuid},
    storage::db::{self, Database},
};

/// How long a request id is remembered.
pub const KEPT_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// How long a claim holds without being renewed: a holder that dies loses its id this
/// long after its last renewal at most.
pub const LEASE: Duration = Duration::from_secs(6);

/// How often a holder renews its lease: three renewals fit in one, so a slow database
/// write does not cost the claim.
const RENEW_EVERY: Duration = Duration::from_secs(2);

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

/// The row of a taken id, as a repeat sees it.
struct Taken {
    fingerprint: Vec<u8>,
    state: String,
    response: Option<Vec<u8>>,
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
            if let Some(claim) = self.try_claim(client, &id, &fingerprint).await? {
                return Ok(Begun::Fresh(Some(claim)));
            }
            let Some(taken) = self.taken(client, &id).await? else {
                continue; // released a moment ago: claim it
            };
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
    }

    /// One `INSERT … ON CONFLICT DO UPDATE … WHERE`: a new id, a forgotten one, or a
    /// lapsed attempt at the same request becomes ours.
    async fn try_claim(
        &self,
        client: &str,
        id: &str,
        fingerprint: &Fingerprint,
    ) -> Result<Option<Claim>, sqlx::Error> {
        let now = db::now_micros();
        let owner = Uuid::new_v4().to_string();
        let claimed = sqlx::query(
            "INSERT INTO request_ids (client, request_id, fingerprint, state, owner, lease_until, response, create_time) \
             VALUES ($1, $2, $3, 'running', $4, $5, NULL, $6) \
             ON CONFLICT (client, request_id) DO UPDATE SET \
               fingerprint = excluded.fingerprint, state = 'running', owner = excluded.owner, \
               lease_until = excluded.lease_until, response = NULL, create_time = excluded.create_time \
             WHERE request_ids.create_time < $7 \
                OR (request_ids.state = 'running' AND request_ids.lease_until < $6 \
                    AND request_ids.fingerprint = excluded.fingerprint)",
        )
        .bind(client)
        .bind(id)
        .bind(fingerprint.0.to_vec())
        .bind(&owner)
        .bind(now + micros(LEASE))
        .bind(now)
        .bind(now - micros(KEPT_FOR))
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
            let renewing = CancellationToken::new();
            tokio::spawn(renew(row.clone(), renewing.clone()));
            Claim {
                row,
                settled: false,
                _renewing: renewing.drop_guard(),
            }
        }))
    }

    async fn taken(&self, client: &str, id: &str) -> Result<Option<Taken>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT fingerprint, state, response FROM request_ids WHERE client = $1 AND request_id = $2",
        )
        .bind(client)
        .bind(id)
        .fetch_optional(self.db.reads())
        .await?;
        row.map(|row| {
            Ok(Taken {
                fingerprint: row.try_get("fingerprint")?,
                state: row.try_get("state")?,
                response: row.try_get("response")?,
            })
        })
        .transpose()
    }
}

/// Deletes rows past [`KEPT_FOR`] every [`SWEEP_EVERY`], [`SWEEP_BATCH`] rows a
/// statement, until `stop`. A failure is logged and left for the next round.
async fn sweep(db: Database, stop: CancellationToken) {
    loop {
        let now = db::now_micros();
        let mut swept = 0;
        loop {
            let batch = sqlx::query(
                "DELETE FROM request_ids WHERE (client, request_id) IN ( \
                   SELECT client, request_id FROM request_ids \
                   WHERE create_time < $1 AND (state <> 'running' OR lease_until < $2) LIMIT $3)",
            )
            .bind(now - micros(KEPT_FOR))
            .bind(now)
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
/// dropped), or until the row is no longer its own (withdrawn, or taken over after a
/// stall longer than the lease): then [`Claim::complete`] will find it lost.
async fn renew(claim: ClaimRow, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(RENEW_EVERY) => {}
        }
        let renewed = sqlx::query(
            "UPDATE request_ids SET lease_until = $1 \
             WHERE client = $2 AND request_id = $3 AND owner = $4 AND state = 'running'",
        )
        .bind(db::now_micros() + micros(LEASE))
        .bind(&claim.client)
        .bind(&claim.id)
        .bind(&claim.owner)
        .execute(claim.db.writes());
        let renewed = tokio::select! {
            () = stop.cancelled() => return,
            renewed = renewed => renewed,
        };
        match renewed {
            Ok(done) if done.rows_affected() == 1 => {}
            Ok(_) => return,
            Err(error) => tracing::warn!(%error, "renewing a request id's lease failed"),
        }
    }
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
    /// Stops the renewal when the claim settles or is dropped.
    _renewing: DropGuard,
}

/// A claim that can no longer complete: the order was withdrawn, or the lease lapsed
/// and another attempt took the id over.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// Someone else holds the id now.
    #[error("request_id: this request was withdrawn or taken over while it ran")]
    Lost,
    /// The database failed.
    #[error("storage failed: {0}")]
    Storage(#[from] sqlx::Error),
}

impl Claim {
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

/// Withdraws `client`'s order `id` inside `tx`: a running attempt can no longer
/// complete, and a later request with the id is refused. Returns the stored reply if
/// the order had already completed, so that the caller deletes what it made in the
/// same transaction.
///
/// One `UPDATE … RETURNING` decides: on PostgreSQL the row lock orders it against the
/// attempt's [`Claim::complete`], so either the attempt completed first (and its reply
/// comes back here) or it finds the order withdrawn and rolls back.
pub async fn withdraw(
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
            "INSERT INTO request_ids (client, request_id, fingerprint, state, owner, lease_until, response, create_time) \
             VALUES ($1, $2, $3, 'withdrawn', '', 0, NULL, $4) ON CONFLICT (client, request_id) DO NOTHING",
        )
        .bind(client)
        .bind(&id)
        .bind(Vec::<u8>::new())
        .bind(db::now_micros())
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
