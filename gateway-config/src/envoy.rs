//! Envoy's bootstrap config for the gateway, as types.
//!
//! Only the fields the gateway uses are modelled, named as Envoy names them (v3 API),
//! so each struct reads like the YAML it becomes. [`Bootstrap::gateway`] assembles the
//! whole config from the settings and a [`Profile`].

use serde::Serialize;

use crate::settings::{GatewaySettings, TokenBucket};

/// Where the gateway runs: the two differ only in addresses and file paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// `docker compose`: upstreams by service name (STRICT_DNS, so every replica of a
    /// `--scale`d service is used), certificates mounted at `/etc/superstar/certs`.
    Compose,
    /// `bin/up`: upstreams on 127.0.0.1, paths relative to the repository root (where
    /// `bin/up` starts Envoy).
    Local,
}

impl Profile {
    /// The profile's name on the command line and in file names.
    pub fn name(self) -> &'static str {
        match self {
            Self::Compose => "compose",
            Self::Local => "local",
        }
    }

    /// Parses `compose` or `local`.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Compose, Self::Local]
            .into_iter()
            .find(|profile| profile.name() == name)
    }

    /// The folder holding the certificates.
    pub fn certs_dir(self) -> &'static str {
        match self {
            Self::Compose => "/etc/superstar/certs",
            Self::Local => "certs",
        }
    }

    /// Where Envoy reads the descriptor set.
    pub fn descriptor_path(self) -> &'static str {
        match self {
            Self::Compose => "/etc/superstar/gateway/superstar.pb",
            Self::Local => "envoy/generated/superstar.pb",
        }
    }

    fn listen_address(self) -> &'static str {
        match self {
            // Inside the container; compose publishes the port.
            Self::Compose => "0.0.0.0",
            Self::Local => "127.0.0.1",
        }
    }

    fn upstream_host(self, upstream: &Upstream) -> &'static str {
        match self {
            Self::Compose => upstream.host,
            Self::Local => "127.0.0.1",
        }
    }

    fn discovery(self) -> &'static str {
        match self {
            Self::Compose => "STRICT_DNS",
            Self::Local => "STATIC",
        }
    }

    fn cert(self, file: &str) -> DataSource {
        DataSource {
            filename: format!("{}/{file}", self.certs_dir()),
        }
    }
}

/// A service behind the gateway.
#[derive(Debug)]
pub struct Upstream {
    /// The cluster's name.
    pub cluster: &'static str,
    /// The compose service name, which is also the certificate's subjectAltName.
    pub host: &'static str,
    /// The gRPC port.
    pub port: u16,
    /// The fully qualified gRPC service.
    pub service: &'static str,
}

/// The song producer.
pub const SONG_PRODUCER: Upstream = Upstream {
    cluster: "song_producer",
    host: "song-producer",
    port: 50051,
    service: superstar_proto::SONG_PRODUCER,
};

/// The cover designer.
pub const COVER_DESIGNER: Upstream = Upstream {
    cluster: "cover_designer",
    host: "cover-designer",
    port: 50052,
    service: superstar_proto::COVER_DESIGNER,
};

/// The header Envoy forwards the authenticated client's name in.
pub const CLIENT_HEADER: &str = "x-superstar-client";

/// The admin interface's port, on 127.0.0.1 only.
pub const ADMIN_PORT: u16 = 9901;

/// The RPCs that call a model: they cost money and are rate-limited hard.
pub const MODEL_RPCS: [(&Upstream, &str); 5] = [
    (&SONG_PRODUCER, "MakeMeSuperstar"),
    (&SONG_PRODUCER, "GenerateLyrics"),
    (&SONG_PRODUCER, "CompileAlbum"),
    (&SONG_PRODUCER, "Jam"),
    (&COVER_DESIGNER, "DesignCover"),
];

const TLS_SOCKET: &str = "envoy.transport_sockets.tls";
const RATE_LIMIT_FILTER: &str = "envoy.filters.http.local_ratelimit";

