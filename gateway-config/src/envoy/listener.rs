//! The gateway's one listener: TLS on the public port, then Envoy's HTTP connection
//! manager, which logs every request and shapes Envoy's own error replies.

use serde::Serialize;

use super::{
    Address, http_filters,
    http_filters::HttpFilter,
    routes::{self, RouteConfiguration},
    tls::{self, TransportSocket},
};
use crate::{profile::Profile, settings::GatewaySettings};

#[derive(Debug, Serialize)]
pub(super) struct Listener {
    name: &'static str,
    address: Address,
    per_connection_buffer_limit_bytes: u32,
    filter_chains: Vec<FilterChain>,
}

#[derive(Debug, Serialize)]
struct FilterChain {
    transport_socket: TransportSocket,
    transport_socket_connect_timeout: &'static str,
    filters: Vec<NetworkFilter>,
}

#[derive(Debug, Serialize)]
struct NetworkFilter {
    name: &'static str,
    typed_config: HttpConnectionManager,
}

#[derive(Debug, Serialize)]
struct HttpConnectionManager {
    #[serde(rename = "@type")]
    type_url: &'static str,
    stat_prefix: &'static str,
    codec_type: &'static str,
    use_remote_address: bool,
    generate_request_id: bool,
    always_set_request_id_in_response: bool,
    common_http_protocol_options: CommonHttpProtocolOptions,
    http2_protocol_options: Http2ProtocolOptions,
    request_headers_timeout: &'static str,
    request_timeout: &'static str,
    stream_idle_timeout: &'static str,
    normalize_path: bool,
    merge_slashes: bool,
    path_with_escaped_slashes_action: &'static str,
    access_log: Vec<AccessLog>,
    local_reply_config: LocalReplyConfig,
    route_config: RouteConfiguration,
    http_filters: Vec<HttpFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tracing: Option<super::tracing::Tracing>,
}

#[derive(Debug, Serialize)]
struct CommonHttpProtocolOptions {
    idle_timeout: &'static str,
    headers_with_underscores_action: &'static str,
}

#[derive(Debug, Serialize)]
struct Http2ProtocolOptions {
    max_concurrent_streams: u32,
    initial_stream_window_size: u32,
    initial_connection_window_size: u32,
}

#[derive(Debug, Serialize)]
struct AccessLog {
    name: &'static str,
    typed_config: StdoutAccessLog,
}

#[derive(Debug, Serialize)]
struct StdoutAccessLog {
    #[serde(rename = "@type")]
    type_url: &'static str,
    log_format: LogFormat,
}

#[derive(Debug, Serialize)]
struct LogFormat {
    json_format: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize)]
struct LocalReplyConfig {
    mappers: Vec<ResponseMapper>,
}

