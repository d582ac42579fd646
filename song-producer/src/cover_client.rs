//! The song producer's side of the cover designer.
//!
//! Calls go over mutual TLS with the song producer's own client certificate, and carry
//! the request id, the client's name and the time left before the caller's deadline,
//! so the cover designer logs under the same id, counts the image to the client and
//! stops when nobody waits any more.
//!
//! Every cover is ordered under a fresh `request_id`, so that an album that fails after
//! ordering it can [`withdraw`](CoverClient::withdraw) the order: whether the cover was
//! stored, is still being painted, or the answer was lost on the way back.

use std::time::Duration;

use superstar_proto::v1::{
    Cover, DesignCoverRequest, WithdrawCoverRequest, cover_designer_client::CoverDesignerClient,
    cover_designer_internal_client::CoverDesignerInternalClient,
};
use superstar_server::{call_context::CallContext, idempotency::RequestId};
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};

use crate::error::Error;

/// A client of the cover designer. Cheap to clone: clones share one HTTP/2 connection.
#[derive(Debug, Clone)]
pub struct CoverClient {
    inner: CoverDesignerClient<Channel>,
    internal: CoverDesignerInternalClient<Channel>,
}

/// How long withdrawing an order may take, each try: it runs after the album failed,
/// often after the caller's deadline, so it has a time of its own.
const WITHDRAW_TIMEOUT: Duration = Duration::from_secs(5);

/// How often withdrawing is tried before the order is logged as orphaned.
const WITHDRAW_TRIES: u32 = 3;

impl CoverClient {
    /// A client for `url` (`https://host:port`); it connects on first use and
    /// reconnects by itself, so the cover designer may start after us.
    pub fn new(url: &str, tls: ClientTlsConfig) -> Result<Self, tonic::transport::Error> {
        let channel = Endpoint::from_shared(url.to_owned())?
            .tls_config(tls)?
            .connect_timeout(Duration::from_secs(3))
            .tcp_nodelay(true)
            .connect_lazy();
        Ok(Self {
            inner: CoverDesignerClient::new(channel.clone()),
            internal: CoverDesignerInternalClient::new(channel),
        })
    }

    /// Orders a cover painted from `request.description`, under the order id `order`.
    pub async fn design(
        &self,
        mut request: DesignCoverRequest,
        order: RequestId,
        context: &CallContext,
    ) -> Result<Cover, Error> {
        request.request_id = order.to_field();
        let mut request = tonic::Request::new(request);
        context.apply(&mut request);
        let mut client = self.inner.clone();
        let response = client
            .design_cover(request)
            .await
            .map_err(Error::CoverDesigner)?;
        Ok(response.into_inner())
    }
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
            match self.internal.clone().withdraw_cover(request).await {
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
