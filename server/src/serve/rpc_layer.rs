//! The tower layers around every RPC: a request id, then a span, metrics and one log
//! line per RPC.
//!
//! The request id is tower-http's: [`request_id_layers`] keeps the caller's
//! `x-request-id` (Envoy sets one on every request) or makes a UUID, and copies it onto
//! the response. The handler and the services it calls see the same id
//! ([`call_context`](crate::calls::call_context)).
//!
//! [`ObserveLayer`] is our own, because tower-http's `TraceLayer` cannot do two things
//! it must: report an RPC whose response body is dropped before its trailers (the
//! client went away: counted and logged as `CANCELLED`; `TraceLayer` reports nothing),
//! and log a failure with the status message the client reads (`TraceLayer` hands its
//! failure callback the code alone). It opens the RPC's span, continuing the caller's
//! trace (W3C `traceparent`, see [`telemetry`](crate::serve::telemetry)), which becomes
//! the RPC's server span when traces are exported.
//!
//! A gRPC status is not always known when the response headers leave: a unary call
//! that succeeds, and every stream, send it in the trailers at the very end. So the
//! layer wraps the response body and records the RPC when the trailers pass by, or,
//! if the body is dropped first, as `CANCELLED`.
//!
//! The layers inside it may refuse an RPC with an error instead of a response (load
//! shedding does): the layer answers those itself, as the gRPC status the error
//! stands for, so that they are logged and counted like every other RPC.
//!
//! A failed RPC's line carries the status message as the client reads it (decoded from
//! the `grpc-message` header's percent-encoding) under `status_message`: the line's
//! own `message` is the event (`rpc failed`).

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll, ready},
    time::Instant,
};

use http::{HeaderMap, Request, Response};
use http_body::{Body, Frame, SizeHint};
use tower::{Layer, Service};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tracing::{Instrument, Span};

use crate::{
    calls::call_context::REQUEST_ID,
    serve::metrics::{Metrics, RpcLabels},
    serve::telemetry,
};

/// The request id's layers, outermost first: set one where the request has none, then
/// copy it onto the response.
pub fn request_id_layers() -> (SetRequestIdLayer<MakeRequestUuid>, PropagateRequestIdLayer) {
    (
        SetRequestIdLayer::x_request_id(MakeRequestUuid),
        PropagateRequestIdLayer::x_request_id(),
    )
}

/// Adds [`Observe`] around the services of a tonic server.
#[derive(Clone)]
pub struct ObserveLayer {
    metrics: Metrics,
}

