//! The song producer's side of the cover designer.
//!
//! Calls go over mutual TLS with the song producer's own client certificate, and carry
//! the request id and the time left before the caller's deadline, so the cover designer
//! logs under the same id and stops when nobody waits any more.

use std::time::Duration;

use superstar_proto::v1::{Cover, DesignCoverRequest, cover_designer_client::CoverDesignerClient};
use superstar_server::call_context::CallContext;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};

use crate::error::Error;

/// A client of the cover designer. Cheap to clone: clones share one HTTP/2 connection.
#[derive(Debug, Clone)]
pub struct CoverClient {
    inner: CoverDesignerClient<Channel>,
}

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
            inner: CoverDesignerClient::new(channel),
        })
    }

    /// Asks for a cover painted from `description`.
    pub async fn design(
        &self,
        request: DesignCoverRequest,
        context: &CallContext,
    ) -> Result<Cover, Error> {
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
