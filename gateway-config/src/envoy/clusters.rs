//! The services behind the gateway: HTTP/2 over mutual TLS, round robin over every
//! replica, actively health-checked over gRPC, behind circuit breakers.
//!
//! Losing a replica: a `kill -9`ed one refuses connections at once, so calls already
//! routed to it are retried on another replica (see the routes' retry policies, which
//! never pick the same replica twice), outlier detection ejects it after two such
//! failures in a row, and the health check takes it out of rotation within two
//! 1-second intervals even when no call has gone its way. It rejoins on its first
//! passing check.
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
use crate::{
    profile::{Profile, SONG_PRODUCER, UPSTREAMS, Upstream},
    settings::GatewaySettings,
};

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
    #[serde(skip_serializing_if = "Option::is_none")]
    dns_refresh_rate: Option<&'static str>,
    load_assignment: LoadAssignment,
    health_checks: Vec<HealthCheck>,
    outlier_detection: OutlierDetection,
    transport_socket: TransportSocket,
}

/// Passive health: replicas that fail calls are ejected for a while, before the active
/// check notices.
#[derive(Debug, Serialize)]
struct OutlierDetection {
    /// Connect failures, resets and 502–504s in a row before an ejection: two, so one
    /// reset stream does not eject a healthy replica, and a dead one goes at once.
    consecutive_gateway_failure: u32,
    /// Envoy enforces that rule 0% of the time unless told otherwise.
    enforcing_consecutive_gateway_failure: u32,
    /// How often ejections are lifted and the success-rate rules evaluated.
    interval: &'static str,
    /// How long a first ejection lasts (multiplied by the ejections so far).
    base_ejection_time: &'static str,
    /// Never eject every replica: with two, one always stays.
    max_ejection_percent: u32,
}

#[derive(Debug, Serialize)]
pub(super) struct ProtocolOptionsMap {
    #[serde(rename = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions")]
    http: HttpProtocolOptions,
}

#[derive(Debug, Serialize)]
pub(super) struct HttpProtocolOptions {
    #[serde(rename = "@type")]
    type_url: &'static str,
    explicit_http_config: ExplicitHttpConfig,
}

#[derive(Debug, Serialize)]
pub(super) struct ExplicitHttpConfig {
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
pub(super) struct LoadAssignment {
    cluster_name: String,
    endpoints: Vec<LocalityEndpoints>,
}

#[derive(Debug, Serialize)]
pub(super) struct LocalityEndpoints {
    lb_endpoints: Vec<LbEndpoint>,
}

#[derive(Debug, Serialize)]
pub(super) struct LbEndpoint {
    endpoint: Endpoint,
}

#[derive(Debug, Serialize)]
pub(super) struct Endpoint {
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

/// HTTP/2 towards a cluster's endpoints (gRPC).
pub(super) fn http2() -> ProtocolOptionsMap {
    ProtocolOptionsMap {
        http: HttpProtocolOptions {
            type_url: "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            explicit_http_config: ExplicitHttpConfig {
                http2_protocol_options: Empty {},
            },
        },
    }
}

/// The endpoints of cluster `name`, in one locality.
pub(super) fn load_assignment(
    name: String,
    addresses: impl IntoIterator<Item = Address>,
) -> LoadAssignment {
    LoadAssignment {
        cluster_name: name,
        endpoints: vec![LocalityEndpoints {
            lb_endpoints: addresses
                .into_iter()
                .map(|address| LbEndpoint {
                    endpoint: Endpoint { address },
                })
                .collect(),
        }],
    }
}

/// Requests in flight to one cluster, all replicas together, beyond which Envoy answers
/// 503 at once: unary calls (reads and model calls) share this budget.
pub const MAX_UNARY_REQUESTS: u32 = 1024;

/// The same for streams: a stream holds its slot for as long as it is open.
pub const MAX_STREAMS: u32 = 512;

/// Every cluster: one per service for unary calls, and the song producer's streams.
pub(super) fn clusters(settings: &GatewaySettings, profile: Profile) -> Vec<Cluster> {
    UPSTREAMS
        .into_iter()
        .map(|upstream| cluster(upstream, Traffic::Unary, settings, profile))
        .chain([cluster(&SONG_PRODUCER, Traffic::Streams, settings, profile)])
        .collect()
}

/// Where `upstream`'s replicas answer: under `bin/up` each on a port of its own on
/// 127.0.0.1; under compose one DNS name that resolves to every replica (STRICT_DNS
/// makes each address an endpoint).
fn endpoints(
    upstream: &Upstream,
    settings: &GatewaySettings,
    profile: Profile,
) -> impl Iterator<Item = Address> {
    let replicas = match profile {
        Profile::Compose => 1,
        Profile::Local if upstream.cluster == SONG_PRODUCER.cluster => {
            settings.song_producer_replicas
        }
        Profile::Local => settings.cover_designer_replicas,
    };
    let host = profile.upstream_host(upstream);
    (0..replicas).map(move |index| Address::new(host, upstream.replica_port(index)))
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

fn cluster(
    upstream: &'static Upstream,
    traffic: Traffic,
    settings: &GatewaySettings,
    profile: Profile,
) -> Cluster {
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
        typed_extension_protocol_options: http2(),
        // A replica scaled up or restarted under compose shows up in DNS within 2 s.
        dns_refresh_rate: (profile == Profile::Compose).then_some("2s"),
        load_assignment: load_assignment(
            cluster_name(upstream, traffic),
            endpoints(upstream, settings, profile),
        ),
        // Out of rotation after two failed checks a second apart, back after one pass.
        // A replica that drains (SIGTERM) answers NOT_SERVING first, so it leaves before
        // it stops accepting calls.
        health_checks: vec![HealthCheck {
            timeout: "1s",
            interval: "1s",
            no_traffic_interval: "1s",
            unhealthy_threshold: 2,
            healthy_threshold: 1,
            grpc_health_check: GrpcHealthCheck {
                service_name: upstream.service,
            },
        }],
        outlier_detection: OutlierDetection {
            consecutive_gateway_failure: 2,
            enforcing_consecutive_gateway_failure: 100,
            interval: "1s",
            base_ejection_time: "5s",
            max_ejection_percent: 50,
        },
        transport_socket: tls::upstream(upstream, profile),
    }
}
