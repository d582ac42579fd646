//! Which service answers which path, and how: timeouts, retries, and the rate-limit
//! class each route's requests are counted in.
//!
//! gRPC paths are `/package.Service/Method`; the transcoder rewrites a JSON request to
//! its gRPC path before routing, so one table serves both.

use serde::Serialize;

use super::{
    clusters::{Traffic, cluster_name},
    studio::{self, StaticRoute},
};
use crate::profile::{MODEL_RPCS, Profile, SONG_PRODUCER, UPSTREAMS, Upstream};

#[derive(Debug, Serialize)]
pub(super) struct RouteConfiguration {
    name: &'static str,
    virtual_hosts: Vec<VirtualHost>,
    max_direct_response_body_size_bytes: u32,
}

#[derive(Debug, Serialize)]
struct VirtualHost {
    name: &'static str,
    domains: Vec<&'static str>,
    routes: Vec<AnyRoute>,
}

/// A route to a service, or one Envoy answers itself (the studio's files).
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum AnyRoute {
    Static(StaticRoute),
    Service(Route),
}

#[derive(Debug, Serialize)]
struct Route {
    name: String,
    #[serde(rename = "match")]
    route_match: RouteMatch,
    route: RouteAction,
    typed_per_filter_config: PerFilterConfig,
    metadata: RouteMetadata,
}

#[derive(Debug, Serialize)]
struct PerFilterConfig {
    #[serde(rename = "envoy.filters.http.buffer")]
    buffer: BufferPerRoute,
}

#[derive(Debug, Serialize)]
struct BufferPerRoute {
    #[serde(rename = "@type")]
    type_url: &'static str,
    disabled: bool,
}

#[derive(Debug, Serialize)]
struct RouteMetadata {
    filter_metadata: SuperstarMetadata,
}

#[derive(Debug, Serialize)]
struct SuperstarMetadata {
    superstar: RouteClass,
}

