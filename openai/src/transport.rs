//! The HTTP transport under async-openai: plain reqwest, no retries of its own, and
//! every non-2xx reply turned into an [`HttpFailure`] that keeps what the retry loop
//! and the status mapping need.

use std::{
    sync::Once,
    task::{Context, Poll},
    time::Duration,
};

use async_openai::{
    Client,
    config::OpenAIConfig,
    error::{OpenAIError, WrappedError},
    middleware::{HttpRequestFactory, ReqwestService},
};
use futures::future::BoxFuture;
use tower::{Service, ServiceExt};

/// How long to wait for a TCP and TLS connection before calling the server unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest provider message kept for logs.
const MAX_DETAIL: usize = 300;

/// The most of an error reply's body that is read: OpenAI's errors are a few hundred
/// bytes; a proxy's error page or a misbehaving server may send any amount, and only
/// the first [`MAX_DETAIL`] characters of its message are kept.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// A non-2xx reply from the provider.
#[derive(Debug, Clone, thiserror::Error)]
#[error("HTTP {status}")]
pub(super) struct HttpFailure {
    /// The HTTP status.
    pub status: u16,
    /// How long the provider asked us to wait (`retry-after-ms` or `Retry-After`).
    pub retry_after: Option<Duration>,
    /// The provider's error `code` (`insufficient_quota`, `content_policy_violation`…).
    pub code: Option<String>,
    /// The provider's error `type`.
    pub kind: Option<String>,
    /// The provider's message, cut short. May quote part of the key for a 401, so
    /// it is only ever shown for statuses where the provider does not do that.
    pub message: String,
}

/// A client for `base_url` whose transport is [`Transport`].
///
/// Building the HTTP client fails only when its TLS backend cannot start, a broken
/// build rather than a setting: the process stops there with the reason. (A default
/// client instead would have no connect timeout, and a call to an unreachable provider
/// would wait out the caller's whole deadline.)
pub(super) fn client(api_key: &str, base_url: &str) -> Client<OpenAIConfig> {
    install_crypto_provider();
    let http = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .unwrap_or_else(|error| panic!("the HTTP client for the model provider: {error}"));
    let config = OpenAIConfig::new()
        .with_api_key(api_key)
        .with_api_base(base_url);
    Client::build(http.clone(), config).with_http_service(Transport {
        inner: ReqwestService::new(http),
    })
}

/// reqwest is built without a TLS crypto provider of its own; the process uses ring,
/// as tonic does.
fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only when a provider is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Sends requests and fails every non-2xx reply with an [`HttpFailure`].
#[derive(Clone)]
struct Transport {
    inner: ReqwestService,
}

impl Service<HttpRequestFactory> for Transport {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = BoxFuture<'static, Result<reqwest::Response, OpenAIError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: HttpRequestFactory) -> Self::Future {
        let inner = self.inner.clone();
        Box::pin(async move {
            let response = inner.oneshot(request).await?;
            if response.status().is_success() {
                return Ok(response);
            }
            Err(OpenAIError::Boxed(Box::new(
                HttpFailure::read(response).await,
            )))
        })
    }
}

impl HttpFailure {
    async fn read(mut response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        // At most MAX_ERROR_BODY bytes, however long the body (or its claimed length).
        let mut body = Vec::new();
        while body.len() < MAX_ERROR_BODY {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_ERROR_BODY - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                Ok(None) | Err(_) => break,
            }
        }
        let (code, kind, message) = match serde_json::from_slice::<WrappedError>(&body) {
            Ok(wrapped) => (
                wrapped.error.code,
                wrapped.error.r#type,
                wrapped.error.message,
            ),
            Err(_) => (None, None, String::from_utf8_lossy(&body).into_owned()),
        };
        Self {
            status,
            retry_after,
            code,
            kind,
            message: message.chars().take(MAX_DETAIL).collect(),
        }
    }
}

/// The wait a reply asks for: OpenAI's `retry-after-ms`, else `Retry-After` in
/// (possibly fractional) seconds. An HTTP date is not honoured; backoff applies.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let number = |name: &str| -> Option<f64> {
        headers
            .get(name)?
            .to_str()
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|value| value.is_finite() && *value >= 0.0)
    };
    let seconds = number("retry-after-ms")
        .map(|ms| ms / 1000.0)
        .or_else(|| number("retry-after"))?;
    Duration::try_from_secs_f64(seconds).ok()
}
