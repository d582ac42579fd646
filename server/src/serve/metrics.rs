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
fn known_rpcs() -> &'static BTreeMap<String, Vec<String>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_service_and_method() {
        let rpc = RpcLabels::from_path("/superstar.v1.SongProducer/GetSong");
        assert_eq!(rpc.service, "superstar.v1.SongProducer");
        assert_eq!(rpc.method, "GetSong");
        let health = RpcLabels::from_path("/grpc.health.v1.Health/Watch");
        assert_eq!(
            (health.service, health.method),
            ("grpc.health.v1.Health", "Watch")
        );
        let reflection =
            RpcLabels::from_path("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo");
        assert_eq!(reflection.method, "ServerReflectionInfo");
    }

    #[test]
    fn unknown_paths_are_labelled_unknown() {
        for (path, service) in [
            (
                "/superstar.v1.SongProducer/Nope",
                "superstar.v1.SongProducer",
            ),
            ("/made.up.Service/GetSong", UNKNOWN),
            ("/superstar.v1.SongProducer", "superstar.v1.SongProducer"),
            ("", UNKNOWN),
            ("//superstar.v1.SongProducer/GetSong", UNKNOWN),
        ] {
            let rpc = RpcLabels::from_path(path);
            assert_eq!(rpc.service, service, "{path}");
            assert_eq!(rpc.method, UNKNOWN, "{path}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_path_gets_a_label_from_the_known_set(path in ".{0,200}") {
            let rpc = RpcLabels::from_path(&path);
            let known = known_rpcs();
            proptest::prop_assert!(rpc.service == UNKNOWN || known.contains_key(rpc.service));
            proptest::prop_assert!(
                rpc.method == UNKNOWN
                    || known.get(rpc.service).is_some_and(|methods| methods.iter().any(|m| m == rpc.method))
            );
        }
    }

    #[test]
    fn latency_buckets_reach_five_minutes() {
        let metrics = Metrics::new();
        let rpc = RpcLabels::from_path("/superstar.v1.SongProducer/MakeMeSuperstar");
        metrics.handled(&rpc, tonic::Code::Ok, Duration::from_secs(170));
        let text = metrics.render();
        let bucket = |le: &str| {
            text.lines()
                .find(|line| {
                    line.starts_with(&format!("grpc_server_handling_seconds_bucket{{le=\"{le}\""))
                })
                .and_then(|line| line.rsplit(' ').next())
                .unwrap_or_else(|| panic!("no bucket {le}: {text}"))
                .to_owned()
        };
        assert_eq!(bucket("300.0"), "1");
        assert_eq!(bucket("262.144"), "1");
        assert_eq!(bucket("131.072"), "0");
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
