//! The services behind the gateway: HTTP/2 over mutual TLS, round robin over every
//! replica, actively health-checked over gRPC.

use serde::Serialize;

use super::{
    Address, Empty,
    tls::{self, TransportSocket},
};
use crate::profile::{Profile, Upstream};

#[derive(Debug, Serialize)]
pub(super) struct Cluster {
    name: &'static str,
    #[serde(rename = "type")]
    discovery: &'static str,
    connect_timeout: &'static str,
    lb_policy: &'static str,
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
struct LoadAssignment {
    cluster_name: &'static str,
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

/// The cluster for one service.
pub(super) fn cluster(upstream: &'static Upstream, profile: Profile) -> Cluster {
    Cluster {
        name: upstream.cluster,
        discovery: profile.discovery(),
        connect_timeout: "2s",
        lb_policy: "ROUND_ROBIN",
        typed_extension_protocol_options: ProtocolOptionsMap {
            http: HttpProtocolOptions {
                type_url: "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                explicit_http_config: ExplicitHttpConfig {
                    http2_protocol_options: Empty {},
                },
            },
        },
        load_assignment: LoadAssignment {
            cluster_name: upstream.cluster,
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