/// `{}`: present, with every field at its default.
#[derive(Debug, Serialize)]
pub struct Empty {}

/// The whole config.
#[derive(Debug, Serialize)]
pub struct Bootstrap {
    admin: Admin,
    static_resources: StaticResources,
}

#[derive(Debug, Serialize)]
struct Admin {
    address: Address,
}

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

#[derive(Debug, Serialize)]
struct StaticResources {
    listeners: Vec<Listener>,
    clusters: Vec<Cluster>,
}

#[derive(Debug, Serialize)]
struct Listener {
    name: &'static str,
    address: Address,
    filter_chains: Vec<FilterChain>,
}

#[derive(Debug, Serialize)]
struct FilterChain {
    transport_socket: TransportSocket,
    filters: Vec<NetworkFilter>,
}

#[derive(Debug, Serialize)]
struct TransportSocket {
    name: &'static str,
    typed_config: TlsContext,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum TlsContext {
    Downstream {
        #[serde(rename = "@type")]
        type_url: &'static str,
        common_tls_context: CommonTlsContext,
    },
    Upstream {
        #[serde(rename = "@type")]
        type_url: &'static str,
        sni: &'static str,
        common_tls_context: CommonTlsContext,
    },
}

#[derive(Debug, Serialize)]
struct CommonTlsContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_params: Option<TlsParams>,
    alpn_protocols: Vec<&'static str>,
    tls_certificates: Vec<TlsCertificate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    validation_context: Option<ValidationContext>,
}

#[derive(Debug, Serialize)]
struct TlsParams {
    tls_minimum_protocol_version: &'static str,
}

#[derive(Debug, Serialize)]
struct TlsCertificate {
    certificate_chain: DataSource,
    private_key: DataSource,
}

#[derive(Debug, Serialize)]
struct DataSource {
    filename: String,
}

#[derive(Debug, Serialize)]
struct ValidationContext {
    trusted_ca: DataSource,
    match_typed_subject_alt_names: Vec<SanMatcher>,
}

#[derive(Debug, Serialize)]
struct SanMatcher {
    san_type: &'static str,
    matcher: StringMatcher,
}

