//! `otlp-sink`: an OpenTelemetry collector that only counts: the OTLP/gRPC trace service,
//! accepting every export, so that the tracing step measures what tracing costs the
//! gateway and the services, not what a real collector costs the machine.
//!
//! On SIGTERM it prints `{"kind": "otlp", "label": …, "exports": …, "spans": …}`: proof that
//! the traced step really exported, and how much.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
    trace_service_server::{TraceService, TraceServiceServer},
};
use serde_json::json;

use crate::args::Args;

#[derive(Default)]
struct Counts {
    exports: AtomicU64,
    spans: AtomicU64,
}

#[derive(Clone, Default)]
struct Sink(Arc<Counts>);

#[tonic::async_trait]
impl TraceService for Sink {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let spans: usize = request
            .get_ref()
            .resource_spans
            .iter()
            .flat_map(|resource| &resource.scope_spans)
            .map(|scope| scope.spans.len())
            .sum();
        self.0.exports.fetch_add(1, Ordering::Relaxed);
        self.0.spans.fetch_add(spans as u64, Ordering::Relaxed);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// Runs the `otlp-sink` subcommand with `args`.
pub async fn run(args: &Args) -> Result<(), String> {
    let addr: std::net::SocketAddr = args
        .text("addr")?
        .parse()
        .map_err(|error| format!("--addr: {error}"))?;
    let label = args.text("label")?.to_owned();
    let sink = Sink::default();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|error| error.to_string())?;
    tonic::transport::Server::builder()
        .add_service(TraceServiceServer::new(sink.clone()))
        .serve_with_shutdown(addr, async move {
            terminate.recv().await;
        })
        .await
        .map_err(|error| format!("{addr}: {error}"))?;
    println!(
        "{}",
        json!({
            "kind": "otlp",
            "label": label,
            "exports": sink.0.exports.load(Ordering::Relaxed),
            "spans": sink.0.spans.load(Ordering::Relaxed),
        })
    );
    Ok(())
}
