//! Prometheus metrics for every RPC.
//!
//! The names and labels follow the convention of go-grpc-prometheus, which most gRPC
//! dashboards expect:
//! - `grpc_server_started_total{service, method}`
//! - `grpc_server_handled_total{service, method, code}`
//! - `grpc_server_handling_seconds{service, method}` (a histogram)
//!
//! The [`rpc_layer`](crate::rpc_layer) layer records them; [`Metrics::serve`] exposes them
//! in the text format on their own port (`:9101` song producer, `:9102` cover designer),
//! outside TLS and the gateway, for a scraper on the private network. The same port
//! answers `GET /healthz` (200 while serving, 503 once shutdown begins) for probes that
//! cannot speak mutual TLS, such as a container's health check (see [`probe`]).

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use tokio::net::TcpListener;

use crate::shutdown::Shutdown;

/// Which RPC: the labels of the started counter and of the histogram.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RpcLabels {
    /// The fully qualified service, e.g. `superstar.v1.SongProducer`.
    pub service: String,
    /// The method, e.g. `GetSong`.
    pub method: String,
}

impl RpcLabels {
    /// Splits a gRPC path (`/package.Service/Method`) into its labels.
    pub fn from_path(path: &str) -> Self {
        let trimmed = path.trim_start_matches('/');
        let (service, method) = trimmed.split_once('/').unwrap_or((trimmed, ""));
        Self {
            service: service.to_owned(),
            method: method.to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct HandledLabels {
    service: String,
    method: String,
    code: &'static str,
}

type HistogramFamily = Family<RpcLabels, Histogram, fn() -> Histogram>;

/// The RPC metrics of one process. Cheap to clone: clones share the same counters.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    started: Family<RpcLabels, Counter>,
    handled: Family<HandledLabels, Counter>,
    handling_seconds: HistogramFamily,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry holding the three RPC metrics.
    pub fn new() -> Self {
        let started = Family::<RpcLabels, Counter>::default();
        let handled = Family::<HandledLabels, Counter>::default();
        // 0.25 ms to about 8 s, doubling: offline RPCs take well under a millisecond,
        // image generation takes seconds.
        let handling_seconds: HistogramFamily =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.000_25, 2.0, 16)));
        let mut registry = Registry::default();
        registry.register(
            "grpc_server_started",
            "RPCs started on the server",
            started.clone(),
        );
        registry.register(
            "grpc_server_handled",
            "RPCs completed on the server, by status code",
            handled.clone(),
        );
        registry.register(
            "grpc_server_handling_seconds",
            "Time from the request's arrival to its status being sent",
            handling_seconds.clone(),
        );
        Self {
            registry: Arc::new(registry),
            started,
            handled,
            handling_seconds,
        }
    }

    /// Counts an RPC that has started.
    pub fn started(&self, rpc: &RpcLabels) {
        self.started.get_or_create(rpc).inc();
    }

    /// Counts an RPC that has completed with `code` after `elapsed`.
    pub fn handled(&self, rpc: &RpcLabels, code: tonic::Code, elapsed: Duration) {
        self.handled
            .get_or_create(&HandledLabels {
                service: rpc.service.clone(),
                method: rpc.method.clone(),
                code: code_label(code),
            })
            .inc();
        self.handling_seconds
            .get_or_create(rpc)
            .observe(elapsed.as_secs_f64());
    }

    /// The metrics in Prometheus' text exposition format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }

    /// Serves `GET /metrics` and `GET /healthz` on `listener` until `shutdown` is
    /// triggered. `serving` is what `/healthz` reports.
    pub async fn serve(
        self,
        listener: TcpListener,
        serving: Arc<AtomicBool>,
        shutdown: Shutdown,
    ) -> std::io::Result<()> {
        let metrics = move || {
            let text = self.render();
            async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    text,
                )
                    .into_response()
            }
        };
        let healthz = move || {
            let serving = serving.load(Ordering::Relaxed);
            async move {
                match serving {
                    true => (StatusCode::OK, "SERVING\n"),
                    false => (StatusCode::SERVICE_UNAVAILABLE, "NOT_SERVING\n"),
                }
            }
        };
        let app = Router::new()
            .route("/metrics", get(metrics))
            .route("/healthz", get(healthz));
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.requested().await })
            .await
    }
}

/// Asks `GET /healthz` on the metrics port at `addr` (a loopback address for a
/// container's own health check) and returns whether the service is serving.
pub async fn probe(addr: SocketAddr) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream
            .write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        std::io::Result::Ok(
            response.starts_with(b"HTTP/1.0 200") || response.starts_with(b"HTTP/1.1 200"),
        )
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), exchange).await,
        Ok(Ok(true))
    )
}

/// The status code as gRPC's own implementations print it (`OK`, `InvalidArgument`, …).
fn code_label(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "Canceled",
        Unknown => "Unknown",
        InvalidArgument => "InvalidArgument",
        DeadlineExceeded => "DeadlineExceeded",
        NotFound => "NotFound",
        AlreadyExists => "AlreadyExists",
        PermissionDenied => "PermissionDenied",
        ResourceExhausted => "ResourceExhausted",
        FailedPrecondition => "FailedPrecondition",
        Aborted => "Aborted",
        OutOfRange => "OutOfRange",
        Unimplemented => "Unimplemented",
        Internal => "Internal",
        Unavailable => "Unavailable",
        DataLoss => "DataLoss",
        Unauthenticated => "Unauthenticated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_service_and_method() {
        let rpc = RpcLabels::from_path("/superstar.v1.SongProducer/GetSong");
        assert_eq!(rpc.service, "superstar.v1.SongProducer");
        assert_eq!(rpc.method, "GetSong");
    }

    #[test]
    fn handled_rpcs_are_rendered_with_their_code() {
        let metrics = Metrics::new();
        let rpc = RpcLabels::from_path("/superstar.v1.SongProducer/GetSong");
        metrics.started(&rpc);
        metrics.handled(&rpc, tonic::Code::NotFound, Duration::from_millis(3));
        let text = metrics.render();
        assert!(text.contains(
            r#"grpc_server_started_total{service="superstar.v1.SongProducer",method="GetSong"} 1"#
        ), "{text}");
        assert!(text.contains(
            r#"grpc_server_handled_total{service="superstar.v1.SongProducer",method="GetSong",code="NotFound"} 1"#
        ), "{text}");
        assert!(
            text.contains("grpc_server_handling_seconds_bucket"),
            "{text}"
        );
    }
}
