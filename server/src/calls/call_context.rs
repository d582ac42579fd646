//! What a request carries along to the calls it makes: its id, its deadline, and the
//! client it is made for.
//!
//! When the song producer asks the cover designer for a cover, the cover designer
//! must log the same request id and give up at the same moment the original caller
//! does. [`CallContext`] is read from the incoming request and applied to outgoing
//! ones.

use std::time::Duration;

use tokio::time::Instant;
use tonic::metadata::{AsciiMetadataValue, MetadataMap};

/// The header that carries the request id (Envoy sets it; the observe layer fills it in
/// when a caller did not).
pub const REQUEST_ID: &str = "x-request-id";

/// The header the gateway forwards the authenticated client's name in (it replaces
/// any the client sent).
pub const CLIENT: &str = "x-superstar-client";

/// The header in which Envoy tells an upstream how long its route waits, in
/// milliseconds.
pub const ENVOY_TIMEOUT: &str = "x-envoy-expected-rq-timeout-ms";

/// How long before the caller's deadline work on its behalf stops. tonic's own timer
/// for the deadline started when the request arrived, a moment before the handler
/// read it; giving up this much sooner lets the handler's `DEADLINE_EXCEEDED`, which
/// says what ran late, reach the caller instead of tonic's bare `CANCELLED`.
pub const DEADLINE_MARGIN: Duration = Duration::from_millis(50);

/// The request id and deadline of the request being handled.
#[derive(Debug, Clone)]
pub struct CallContext {
    request_id: Option<AsciiMetadataValue>,
    deadline: Option<Instant>,
    client: Option<AsciiMetadataValue>,
}

impl CallContext {
    /// Reads the context from an incoming request's metadata. The deadline is the
    /// caller's `grpc-timeout`; without one (a JSON client through the transcoder, grpcurl
    /// without `-max-time`), Envoy's `x-envoy-expected-rq-timeout-ms`, the time its route
    /// will wait, so that no work runs on after Envoy has given up. It counts from now,
    /// which is when the handler starts: close enough to when the request arrived.
    pub fn from_metadata(metadata: &MetadataMap) -> Self {
        let text = |name| metadata.get(name).and_then(|value| value.to_str().ok());
        let timeout = match text("grpc-timeout") {
            Some(value) => parse_grpc_timeout(value),
            None => text(ENVOY_TIMEOUT)
                .and_then(|ms| ms.parse().ok())
                .map(Duration::from_millis),
        };
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        Self {
            request_id: metadata.get(REQUEST_ID).cloned(),
            deadline,
            client: metadata.get(CLIENT).cloned(),
        }
    }

    /// The same context with no deadline, for work that must finish after the caller
    /// stopped waiting (cleaning up after a failed request).
    pub fn without_deadline(&self) -> Self {
        Self {
            deadline: None,
            ..self.clone()
        }
    }

    /// The client the gateway authenticated; empty for a caller that did not come
    /// through the gateway (such callers share one budget).
    pub fn client(&self) -> &str {
        self.client
            .as_ref()
            .and_then(|client| client.to_str().ok())
            .unwrap_or_default()
    }

    /// The request id, if there is one.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_ref().and_then(|id| id.to_str().ok())
    }

    /// When the caller stops waiting, if it said.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// When work for this request must stop: the deadline less [`DEADLINE_MARGIN`].
    pub fn give_up_at(&self) -> Option<Instant> {
        self.deadline
            .map(|deadline| deadline.checked_sub(DEADLINE_MARGIN).unwrap_or(deadline))
    }

    /// Time left before the deadline (zero once it has passed).
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|deadline| deadline.saturating_duration_since(Instant::now()))
    }

    /// Stamps an outgoing request with the request id, the client it is made for (the
    /// called service counts its usage, and scopes its request ids, by it) and the
    /// time that is left.
    pub fn apply<T>(&self, request: &mut tonic::Request<T>) {
        self.apply_with(None, request);
    }

    /// [`apply`](Self::apply), with `span` (a client span for the call) as the trace
    /// context the callee continues.
    pub fn apply_in<T>(
        &self,
        span: &crate::serve::telemetry::Span,
        request: &mut tonic::Request<T>,
    ) {
        self.apply_with(Some(span), request);
    }

    fn apply_with<T>(
        &self,
        span: Option<&crate::serve::telemetry::Span>,
        request: &mut tonic::Request<T>,
    ) {
        if let Some(id) = &self.request_id {
            request.metadata_mut().insert(REQUEST_ID, id.clone());
        }
        if let Some(client) = &self.client {
            request.metadata_mut().insert(CLIENT, client.clone());
        }
        if let Some(remaining) = self.remaining() {
            request.set_timeout(remaining);
        }
        crate::serve::telemetry::inject(span, request.metadata_mut());
    }
}

/// Parses a `grpc-timeout` value: at most 8 digits and a unit (H, M, S, m, u, n).
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    // Any text may arrive here; a unit that is not one ASCII byte is no unit.
    let (digits, unit) = value.split_at_checked(value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}
