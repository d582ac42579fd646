//! Structured logs, and traces.
//!
//! Each service writes one JSON object per line to stdout, as container platforms
//! expect. The [`rpc_layer`](crate::serve::rpc_layer) layer opens a span per RPC holding the
//! request id and the trace id, so every line written while handling a request carries
//! both. `RUST_LOG` sets the filter (default `info`).
//!
//! Traces are OpenTelemetry's, with W3C `traceparent` propagation: an RPC continues the
//! trace its caller (Envoy, or the song producer) started, and the calls it makes carry
//! it on. With `OTEL_EXPORTER_OTLP_ENDPOINT` set (e.g. `http://jaeger:4317`), spans are
//! exported over OTLP/gRPC in batches (the SDK's `OTEL_BSP_*` variables tune them): a
//! server span per RPC, a client span per call to another service, a span per model
//! call (its model and token counts) and per database transaction. Unset, no tracer is
//! installed: [`span`] returns a no-op, and only the caller's trace id is read (for the
//! log lines).

use std::borrow::Cow;

use opentelemetry::{
    Context, KeyValue, global,
    propagation::{Extractor, Injector},
    trace::{Span as _, SpanKind, TraceContextExt, TraceId, Tracer, TracerProvider as _},
};
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, layer::SubscriberExt, util::SubscriberInitExt};

pub use opentelemetry::global::BoxedSpan as Span;

/// The variable that turns trace export on.
pub const OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// Flushes the spans not yet exported when dropped: keep it until the service stops.
#[must_use = "dropping it stops trace export"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            tracing::warn!(%error, "could not flush the last spans");
        }
    }
}

/// Installs the JSON subscriber for the whole process, and the tracer when
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is set. Call once, at start, inside the runtime.
pub fn init(service: &str) -> Telemetry {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_target(true);
    let exporting = std::env::var(OTLP_ENDPOINT).is_ok_and(|endpoint| !endpoint.is_empty());
    let provider = exporting.then(|| provider(service)).transpose();
    let (provider, failure) = match provider {
        Ok(provider) => (provider, None),
        Err(error) => (None, Some(error)),
    };
    let layer = provider.as_ref().map(|provider| {
        global::set_tracer_provider(provider.clone());
        tracing_opentelemetry::layer().with_tracer(provider.tracer(service.to_owned()))
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(json)
        .with(layer)
        .init();
    if let Some(error) = failure {
        tracing::error!(%error, "{OTLP_ENDPOINT}: cannot export traces; going on without");
    }
    Telemetry { provider }
}

fn provider(service: &str) -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .build()?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(service.to_owned())
                .build(),
        )
        .build())
}

/// A span named `name` of `kind`, child of the current RPC's span, with `attributes`:
/// a call to another service, a model call, a transaction. It ends when dropped.
pub fn span(name: impl Into<Cow<'static, str>>, kind: SpanKind, attributes: Vec<KeyValue>) -> Span {
    let parent = tracing::Span::current().context();
    let tracer = global::tracer("superstar");
    tracer
        .span_builder(name)
        .with_kind(kind)
        .with_attributes(attributes)
        .start_with_context(&tracer, &parent)
}

/// A span for a database transaction named `operation` (`insert_album`), ended when
/// dropped.
pub fn transaction(operation: &'static str) -> Span {
    span(
        format!("db {operation}"),
        SpanKind::Internal,
        vec![KeyValue::new("db.operation.name", operation)],
    )
}

/// A client span for calling `method` (`superstar.v1.CoverDesigner/DesignCover`) on
/// another service; pass it to [`CallContext::apply_in`](crate::calls::call_context::CallContext::apply_in).
pub fn client_call(method: &'static str) -> Span {
    span(
        method,
        SpanKind::Client,
        vec![KeyValue::new("rpc.system", "grpc")],
    )
}

/// The trace context of `span` (or of the current RPC), as `traceparent` headers for a
/// call made on its behalf.
pub fn inject(span: Option<&Span>, metadata: &mut tonic::metadata::MetadataMap) {
    let context = match span {
        Some(span) => Context::current().with_remote_span_context(span.span_context().clone()),
        None => tracing::Span::current().context(),
    };
    global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut MetadataInjector(metadata));
    });
}

/// Continues the trace of an incoming request in `span` (the RPC's), and returns the
/// trace id its log lines carry: the span's own when a tracer runs, else the caller's.
pub fn continue_trace(span: &tracing::Span, headers: &http::HeaderMap) -> Option<TraceId> {
    let caller =
        global::get_text_map_propagator(|propagator| propagator.extract(&HeaderExtractor(headers)));
    let callers_trace = caller.span().span_context().trace_id();
    // Fails only when no tracer is installed; the caller's id is then the one to log.
    let _ = span.set_parent(caller);
    let own = span.context().span().span_context().trace_id();
    [own, callers_trace]
        .into_iter()
        .find(|id| *id != TraceId::INVALID)
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            value.parse(),
        ) {
            self.0.insert(key, value);
        }
    }
}
