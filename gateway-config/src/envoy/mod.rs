//! Envoy's bootstrap config for the gateway, as types.
//!
//! Only the fields the gateway uses are modelled, named as Envoy names them (v3 API),
//! so each struct reads like the YAML it becomes. One file per part of the config, in
//! the order a request meets them:
//!
//! - `listener`: the TLS port clients connect to, and the HTTP connection manager
//!   (access log, Envoy's own error replies);
//! - `http_filters`: what every request passes through, in order: buffer, API-key
//!   auth, gRPC-JSON transcoding, rate limits, router;
//! - `routes`: which service answers which path, with what timeout and retries;
//! - `studio`: the web page's files, which Envoy serves itself;
//! - `rate_limits`: the token buckets, one per client and class of route;
//! - `clusters`: the services, reached over mutual TLS and health-checked, with
//!   circuit breakers;
//! - `overload`: Envoy's own ceilings on heap and client connections, and the runtime
//!   flag that keeps one connection from taking a worker's whole turn;
//! - `tls`: the TLS contexts the listener and the clusters share;
//! - `tracing`: OpenTelemetry traces, when a collector is configured.
//!
//! [`Bootstrap::gateway`] assembles the whole config from the settings and a
//! [`Profile`].

mod clusters;
mod http_filters;
mod listener;
mod overload;
mod rate_limits;
mod routes;
mod studio;
mod tls;
mod tracing;

pub use tracing::Collector;

use serde::Serialize;

pub use clusters::{MAX_STREAMS, MAX_UNARY_REQUESTS};
pub use http_filters::{MAX_JSON_REQUEST_BYTES, MAX_JSON_RESPONSE_BYTES};
pub use listener::MAX_CONCURRENT_STREAMS;
pub use overload::TRACE_BATCH;
pub use studio::{
    CONTENT_SECURITY_POLICY, FILES as STUDIO_FILES, MAX_FILE_BYTES as MAX_STUDIO_FILE_BYTES,
};

use crate::{
    profile::{ADMIN_PORT, Profile},
    settings::GatewaySettings,
};

/// The whole config.
#[derive(Debug, Serialize)]
pub struct Bootstrap {
    admin: Admin,
    overload_manager: overload::OverloadManager,
    layered_runtime: overload::LayeredRuntime,
    static_resources: StaticResources,
}

impl Bootstrap {
    /// The gateway's config for `profile`.
    pub fn gateway(settings: &GatewaySettings, profile: Profile) -> Self {
        Self {
            admin: Admin {
                address: Address::new("127.0.0.1", ADMIN_PORT),
            },
            overload_manager: overload::overload_manager(settings),
            layered_runtime: overload::layered_runtime(settings.collector.is_some()),
            static_resources: StaticResources {
                listeners: vec![listener::gateway(settings, profile)],
                clusters: clusters::clusters(settings, profile)
                    .into_iter()
                    .map(|cluster| AnyCluster::Service(Box::new(cluster)))
                    .chain(
                        settings
                            .collector
                            .as_ref()
                            .map(|collector| AnyCluster::Collector(tracing::cluster(collector))),
                    )
                    .collect(),
            },
        }
    }
}

#[derive(Debug, Serialize)]
struct Admin {
    address: Address,
}

#[derive(Debug, Serialize)]
struct StaticResources {
    listeners: Vec<listener::Listener>,
    clusters: Vec<AnyCluster>,
}

/// A cluster: a service, or the trace collector.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum AnyCluster {
    Service(Box<clusters::Cluster>),
    Collector(tracing::CollectorCluster),
}

/// A socket address: where a listener listens, or an endpoint answers.
#[derive(Debug, Serialize)]
struct Address {
    socket_address: SocketAddress,
}

#[derive(Debug, Serialize)]
struct SocketAddress {
    address: String,
    port_value: u16,
}

impl Address {
    fn new(address: &str, port: u16) -> Self {
        Self {
            socket_address: SocketAddress {
                address: address.to_owned(),
                port_value: port,
            },
        }
    }
}

/// A file Envoy reads: a certificate, a key, a CA bundle.
#[derive(Debug, Serialize)]
pub(crate) struct DataSource {
    pub(crate) filename: String,
}

/// `{}`: present, with every field at its default.
#[derive(Debug, Serialize)]
struct Empty {}