#[derive(Debug, Serialize)]
struct ResponseMapper {
    filter: AccessLogFilter,
    body_format_override: BodyFormat,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
enum AccessLogFilter {
    StatusCodeFilter { comparison: Comparison },
}

#[derive(Debug, Serialize)]
struct Comparison {
    op: &'static str,
    value: RuntimeUInt32,
}

#[derive(Debug, Serialize)]
struct RuntimeUInt32 {
    default_value: u16,
    runtime_key: String,
}

#[derive(Debug, Serialize)]
struct BodyFormat {
    json_format: serde_json::Map<String, serde_json::Value>,
    content_type: &'static str,
}

/// What Envoy holds per client connection before it stops reading from it (and per
/// upstream connection before it stops reading the service): 32 KiB, as Envoy's
/// edge-proxy guide advises. Larger bodies flow through, paced; the transcoder and the
/// buffer filter have limits of their own.
pub(super) const CONNECTION_BUFFER_BYTES: u32 = 32 * 1024;

/// Streams one client connection may have open at once; Envoy refuses more.
pub const MAX_CONCURRENT_STREAMS: u32 = 100;

/// The listener clients connect to.
pub(super) fn gateway(settings: &GatewaySettings, profile: Profile) -> Listener {
    Listener {
        name: "gateway",
        address: Address::new(profile.listen_address(), settings.port),
        per_connection_buffer_limit_bytes: CONNECTION_BUFFER_BYTES,
        filter_chains: vec![FilterChain {
            transport_socket: tls::downstream(profile),
            transport_socket_connect_timeout: "10s",
            filters: vec![NetworkFilter {
                name: "envoy.filters.network.http_connection_manager",
                typed_config: connection_manager(settings, profile),
            }],
        }],
    }
}

fn connection_manager(settings: &GatewaySettings, profile: Profile) -> HttpConnectionManager {
    HttpConnectionManager {
        type_url: "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        stat_prefix: "gateway",
        codec_type: "AUTO",
        use_remote_address: true,
        generate_request_id: true,
        always_set_request_id_in_response: true,
        common_http_protocol_options: CommonHttpProtocolOptions {
            idle_timeout: "900s",
            headers_with_underscores_action: "REJECT_REQUEST",
        },
        http2_protocol_options: Http2ProtocolOptions {
            max_concurrent_streams: MAX_CONCURRENT_STREAMS,
            initial_stream_window_size: 64 * 1024,
            initial_connection_window_size: 1024 * 1024,
        },
        request_headers_timeout: "10s",
        request_timeout: "60s",
        stream_idle_timeout: "300s",
        normalize_path: true,
        merge_slashes: true,
        path_with_escaped_slashes_action: "UNESCAPE_AND_FORWARD",
        access_log: vec![access_log()],
        local_reply_config: local_replies(),
        route_config: routes::route_config(profile),
        http_filters: http_filters::chain(settings, profile),
        tracing: settings
            .collector
            .as_ref()
            .map(|_| super::tracing::tracing()),
    }
}

/// One JSON line per request on stdout.
fn access_log() -> AccessLog {
    let fields = [
        ("time", "%START_TIME%"),
        ("request_id", "%REQ(X-REQUEST-ID)%"),
        ("client", "%REQ(X-SUPERSTAR-CLIENT)%"),
        ("method", "%REQ(:METHOD)%"),
        ("path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"),
        ("protocol", "%PROTOCOL%"),
        ("status", "%RESPONSE_CODE%"),
        ("grpc_status", "%GRPC_STATUS%"),
        ("flags", "%RESPONSE_FLAGS%"),
        ("duration_ms", "%DURATION%"),
        ("upstream", "%UPSTREAM_CLUSTER%"),
    ];
    AccessLog {
        name: "envoy.access_loggers.stdout",
        typed_config: StdoutAccessLog {
            type_url: "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
            log_format: LogFormat {
                json_format: fields
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.into()))
                    .collect(),
            },
        },
    }
}

/// Envoy's own replies to JSON clients, in the shape the transcoder gives gRPC errors.
fn local_replies() -> LocalReplyConfig {
    let mapper = |status: u16, code: u32, message: &str| ResponseMapper {
        // gRPC clients keep their grpc-status: Envoy ignores the body format for them.
        filter: AccessLogFilter::StatusCodeFilter {
            comparison: Comparison {
                op: "EQ",
                value: RuntimeUInt32 {
                    default_value: status,
                    runtime_key: format!("superstar.local_reply.{status}"),
                },
            },
        },
        body_format_override: BodyFormat {
            json_format: [
                ("code".to_owned(), code.into()),
                ("message".to_owned(), message.into()),
            ]
            .into_iter()
            .collect(),
            content_type: "application/json",
        },
    };
    LocalReplyConfig {
        mappers: vec![
            mapper(
                401,
                16,
                "missing or unknown API key: send x-api-key or Authorization: Bearer",
            ),
            mapper(404, 5, "no such path: %REQ(:PATH)%"),
            mapper(429, 8, "rate limit exceeded; retry later"),
            mapper(503, 14, "%LOCAL_REPLY_BODY%"),
        ],
    }
}
