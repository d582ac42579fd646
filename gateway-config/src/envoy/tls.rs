//! TLS: the certificate clients see on the listener, and mutual TLS towards the services.

use serde::Serialize;

use super::DataSource;
use crate::profile::{Profile, Upstream};

const TLS_SOCKET: &str = "envoy.transport_sockets.tls";

/// The socket a listener's filter chain or a cluster speaks over.
#[derive(Debug, Serialize)]
pub(super) struct TransportSocket {
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

/// The listener's side: the gateway's certificate, TLS 1.2 or later, h2 or HTTP/1.1.
pub(super) fn downstream(profile: Profile) -> TransportSocket {
    TransportSocket {
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
    }
}

/// A cluster's side: Envoy's client certificate, and the service's checked against our CA
/// and its own name.
pub(super) fn upstream(upstream: &Upstream, profile: Profile) -> TransportSocket {
    TransportSocket {
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
    }
}