#[derive(Debug, Serialize)]
struct StringMatcher {
    exact: String,
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
    stream_idle_timeout: &'static str,
    access_log: Vec<AccessLog>,
    local_reply_config: LocalReplyConfig,
    route_config: RouteConfiguration,
    http_filters: Vec<HttpFilter>,
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

#[derive(Debug, Serialize)]
struct RouteConfiguration {
    name: &'static str,
    virtual_hosts: Vec<VirtualHost>,
}

#[derive(Debug, Serialize)]
struct VirtualHost {
    name: &'static str,
    domains: Vec<&'static str>,
    routes: Vec<Route>,
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
    cluster: &'static str,
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
}

#[derive(Debug, Serialize)]
struct RateLimit {
    actions: Vec<RateLimitAction>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
enum RateLimitAction {
    Metadata {
        descriptor_key: &'static str,
        metadata_key: MetadataKey,
        source: &'static str,
    },
    RequestHeaders {
        header_name: &'static str,
        descriptor_key: &'static str,
    },
}

#[derive(Debug, Serialize)]
struct MetadataKey {
    key: &'static str,
    path: Vec<MetadataPathSegment>,
}

#[derive(Debug, Serialize)]
struct MetadataPathSegment {
    key: &'static str,
}

#[derive(Debug, Serialize)]
struct HttpFilter {
    name: &'static str,
    typed_config: HttpFilterConfig,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum HttpFilterConfig {
    Buffer(Buffer),
    ApiKeyAuth(ApiKeyAuth),
    Transcoder(GrpcJsonTranscoder),
    LocalRateLimit(LocalRateLimit),
    Router(Router),
}

#[derive(Debug, Serialize)]
struct Buffer {
    #[serde(rename = "@type")]
    type_url: &'static str,
    max_request_bytes: u32,
}

#[derive(Debug, Serialize)]
struct ApiKeyAuth {
    #[serde(rename = "@type")]
    type_url: &'static str,
    credentials: Vec<Credential>,
    key_sources: Vec<KeySource>,
    forwarding: Forwarding,
}

#[derive(Debug, Serialize)]
struct Credential {
    key: String,
    client: String,
}

#[derive(Debug, Serialize)]
struct KeySource {
    header: &'static str,
}

#[derive(Debug, Serialize)]
struct Forwarding {
    header: &'static str,
    hide_credentials: bool,
}

#[derive(Debug, Serialize)]
struct GrpcJsonTranscoder {
    #[serde(rename = "@type")]
    type_url: &'static str,
    proto_descriptor: &'static str,
    services: Vec<&'static str>,
    print_options: PrintOptions,
    convert_grpc_status: bool,
    request_validation_options: RequestValidation,
}

#[derive(Debug, Serialize)]
struct PrintOptions {
    add_whitespace: bool,
    always_print_primitive_fields: bool,
    preserve_proto_field_names: bool,
    stream_newline_delimited: bool,
}

#[derive(Debug, Serialize)]
struct RequestValidation {
    reject_unknown_method: bool,
    reject_unknown_query_parameters: bool,
}

#[derive(Debug, Serialize)]
struct LocalRateLimit {
    #[serde(rename = "@type")]
    type_url: &'static str,
    stat_prefix: &'static str,
    token_bucket: EnvoyTokenBucket,
    filter_enabled: RuntimePercent,
    filter_enforced: RuntimePercent,
    rate_limited_as_resource_exhausted: bool,
    enable_x_ratelimit_headers: &'static str,
    rate_limits: Vec<RateLimit>,
    descriptors: Vec<RateLimitDescriptor>,
}

#[derive(Debug, Serialize)]
struct EnvoyTokenBucket {
    max_tokens: u32,
    tokens_per_fill: u32,
    fill_interval: &'static str,
}

impl From<TokenBucket> for EnvoyTokenBucket {
    fn from(bucket: TokenBucket) -> Self {
        Self {
            max_tokens: bucket.burst,
            tokens_per_fill: bucket.per_second,
            fill_interval: "1s",
        }
    }
}

#[derive(Debug, Serialize)]
struct RuntimePercent {
    runtime_key: &'static str,
    default_value: FractionalPercent,
}

#[derive(Debug, Serialize)]
struct FractionalPercent {
    numerator: u32,
    denominator: &'static str,
}

#[derive(Debug, Serialize)]
struct RateLimitDescriptor {
    entries: Vec<DescriptorEntry>,
    token_bucket: EnvoyTokenBucket,
}

#[derive(Debug, Serialize)]
struct DescriptorEntry {
    key: &'static str,
    value: String,
}

#[derive(Debug, Serialize)]
struct Router {
    #[serde(rename = "@type")]
    type_url: &'static str,
}

#[derive(Debug, Serialize)]
struct Cluster {
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

/// How a route treats its RPCs.
struct RouteKind {
    timeout: &'static str,
    idle_timeout: Option<&'static str>,
    /// Unary calls honour the client's `grpc-timeout`, up to the route timeout.
    honours_grpc_timeout: bool,
    retry_on: &'static str,
    class: &'static str,
}

/// Reads are idempotent: retried on any transient failure.
const READ: RouteKind = RouteKind {
    timeout: "15s",
    idle_timeout: None,
    honours_grpc_timeout: true,
    retry_on: "connect-failure,refused-stream,reset,unavailable",
    class: "read",
};

/// A model call is retried only when it surely never reached the service: it costs money.
const MODEL_UNARY: RouteKind = RouteKind {
    timeout: "180s",
    idle_timeout: None,
    honours_grpc_timeout: true,
    retry_on: "connect-failure,refused-stream",
    class: "model",
};

/// Streams have no overall timeout, only one for silence.
const MODEL_STREAM: RouteKind = RouteKind {
    timeout: "0s",
    idle_timeout: Some("300s"),
    honours_grpc_timeout: false,
    retry_on: "connect-failure,refused-stream",
    class: "model",
};

/// Reflection and health watches are long-lived streams too.
const INFRASTRUCTURE: RouteKind = RouteKind {
    timeout: "0s",
    idle_timeout: Some("300s"),
    honours_grpc_timeout: false,
    retry_on: "connect-failure,refused-stream",
    class: "read",
};

impl Bootstrap {
    /// The gateway's config for `profile`.
    pub fn gateway(settings: &GatewaySettings, profile: Profile) -> Self {
        Self {
            admin: Admin {
                address: Address::new("127.0.0.1", ADMIN_PORT),
            },
            static_resources: StaticResources {
                listeners: vec![listener(settings, profile)],
                clusters: [&SONG_PRODUCER, &COVER_DESIGNER]
                    .into_iter()
                    .map(|up| cluster(up, profile))
                    .collect(),
            },
        }
    }
}

fn listener(settings: &GatewaySettings, profile: Profile) -> Listener {
    Listener {
        name: "gateway",
        address: Address::new(profile.listen_address(), settings.port),
        filter_chains: vec![FilterChain {
            transport_socket: TransportSocket {
                name: TLS_SOCKET,
                typed_config: TlsContext::Downstream {
                    type_url: "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
                    common_tls_context: CommonTlsContext {
                        tls_params: Some(TlsParams {
                            tls_minimum_protocol_version: "TLSv1_2",
                        }),
                        alpn_protocols: vec!["h2", "http/1.1"],
                        tls_certificates: vec![TlsCertificate {
                            certificate_chain: profile.cert("envoy.pem"),
                            private_key: profile.cert("envoy-key.pem"),
                        }],
                        validation_context: None,
                    },
                },
            },
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
        stream_idle_timeout: "300s",
        access_log: vec![access_log()],
        local_reply_config: local_replies(),
        route_config: RouteConfiguration {
            name: "superstar",
            virtual_hosts: vec![VirtualHost {
                name: "superstar",
                domains: vec!["*"],
                routes: routes(),
            }],
        },
        http_filters: vec![
            HttpFilter {
                name: "envoy.filters.http.buffer",
                typed_config: HttpFilterConfig::Buffer(Buffer {
                    type_url: "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer",
                    max_request_bytes: 1024 * 1024,
                }),
            },
            HttpFilter {
                name: "envoy.filters.http.api_key_auth",
                typed_config: HttpFilterConfig::ApiKeyAuth(ApiKeyAuth {
                    type_url: "type.googleapis.com/envoy.extensions.filters.http.api_key_auth.v3.ApiKeyAuth",
                    credentials: settings
                        .clients
                        .iter()
                        .map(|client| Credential {
                            key: client.key.clone(),
                            client: client.name.clone(),
                        })
                        .collect(),
                    key_sources: vec![
                        KeySource {
                            header: "x-api-key",
                        },
                        KeySource {
                            header: "authorization",
                        },
                    ],
                    forwarding: Forwarding {
                        header: CLIENT_HEADER,
                        hide_credentials: true,
                    },
                }),
            },
            HttpFilter {
                name: "envoy.filters.http.grpc_json_transcoder",
                typed_config: HttpFilterConfig::Transcoder(GrpcJsonTranscoder {
                    type_url: "type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder",
                    proto_descriptor: profile.descriptor_path(),
                    services: vec![SONG_PRODUCER.service, COVER_DESIGNER.service],
                    print_options: PrintOptions {
                        add_whitespace: false,
                        always_print_primitive_fields: true,
                        preserve_proto_field_names: false,
                        stream_newline_delimited: true,
                    },
                    convert_grpc_status: true,
                    request_validation_options: RequestValidation {
                        reject_unknown_method: true,
                        reject_unknown_query_parameters: true,
                    },
                }),
            },
            HttpFilter {
                name: RATE_LIMIT_FILTER,
                typed_config: HttpFilterConfig::LocalRateLimit(rate_limits(settings)),
            },
            HttpFilter {
                name: "envoy.filters.http.router",
                typed_config: HttpFilterConfig::Router(Router {
                    type_url: "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
                }),
            },
        ],
    }
}

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

fn routes() -> Vec<Route> {
    let mut routes = Vec::new();
    for (upstream, method) in MODEL_RPCS {
        let kind = if matches!(method, "GenerateLyrics" | "Jam") {
            MODEL_STREAM
        } else {
            MODEL_UNARY
        };
        let path = format!("/{}/{method}", upstream.service);
        routes.push(route(
            method.to_owned(),
            RouteMatch::Path(path),
            upstream,
            &kind,
        ));
    }
    for upstream in [&SONG_PRODUCER, &COVER_DESIGNER] {
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
            cluster: upstream.cluster,
            timeout: kind.timeout,
            idle_timeout: kind.idle_timeout,
            max_stream_duration: kind.honours_grpc_timeout.then_some(MaxStreamDuration {
                grpc_timeout_header_max: kind.timeout,
            }),
            retry_policy: RetryPolicy {
                retry_on: kind.retry_on,
                num_retries: 2,
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

/// One token bucket per client and class, shared by every route of that class.
fn rate_limits(settings: &GatewaySettings) -> LocalRateLimit {
    let always = |runtime_key| RuntimePercent {
        runtime_key,
        default_value: FractionalPercent {
            numerator: 100,
            denominator: "HUNDRED",
        },
    };
    let mut descriptors = Vec::new();
    for client in &settings.clients {
        for (class, bucket) in [
            ("model", settings.model_limit),
            ("read", settings.read_limit),
        ] {
            descriptors.push(RateLimitDescriptor {
                entries: vec![
                    DescriptorEntry {
                        key: "class",
                        value: class.to_owned(),
                    },
                    DescriptorEntry {
                        key: "client",
                        value: client.name.clone(),
                    },
                ],
                token_bucket: bucket.into(),
            });
        }
    }
    LocalRateLimit {
        type_url: "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
        stat_prefix: "client_rate_limit",
        token_bucket: settings.read_limit.into(),
        filter_enabled: always("superstar.rate_limit.enabled"),
        filter_enforced: always("superstar.rate_limit.enforced"),
        rate_limited_as_resource_exhausted: true,
        enable_x_ratelimit_headers: "DRAFT_VERSION_03",
        rate_limits: vec![RateLimit {
            actions: vec![
                RateLimitAction::Metadata {
                    descriptor_key: "class",
                    metadata_key: MetadataKey {
                        key: "superstar",
                        path: vec![MetadataPathSegment { key: "class" }],
                    },
                    source: "ROUTE_ENTRY",
                },
                RateLimitAction::RequestHeaders {
                    header_name: CLIENT_HEADER,
                    descriptor_key: "client",
                },
            ],
        }],
        descriptors,
    }
}

fn cluster(upstream: &'static Upstream, profile: Profile) -> Cluster {
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
        transport_socket: TransportSocket {
            name: TLS_SOCKET,
            typed_config: TlsContext::Upstream {
                type_url: "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
                sni: upstream.host,
                common_tls_context: CommonTlsContext {
                    tls_params: None,
                    alpn_protocols: vec!["h2"],
                    tls_certificates: vec![TlsCertificate {
                        certificate_chain: profile.cert("envoy-client.pem"),
                        private_key: profile.cert("envoy-client-key.pem"),
                    }],
                    validation_context: Some(ValidationContext {
                        trusted_ca: profile.cert("ca.pem"),
                        match_typed_subject_alt_names: vec![SanMatcher {
                            san_type: "DNS",
                            matcher: StringMatcher {
                                exact: upstream.host.to_owned(),
                            },
                        }],
                    }),
                },
            },
        },
    }
}
