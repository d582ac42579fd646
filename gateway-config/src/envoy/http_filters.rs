//! The HTTP filters every request passes through, in order: API-key auth, buffer (JSON
//! bodies only), gRPC-JSON transcoding, the per-client rate limit, and the router.
//!
//! Authentication comes first so that Envoy holds nothing for a client it does not
//! know: a request without a valid key is answered 401 from its headers alone.

use secrecy::{ExposeSecret, SecretString};
use serde::{Serialize, Serializer};

use super::rate_limits::{self, LocalRateLimit};
use crate::{
    profile::{CLIENT_HEADER, COVER_DESIGNER, Profile, SONG_PRODUCER},
    settings::GatewaySettings,
};

#[derive(Debug, Serialize)]
pub(super) struct HttpFilter {
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

/// A client's key: written into the config, and nowhere else (its `Debug` is redacted).
#[derive(Debug, Serialize)]
struct Credential {
    #[serde(serialize_with = "expose")]
    key: SecretString,
    client: String,
}

/// The one place a key leaves its secret wrapper: into the file Envoy reads.
fn expose<S: Serializer>(key: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(key.expose_secret())
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
    max_request_body_size: u32,
    max_response_body_size: u32,
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
struct Router {
    #[serde(rename = "@type")]
    type_url: &'static str,
}

/// The largest JSON request body: far above any valid request (the longest field is a
/// 1000-character description), far below what would let a client make Envoy hold
/// much memory. Larger bodies get 413 before any service sees them.
pub const MAX_JSON_REQUEST_BYTES: u32 = 1024 * 1024;

/// The largest JSON response the transcoder assembles: a cover image
/// (`GET /v1/covers/{id}/image`) is a PNG of a few MiB at 1024×1024.
pub const MAX_JSON_RESPONSE_BYTES: u32 = 16 * 1024 * 1024;

/// The filter chain, in the order Envoy runs it.
pub(super) fn chain(settings: &GatewaySettings, profile: Profile) -> Vec<HttpFilter> {
    vec![
        HttpFilter {
            name: "envoy.filters.http.api_key_auth",
            typed_config: HttpFilterConfig::ApiKeyAuth(api_key_auth(settings)),
        },
        HttpFilter {
            name: "envoy.filters.http.buffer",
            typed_config: HttpFilterConfig::Buffer(Buffer {
                type_url: "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer",
                max_request_bytes: MAX_JSON_REQUEST_BYTES,
            }),
        },
        HttpFilter {
            name: "envoy.filters.http.grpc_json_transcoder",
            typed_config: HttpFilterConfig::Transcoder(transcoder(profile)),
        },
        HttpFilter {
            name: rate_limits::FILTER,
            typed_config: HttpFilterConfig::LocalRateLimit(rate_limits::per_client(settings)),
        },
        HttpFilter {
            name: "envoy.filters.http.router",
            typed_config: HttpFilterConfig::Router(Router {
                type_url: "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
            }),
        },
    ]
}

/// Every client's key, accepted as `x-api-key` or `Authorization: Bearer`; the client's
/// name goes upstream instead of the key.
fn api_key_auth(settings: &GatewaySettings) -> ApiKeyAuth {
    ApiKeyAuth {
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
    }
}

/// JSON over HTTP/1.1 or HTTP/2 in, gRPC out, by the `google.api.http` rules in the
/// descriptor set.
fn transcoder(profile: Profile) -> GrpcJsonTranscoder {
    GrpcJsonTranscoder {
        type_url: "type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder",
        proto_descriptor: profile.descriptor_path(),
        services: vec![SONG_PRODUCER.service, COVER_DESIGNER.service],
        print_options: PrintOptions {
            add_whitespace: false,
            always_print_primitive_fields: false,
            preserve_proto_field_names: false,
            stream_newline_delimited: true,
        },
        convert_grpc_status: true,
        request_validation_options: RequestValidation {
            reject_unknown_method: true,
            reject_unknown_query_parameters: true,
        },
        max_request_body_size: MAX_JSON_REQUEST_BYTES,
        max_response_body_size: MAX_JSON_RESPONSE_BYTES,
    }
}