impl ObserveLayer {
    /// Records into `metrics`.
    pub fn new(metrics: Metrics) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Observe {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// See the [module documentation](self).
#[derive(Clone)]
pub struct Observe<S> {
    inner: S,
    metrics: Metrics,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Observe<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Error: Into<tower::BoxError>,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default,
{
    type Response = Response<ObservedBody<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let rpc = RpcLabels::from_path(request.uri().path());
        // Set by the request id's layers, outside this one.
        let id = request
            .headers()
            .get(REQUEST_ID)
            .and_then(|id| id.to_str().ok())
            .unwrap_or_default();
        let name = format!("{}/{}", rpc.service, rpc.method);
        let span = if is_infrastructure(&rpc) {
            tracing::debug_span!("rpc", service = %rpc.service, method = %rpc.method, request_id = %id, trace_id = tracing::field::Empty, otel.name = %name, otel.kind = "server", rpc.system = "grpc")
        } else {
            tracing::info_span!("rpc", service = %rpc.service, method = %rpc.method, request_id = %id, trace_id = tracing::field::Empty, otel.name = %name, otel.kind = "server", rpc.system = "grpc")
        };
        if let Some(trace_id) = telemetry::continue_trace(&span, request.headers()) {
            span.record("trace_id", tracing::field::display(trace_id));
        }
        self.metrics.started(&rpc);
        let mut outcome = Outcome {
            metrics: self.metrics.clone(),
            rpc,
            started: Instant::now(),
            span: span.clone(),
            done: false,
        };
        let response = self.inner.call(request);

        Box::pin(
            async move {
                let response = match response.await {
                    Ok(response) => response,
                    Err(error) => refusal(error.into()).into_http(),
                };
                // A trailers-only response (most errors) carries its status in the headers.
                if let Some(code) = grpc_status(response.headers()) {
                    outcome.finish(code, response.headers());
                }
                Ok(response.map(|inner| ObservedBody {
                    inner,
                    outcome: (!outcome.done).then_some(outcome),
                }))
            }
            .instrument(span),
        )
    }
}

/// The status for an error of the layers inside. Load shedding's is
/// `RESOURCE_EXHAUSTED` with a `RetryInfo`: a second is enough for a busy moment to pass,
/// and a client that retries sooner would only add to it.
fn refusal(error: Box<dyn std::error::Error + Send + Sync>) -> tonic::Status {
    if error.is::<tower::load_shed::error::Overloaded>() {
        return superstar_proto::errors::retry_later(
            "OVERLOADED",
            "the service is busy with as many requests as it takes; retry shortly",
            std::time::Duration::from_secs(1),
        );
    }
    tonic::Status::from_error(error)
}

/// Health checks and reflection are logged at debug level: a load balancer's health
/// checks would otherwise drown the log.
fn is_infrastructure(rpc: &RpcLabels) -> bool {
    rpc.service.starts_with("grpc.")
}

fn grpc_status(headers: &HeaderMap) -> Option<tonic::Code> {
    let value = headers
        .get("grpc-status")?
        .to_str()
        .ok()?
        .parse::<i32>()
        .ok()?;
    Some(tonic::Code::from_i32(value))
}

struct Outcome {
    metrics: Metrics,
    rpc: RpcLabels,
    started: Instant,
    span: Span,
    done: bool,
}

impl Outcome {
    fn finish(&mut self, code: tonic::Code, headers: &HeaderMap) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let elapsed = self.started.elapsed();
        self.metrics.handled(&self.rpc, code, elapsed);
        let status_message = headers
            .get("grpc-message")
            .map(|value| percent_encoding::percent_decode(value.as_bytes()).decode_utf8_lossy())
            .unwrap_or_default();
        let status_message = status_message.as_ref();
        let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
        let _entered = self.span.enter();
        match code {
            tonic::Code::Ok if is_infrastructure(&self.rpc) => {
                tracing::debug!(code = ?code, elapsed_ms, "rpc finished")
            }
            tonic::Code::Ok => tracing::info!(code = ?code, elapsed_ms, "rpc finished"),
            tonic::Code::Unknown | tonic::Code::Internal | tonic::Code::DataLoss => {
                tracing::error!(code = ?code, elapsed_ms, status_message, "rpc failed")
            }
            _ => tracing::warn!(code = ?code, elapsed_ms, status_message, "rpc failed"),
        }
    }
}

impl Drop for Outcome {
    fn drop(&mut self) {
        // The body went away before its trailers: the client cancelled or disconnected.
        self.finish(tonic::Code::Cancelled, &HeaderMap::new());
    }
}

pin_project_lite::pin_project! {
    /// A response body that records the RPC's outcome when its trailers pass.
    pub struct ObservedBody<B> {
        #[pin]
        inner: B,
        outcome: Option<Outcome>,
    }
}

impl<B: Body> Body for ObservedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        if let Some(outcome) = this.outcome {
            match &frame {
                Some(Ok(frame)) => {
                    if let Some(trailers) = frame.trailers_ref() {
                        let code = grpc_status(trailers).unwrap_or(tonic::Code::Unknown);
                        outcome.finish(code, trailers);
                    }
                }
                Some(Err(_)) => outcome.finish(tonic::Code::Unknown, &HeaderMap::new()),
                None => outcome.finish(tonic::Code::Unknown, &HeaderMap::new()),
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
