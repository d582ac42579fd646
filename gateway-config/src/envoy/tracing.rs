//! Traces: with `OTEL_EXPORTER_OTLP_ENDPOINT` set (`http://host:4317`), Envoy's
//! OpenTelemetry tracer starts a trace for every request (or continues the caller's
//! W3C `traceparent`), passes it on to the services, and exports its own spans over
//! OTLP/gRPC to that collector. Unset, none of this is in the config.

use serde::Serialize;

use super::{
    Address,
    clusters::{self, LoadAssignment, ProtocolOptionsMap},
};

/// The collector's cluster.
const COLLECTOR: &str = "opentelemetry_collector";

/// Where the collector listens, parsed from the endpoint URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collector {
    /// Its host name or address.
    pub host: String,
    /// Its OTLP/gRPC port.
    pub port: u16,
}

impl Collector {
    /// Parses `http://host:port` (the port defaults to 4317, OTLP/gRPC's; a trailing
    /// `/` is allowed).
    pub fn parse(endpoint: &str) -> Option<Self> {
        let authority = endpoint.strip_prefix("http://")?.trim_end_matches('/');
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => (host, port.parse().ok()?),
            _ => (authority, 4317),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let valid = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.:".contains(c));
        valid.then(|| Self {
            host: host.to_owned(),
            port,
        })
    }
}

#[derive(Debug, Serialize)]
pub(super) struct Tracing {
    random_sampling: Percent,
    provider: Provider,
}

#[derive(Debug, Serialize)]
struct Percent {
    value: f64,
}

#[derive(Debug, Serialize)]
struct Provider {
    name: &'static str,
    typed_config: OpenTelemetryConfig,
}

#[derive(Debug, Serialize)]
struct OpenTelemetryConfig {
    #[serde(rename = "@type")]
    type_url: &'static str,
    grpc_service: GrpcService,
    service_name: &'static str,
}

#[derive(Debug, Serialize)]
struct GrpcService {
    envoy_grpc: EnvoyGrpc,
    timeout: &'static str,
}

#[derive(Debug, Serialize)]
struct EnvoyGrpc {
    cluster_name: &'static str,
}

/// The connection manager's tracing: every request sampled (the collector or its
/// pipeline may sample further).
pub(super) fn tracing() -> Tracing {
    Tracing {
        random_sampling: Percent { value: 100.0 },
        provider: Provider {
            name: "envoy.tracers.opentelemetry",
            typed_config: OpenTelemetryConfig {
                type_url: "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig",
                grpc_service: GrpcService {
                    envoy_grpc: EnvoyGrpc {
                        cluster_name: COLLECTOR,
                    },
                    timeout: "1s",
                },
                service_name: "envoy",
            },
        },
    }
}

#[derive(Debug, Serialize)]
pub(super) struct CollectorCluster {
    name: &'static str,
    #[serde(rename = "type")]
    discovery: &'static str,
    connect_timeout: &'static str,
    typed_extension_protocol_options: ProtocolOptionsMap,
    load_assignment: LoadAssignment,
}

/// The collector, over plaintext HTTP/2 (OTLP/gRPC), found by DNS.
pub(super) fn cluster(collector: &Collector) -> CollectorCluster {
    CollectorCluster {
        name: COLLECTOR,
        discovery: "STRICT_DNS",
        connect_timeout: "1s",
        typed_extension_protocol_options: clusters::http2(),
        load_assignment: clusters::load_assignment(
            COLLECTOR.to_owned(),
            [Address::new(&collector.host, collector.port)],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collector_endpoints_parse() {
        let parsed = |endpoint| Collector::parse(endpoint).map(|c| (c.host, c.port));
        assert_eq!(parsed("http://jaeger:4317"), Some(("jaeger".into(), 4317)));
        assert_eq!(
            parsed("http://127.0.0.1:9999/"),
            Some(("127.0.0.1".into(), 9999))
        );
        assert_eq!(parsed("http://collector"), Some(("collector".into(), 4317)));
        assert_eq!(parsed("http://[::1]:4317"), Some(("::1".into(), 4317)));
        for bad in [
            "https://jaeger:4317",
            "jaeger:4317",
            "http://",
            "http://a b:1",
            "http://x:port",
        ] {
            assert_eq!(parsed(bad), None, "{bad}");
        }
    }
}