#[derive(Debug, Serialize)]
struct RouteClass {
    class: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
enum RouteMatch {
    Path(String),
    Prefix(String),
}

#[derive(Debug, Serialize)]
struct RouteAction {
    cluster: String,
    timeout: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    idle_timeout: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_stream_duration: Option<MaxStreamDuration>,
    retry_policy: RetryPolicy,
}

#[derive(Debug, Serialize)]
struct MaxStreamDuration {
    grpc_timeout_header_max: &'static str,
}

#[derive(Debug, Serialize)]
struct RetryPolicy {
    retry_on: &'static str,
    num_retries: u32,
    /// A retry goes to a replica the request has not tried yet: the one that failed it
    /// is likely dead.
    retry_host_predicate: Vec<TypedExtension>,
    /// How many picks a retry may make to find such a replica.
    host_selection_retry_max_attempts: u32,
}

#[derive(Debug, Serialize)]
struct TypedExtension {
    name: &'static str,
    typed_config: TypeOnly,
}

#[derive(Debug, Serialize)]
struct TypeOnly {
    #[serde(rename = "@type")]
    type_url: &'static str,
}

/// How a route treats its RPCs.
struct RouteKind {
    timeout: &'static str,
    idle_timeout: Option<&'static str>,
    /// Unary calls honour the client's `grpc-timeout`, up to the route timeout.
    honours_grpc_timeout: bool,
    retry_on: &'static str,
    class: &'static str,
    traffic: Traffic,
}

/// Reads are idempotent: retried on any transient failure.
const READ: RouteKind = RouteKind {
    timeout: "15s",
    idle_timeout: None,
    honours_grpc_timeout: true,
    retry_on: "connect-failure,refused-stream,reset,unavailable",
    class: "read",
    traffic: Traffic::Unary,
};

/// A model call is retried only when it surely never reached the service: it costs money.
const MODEL_UNARY: RouteKind = RouteKind {
    timeout: "180s",
    idle_timeout: None,
    honours_grpc_timeout: true,
    retry_on: "connect-failure,refused-stream",
    class: "model",
    traffic: Traffic::Unary,
};

/// A client stream (`CompileAlbum`): timed like a unary call once the client has sent
/// everything, but holding a slot in the streams' budget while it sends.
const MODEL_CLIENT_STREAM: RouteKind = RouteKind {
    traffic: Traffic::Streams,
    ..MODEL_UNARY
};

/// Streams have no overall timeout, only one for silence.
const MODEL_STREAM: RouteKind = RouteKind {
    timeout: "0s",
    idle_timeout: Some("300s"),
    honours_grpc_timeout: false,
    retry_on: "connect-failure,refused-stream",
    class: "model",
    traffic: Traffic::Streams,
};

/// Reflection and health watches are long-lived streams too.
const INFRASTRUCTURE: RouteKind = RouteKind {
    timeout: "0s",
    idle_timeout: Some("300s"),
    honours_grpc_timeout: false,
    retry_on: "connect-failure,refused-stream",
    class: "read",
    traffic: Traffic::Streams,
};

/// The route table: one virtual host, any domain; the studio's files, then the API.
pub(super) fn route_config(profile: Profile) -> RouteConfiguration {
    RouteConfiguration {
        name: "superstar",
        virtual_hosts: vec![VirtualHost {
            name: "superstar",
            domains: vec!["*"],
            routes: studio::routes(profile)
                .into_iter()
                .map(AnyRoute::Static)
                .chain(routes().into_iter().map(AnyRoute::Service))
                .collect(),
        }],
        max_direct_response_body_size_bytes: studio::MAX_FILE_BYTES,
    }
}

/// Model RPCs first (each by its exact path), then each service's reads by prefix, then
/// reflection and health.
fn routes() -> Vec<Route> {
    let mut routes = Vec::new();
    for (upstream, method) in MODEL_RPCS {
        let kind = match method {
            "StreamAlbum" | "GenerateLyrics" | "Jam" => MODEL_STREAM,
            "CompileAlbum" => MODEL_CLIENT_STREAM,
            _ => MODEL_UNARY,
        };
        let path = format!("/{}/{method}", upstream.service);
        routes.push(route(
            method.to_owned(),
            RouteMatch::Path(path),
            upstream,
            &kind,
        ));
    }
    for upstream in UPSTREAMS {
        let prefix = format!("/{}/", upstream.service);
        routes.push(route(
            format!("{}_reads", upstream.cluster),
            RouteMatch::Prefix(prefix),
            upstream,
            &READ,
        ));
    }
    // Either service answers reflection for the whole contract, and health for itself
    // and the server; the song producer takes them.
    for (name, prefix) in [
        ("reflection", "/grpc.reflection."),
        ("health", "/grpc.health.v1.Health/"),
    ] {
        routes.push(route(
            name.to_owned(),
            RouteMatch::Prefix(prefix.to_owned()),
            &SONG_PRODUCER,
            &INFRASTRUCTURE,
        ));
    }
    routes
}

fn route(name: String, route_match: RouteMatch, upstream: &Upstream, kind: &RouteKind) -> Route {
    Route {
        name,
        route_match,
        route: RouteAction {
            cluster: cluster_name(upstream, kind.traffic),
            timeout: kind.timeout,
            idle_timeout: kind.idle_timeout,
            max_stream_duration: kind.honours_grpc_timeout.then_some(MaxStreamDuration {
                grpc_timeout_header_max: kind.timeout,
            }),
            retry_policy: RetryPolicy {
                retry_on: kind.retry_on,
                num_retries: 2,
                retry_host_predicate: vec![TypedExtension {
                    name: "envoy.retry_host_predicates.previous_hosts",
                    typed_config: TypeOnly {
                        type_url: "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate",
                    },
                }],
                host_selection_retry_max_attempts: 3,
            },
        },
        typed_per_filter_config: PerFilterConfig {
            buffer: BufferPerRoute {
                type_url: "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute",
                disabled: true,
            },
        },
        metadata: RouteMetadata {
            filter_metadata: SuperstarMetadata {
                superstar: RouteClass { class: kind.class },
            },
        },
    }
}
