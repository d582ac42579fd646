//! The services behind the gateway: HTTP/2 over mutual TLS, round robin over every
//! replica, actively health-checked over gRPC, behind circuit breakers.
//!
//! The song producer is two clusters with the same replicas: one for unary calls, one
//! for streams (`GenerateLyrics`, `Jam`, `CompileAlbum`, health watches, reflection).
//! Each has its own circuit-breaker budget, so clients holding streams open can use up
//! the streams' budget but never the one reads and unary calls need.

use serde::Serialize;

use super::{
    Address, Empty,
    listener::CONNECTION_BUFFER_BYTES,
    tls::{self, TransportSocket},
};
use crate::profile::{Profile, SONG_PRODUCER, UPSTREAMS, Upstream};

#[derive(Debug, Serialize)]
pub(super) struct Cluster {
    name: String,
    #[serde(rename = "type")]
    discovery: &'static str,
    connect_timeout: &'static str,
    lb_policy: &'static str,
    per_connection_buffer_limit_bytes: u32,
    circuit_breakers: CircuitBreakers,
    typed_extension_protocol_options: ProtocolOptionsMap,
    load_assignment: LoadAssignment,
    health_checks: Vec<HealthCheck>,
    transport_socket: TransportSocket,
}

#[derive(Debug, Serialize)]
struct ProtocolOptionsMap {
    #[serde(rename = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions")]
    http: HttpProtocolOptions,
}

#[derive(Debug, Serialize)]
struct HttpProtocolOptions {
    #[serde(rename = "@type")]
    type_url: &'static str,
    explicit_http_config: ExplicitHttpConfig,
}

#[derive(Debug, Serialize)]
struct ExplicitHttpConfig {
    http2_protocol_options: Empty,
}

#[derive(Debug, Serialize)]
struct CircuitBreakers {
    thresholds: Vec<Thresholds>,
}

#[derive(Debug, Serialize)]
struct Thresholds {
    priority: &'static str,
    max_connections: u32,
    max_pending_requests: u32,
    max_requests: u32,
    max_retries: u32,
}

#[derive(Debug, Serialize)]
struct LoadAssignment {
    cluster_name: String,
    endpoints: Vec<LocalityEndpoints>,
}

#[derive(Debug, Serialize)]
struct LocalityEndpoints {
    lb_endpoints: Vec<LbEndpoint>,
}

#[derive(Debug, Serialize)]
struct LbEndpoint {
    endpoint: Endpoint,
}

#[derive(Debug, Serialize)]
struct Endpoint {
    address: Address,
}

#[derive(Debug, Serialize)]
struct HealthCheck {
    timeout: &'static str,
    interval: &'static str,
    no_traffic_interval: &'static str,
    unhealthy_threshold: u32,
    healthy_threshold: u32,
    grpc_health_check: GrpcHealthCheck,
}

#[derive(Debug, Serialize)]
struct GrpcHealthCheck {
    service_name: &'static str,
}

/// Requests in flight to one cluster, all replicas together, beyond which Envoy answers
/// 503 at once: unary calls (reads and model calls) share this budget.
pub const MAX_UNARY_REQUESTS: u32 = 1024;

/// The same for streams: a stream holds its slot for as long as it is open.
pub const MAX_STREAMS: u32 = 512;

/// Every cluster: one per service for unary calls, and the song producer's streams.
pub(super) fn clusters(profile: Profile) -> Vec<Cluster> {
    UPSTREAMS
        .into_iter()
        .map(|upstream| cluster(upstream, Traffic::Unary, profile))
        .chain([cluster(&SONG_PRODUCER, Traffic::Streams, profile)])
        .collect()
}

/// Which of an upstream's clusters a route goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Traffic {
    /// Unary calls: reads and unary model calls.
    Unary,
    /// Streams, however long they stay open.
    Streams,
}

/// The name of `upstream`'s cluster for `traffic`.
pub(super) fn cluster_name(upstream: &Upstream, traffic: Traffic) -> String {
    match traffic {
        Traffic::Unary => upstream.cluster.to_owned(),
        Traffic::Streams => format!("{}_streams", upstream.cluster),
    }
}

fn cluster(upstream: &'static Upstream, traffic: Traffic, profile: Profile) -> Cluster {
    let max_requests = match traffic {
        Traffic::Unary => MAX_UNARY_REQUESTS,
        Traffic::Streams => MAX_STREAMS,
    };
    Cluster {
        name: cluster_name(upstream, traffic),
        discovery: profile.discovery(),
        connect_timeout: "2s",
        lb_policy: "ROUND_ROBIN",
        per_connection_buffer_limit_bytes: CONNECTION_BUFFER_BYTES,
        circuit_breakers: CircuitBreakers {
            thresholds: vec![Thresholds {
                priority: "DEFAULT",
                max_connections: 1024,
                max_pending_requests: max_requests,
                max_requests,
                max_retries: 3,
            }],
        },
        typed_extension_protocol_options: ProtocolOptionsMap {
            http: HttpProtocolOptions {
                type_url: "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                explicit_http_config: ExplicitHttpConfig {
                    http2_protocol_options: Empty {},
                },
            },
        },
        load_assignment: LoadAssignment {
            cluster_name: cluster_name(upstream, traffic),
            endpoints: vec![LocalityEndpoints {
                lb_endpoints: vec![LbEndpoint {
                    endpoint: Endpoint {
                        address: Address::new(profile.upstream_host(upstream), upstream.port),
                    },
                }],
            }],
        },
        health_checks: vec![HealthCheck {
            timeout: "1s",
            interval: "2s",
            no_traffic_interval: "2s",
            unhealthy_threshold: 2,
            healthy_threshold: 1,
            grpc_health_check: GrpcHealthCheck {
                service_name: upstream.service,
            },
        }],
        transport_socket: tls::upstream(upstream, profile),
    }
}
