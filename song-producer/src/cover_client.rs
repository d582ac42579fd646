//! The song producer's side of the cover designer.
//!
//! Calls go over mutual TLS with the song producer's own client certificate, and carry
//! the request id, the client's name and the time left before the caller's deadline,
//! so the cover designer logs under the same id, counts the image to the client and
//! stops when nobody waits any more.
//!
//! Every cover is ordered under a `request_id` of its own (fresh, or derived from the
//! album's own request id: see `Studio::order_cover`), so that an album that fails
//! after ordering it can [`withdraw`](CoverClient::withdraw) the order: whether the
//! cover was stored, is still being painted, or the answer was lost on the way back.
//!
//! Calls are spread over every healthy cover designer replica (see
//! [`superstar_server::calls::balance`]). Because an order carries its request id, ordering is
//! safe to repeat: an order whose connection failed under it (its replica died, or
//! refused the connection) is sent again, to a replica probed healthy, up to [`DESIGN_ATTEMPTS`]
//! times. Were the first replica to have claimed the order before dying, the retry
//! waits for that claim's lease to lapse rather than paint twice (see
//! [`superstar_server::storage::idempotency`]). With no replica serving, an order fails at once
//! with `UNAVAILABLE` rather than queue until its deadline.

use std::time::Duration;

use superstar_proto::v1::{
    Cover, DesignCoverRequest, WithdrawCoverRequest, cover_designer_client::CoverDesignerClient,
    cover_designer_internal_client::CoverDesignerInternalClient,
};
use superstar_server::{
    calls::balance::{self, Replicas, Target},
    calls::call_context::CallContext,
    serve::telemetry,
    storage::idempotency::RequestId,
};
use tonic::{
    Code, Status,
    transport::{Channel, ClientTlsConfig, Endpoint},
};

use crate::error::Error;

/// A client of the cover designer. Cheap to clone: clones share the connections to
/// its replicas.
#[derive(Debug, Clone)]
pub struct CoverClient {
    inner: CoverDesignerClient<Channel>,
    internal: CoverDesignerInternalClient<Channel>,
    replicas: Replicas,
}

/// How often an order is sent before its `UNAVAILABLE` is the album's.
pub const DESIGN_ATTEMPTS: u32 = 3;

/// How long a call waits for a replica to come into rotation when none is.
const NO_REPLICA_WAIT: Duration = Duration::from_secs(2);

/// How long withdrawing an order may take, each try: it runs after the album failed,
/// often after the caller's deadline, so it has a time of its own.
const WITHDRAW_TIMEOUT: Duration = Duration::from_secs(5);

/// How often withdrawing is tried before the order is logged as orphaned.
const WITHDRAW_TRIES: u32 = 3;

impl CoverClient {
    /// A client for the replicas at `targets`, each reached with `tls` (its domain set
    /// to the target's host). It probes them from the start and keeps doing so, so the
    /// cover designer may start after us.
    pub fn new(targets: Vec<Target>, tls: ClientTlsConfig) -> Self {
        let (channel, replicas) = balance::balanced(
            targets,
            tls,
            superstar_proto::COVER_DESIGNER,
            |endpoint: Endpoint| {
                endpoint
                    .connect_timeout(Duration::from_secs(3))
                    .tcp_nodelay(true)
            },
        );
        Self {
            inner: CoverDesignerClient::new(channel.clone()),
            internal: CoverDesignerInternalClient::new(channel),
            replicas,
        }
    }

    /// Orders a cover painted from `request.description`, under the order id `order`.
    pub async fn design(
        &self,
        mut request: DesignCoverRequest,
        order: RequestId,
        context: &CallContext,
    ) -> Result<Cover, Error> {
        request.request_id = order.to_field();
        let mut attempt = 1;
        loop {
            if !self.replicas.wait_for_one(NO_REPLICA_WAIT).await {
                return Err(Error::CoverDesigner(Status::unavailable(
                    "no cover designer replica is serving",
                )));
            }
            let mut call = tonic::Request::new(request.clone());
            let span = telemetry::client_call("superstar.v1.CoverDesigner/DesignCover");
            context.apply_in(&span, &mut call);
            match self.inner.clone().design_cover(call).await {
                Ok(response) => return Ok(response.into_inner()),
                Err(status) if never_answered(&status) && attempt < DESIGN_ATTEMPTS => {
                    tracing::warn!(
                        message = status.message(),
                        attempt,
                        "a cover order met UNAVAILABLE; sending it again"
                    );
                    self.replicas.probe_now();
                    tokio::time::sleep(Duration::from_millis(50) * attempt).await;
                    attempt += 1;
                }
                Err(status) => return Err(Error::CoverDesigner(status)),
            }
        }
    }
}

/// Whether `status` is the channel's own `UNAVAILABLE` (the connection was refused,
/// reset or closed under the call), rather than one a cover designer sent: its model
/// provider failing is `UNAVAILABLE` too, and asking again would pay the provider's
/// retries again. tonic attaches the transport error as the status's source only in
/// the first case.
fn never_answered(status: &Status) -> bool {
    status.code() == Code::Unavailable && std::error::Error::source(status).is_some()
}

impl CoverClient {
    /// Withdraws the order `order`: the cover designer deletes its cover if it stored
    /// one, and never stores one still being painted. Tried [`WITHDRAW_TRIES`] times;
    /// an order that cannot be withdrawn is logged with its id, the one trace of a
    /// cover no album owns.
    pub async fn withdraw(&self, order: RequestId, context: &CallContext) {
        let mut pause = Duration::from_millis(100);
        for attempt in 1..=WITHDRAW_TRIES {
            let mut request = tonic::Request::new(WithdrawCoverRequest {
                request_id: order.to_field(),
            });
            // The client and the request id, not the caller's deadline: it may be over.
            context.without_deadline().apply(&mut request);
            request.set_timeout(WITHDRAW_TIMEOUT);
            // The channel waits for a replica in rotation; the timeout bounds that too.
            let mut internal = self.internal.clone();
            let outcome = tokio::time::timeout(WITHDRAW_TIMEOUT, internal.withdraw_cover(request))
                .await
                .unwrap_or_else(|_| Err(Status::deadline_exceeded("no reply in time")));
            match outcome {
                Ok(_) => return,
                Err(status) if attempt < WITHDRAW_TRIES => {
                    tracing::warn!(code = ?status.code(), message = status.message(), attempt, "withdrawing a cover order failed; trying again");
                    tokio::time::sleep(pause).await;
                    pause *= 4;
                }
                Err(status) => {
                    tracing::error!(order = %order.to_field(), code = ?status.code(), message = status.message(), "a cover order could not be withdrawn: its cover, if painted, belongs to no album");
                }
            }
        }
    }
}
