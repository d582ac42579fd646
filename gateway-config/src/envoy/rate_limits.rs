//! Per-client rate limits: one token bucket per client and class of route (model calls,
//! reads), shared by every route of that class.
//!
//! Each request's descriptor is built from its route's `class` (route metadata) and the
//! client's name, which the API-key filter has put in [`CLIENT_HEADER`] by then.

use serde::Serialize;

use crate::{
    profile::CLIENT_HEADER,
    settings::{GatewaySettings, TokenBucket},
};

/// The filter's name.
pub(super) const FILTER: &str = "envoy.filters.http.local_ratelimit";

#[derive(Debug, Serialize)]
pub(super) struct LocalRateLimit {
    #[serde(rename = "@type")]
    type_url: &'static str,
    stat_prefix: &'static str,
    token_bucket: EnvoyTokenBucket,
    always_consume_default_token_bucket: bool,
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

/// One token bucket per client and class, shared by every route of that class.
pub(super) fn per_client(settings: &GatewaySettings) -> LocalRateLimit {
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
        always_consume_default_token_bucket: false,
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
