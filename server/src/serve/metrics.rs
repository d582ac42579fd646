//! Prometheus metrics for every RPC.
//!
//! The names and labels follow the convention of go-grpc-prometheus, which most gRPC
//! dashboards expect:
//! - `grpc_server_started_total{service, method}`
//! - `grpc_server_handled_total{service, method, code}`
//! - `grpc_server_handling_seconds{service, method}` (a histogram)
//!
//! The [`rpc_layer`](crate::serve::rpc_layer) layer records them; [`Metrics::serve`] exposes them
//! in the text format on their own port (`:9101` song producer, `:9102` cover designer),
//! outside TLS and the gateway, for a scraper on the private network. The same port
//! answers `GET /healthz` (200 while serving, 503 once shutdown begins) for probes that
//! cannot speak mutual TLS, such as a container's health check (see [`probe`]).

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{
        Arc, LazyLock,
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
use prost::Message;
use prost_types::FileDescriptorSet;
use tokio::net::TcpListener;

use crate::{serve::shutdown::Shutdown, serve::usage::Usage};

/// Which RPC: the labels of the started counter and of the histogram. Both come from
/// the fixed set of served RPCs, so they are borrowed from it, never allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RpcLabels {
    /// The fully qualified service, e.g. `superstar.v1.SongProducer`.
    pub service: &'static str,
    /// The method, e.g. `GetSong`.
    pub method: &'static str,
}

/// The label of a service or method this process does not serve.
pub const UNKNOWN: &str = "unknown";

impl RpcLabels {
    /// The labels of a gRPC path (`/package.Service/Method`). Only the RPCs the
    /// processes serve (the `superstar.v1` services, health and reflection) are named;
    /// any other path is `unknown` (a known service with an unknown method keeps its
    /// service), so that calls to made-up methods cannot add series without bound.
    pub fn from_path(path: &str) -> Self {
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        let (service, method) = trimmed.split_once('/').unwrap_or((trimmed, ""));
        let (service, methods) = match known_rpcs().get_key_value(service) {
            Some((service, methods)) => (service.as_str(), methods.as_slice()),
            None => (UNKNOWN, &[][..]),
        };
        let method = methods
            .iter()
            .find(|known| *known == method)
            .map_or(UNKNOWN, String::as_str);
        Self { service, method }
    }
}

/// Every service this process may serve, with its methods, read once from the
/// descriptor sets compiled in.
pub fn known_rpcs() -> &'static BTreeMap<String, Vec<String>> {
    static KNOWN: LazyLock<BTreeMap<String, Vec<String>>> = LazyLock::new(|| {
        let sets = [
            superstar_proto::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
        ];
        let mut known = BTreeMap::new();
        for set in sets {
            let set =
                FileDescriptorSet::decode(set).expect("the compiled descriptor sets are valid");
            for file in set.file {
                for service in &file.service {
                    let name = format!("{}.{}", file.package(), service.name());
                    let methods = service.method.iter().map(|m| m.name().to_owned()).collect();
                    known.insert(name, methods);
                }
            }
        }
        known
    });
    &KNOWN
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct HandledLabels {
    service: &'static str,
    method: &'static str,
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
    usage: Usage,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry holding the three RPC metrics and the usage counters.
    pub fn new() -> Self {
        let started = Family::<RpcLabels, Counter>::default();
        let handled = Family::<HandledLabels, Counter>::default();
        // 0.25 ms to about 262 s, doubling, then 300 s: offline RPCs take well under a
        // millisecond, model calls up to the gateway's 180 s, streams longer.
        let handling_seconds: HistogramFamily = Family::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_25, 2.0, 21).chain([300.0]))
        });
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
        let usage = Usage::register(&mut registry);
        Self {
            registry: Arc::new(registry),
            started,
            handled,
            handling_seconds,
            usage,
        }
    }

    /// What each client spends on models, counted in this registry.
    pub fn usage(&self) -> &Usage {
        &self.usage
    }

    /// Counts an RPC that has started.
    pub fn started(&self, rpc: &RpcLabels) {
        self.started.get_or_create(rpc).inc();
    }

    /// Counts an RPC that has completed with `code` after `elapsed`.
    pub fn handled(&self, rpc: &RpcLabels, code: tonic::Code, elapsed: Duration) {
        self.handled
            .get_or_create(&HandledLabels {
                service: rpc.service,
                method: rpc.method,
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
