//! The studio (`studio/`): the web page the gateway serves on its own origin, so that
//! the page and the API share one TLS port and no CORS is needed. Envoy answers each
//! file itself (a direct response read from the file when Envoy starts), with no API
//! key asked (the page asks for it) and strict headers: a Content-Security-Policy that
//! allows this origin's script, style and calls only, and nothing inline.
//!
//! The files count against no client's bucket: requests without a key take a token
//! from the rate-limit filter's default bucket, which no API request touches.

use serde::Serialize;

use crate::profile::Profile;

/// Each path, its file under the studio folder, and its content type.
pub const FILES: [(&str, &str, &str); 3] = [
    ("/", "index.html", "text/html; charset=utf-8"),
    ("/studio/app.js", "app.js", "text/javascript; charset=utf-8"),
    ("/studio/style.css", "style.css", "text/css; charset=utf-8"),
];

/// Only this origin's script, style and connections; images from it and from `blob:`
/// URLs (covers are fetched with the key in a header, then shown from a blob); no
/// inline script or style, no plugins, no framing, no `<base>`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' blob:; connect-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// The largest file Envoy will serve itself (its default, 4 KiB, is less than the
/// script); a test keeps every studio file under it.
pub const MAX_FILE_BYTES: u32 = 64 * 1024;

#[derive(Debug, Serialize)]
pub(super) struct StaticRoute {
    name: String,
    #[serde(rename = "match")]
    route_match: PathMatch,
    direct_response: DirectResponse,
    response_headers_to_add: Vec<HeaderValueOption>,
    typed_per_filter_config: StudioFilters,
}

#[derive(Debug, Serialize)]
struct PathMatch {
    path: &'static str,
}

#[derive(Debug, Serialize)]
struct DirectResponse {
    status: u16,
    body: FileSource,
}

#[derive(Debug, Serialize)]
struct FileSource {
    filename: String,
}

#[derive(Debug, Serialize)]
struct HeaderValueOption {
    header: Header,
    append_action: &'static str,
}

#[derive(Debug, Serialize)]
struct Header {
    key: &'static str,
    value: &'static str,
}

/// The filters a studio file skips: no API key asked, and no transcoding (which would
/// answer 404 for a path that is not an RPC's).
#[derive(Debug, Serialize)]
struct StudioFilters {
    #[serde(rename = "envoy.filters.http.api_key_auth")]
    api_key_auth: Disabled,
    #[serde(rename = "envoy.filters.http.grpc_json_transcoder")]
    transcoder: Disabled,
}

#[derive(Debug, Serialize)]
struct Disabled {
    #[serde(rename = "@type")]
    type_url: &'static str,
    disabled: bool,
}

impl Disabled {
    fn new() -> Self {
        Self {
            type_url: "type.googleapis.com/envoy.config.route.v3.FilterConfig",
            disabled: true,
        }
    }
}

/// A route per studio file.
pub(super) fn routes(profile: Profile) -> Vec<StaticRoute> {
    FILES
        .iter()
        .map(|(path, file, content_type)| {
            let header = |key, value| HeaderValueOption {
                header: Header { key, value },
                append_action: "OVERWRITE_IF_EXISTS_OR_ADD",
            };
            StaticRoute {
                name: format!("studio {file}"),
                route_match: PathMatch { path },
                direct_response: DirectResponse {
                    status: 200,
                    body: FileSource {
                        filename: format!("{}/{file}", profile.studio_dir()),
                    },
                },
                response_headers_to_add: vec![
                    header("content-type", content_type),
                    header("content-security-policy", CONTENT_SECURITY_POLICY),
                    header("x-content-type-options", "nosniff"),
                    header("referrer-policy", "no-referrer"),
                    header("cache-control", "no-cache"),
                ],
                typed_per_filter_config: StudioFilters {
                    api_key_auth: Disabled::new(),
                    transcoder: Disabled::new(),
                },
            }
        })
        .collect()
}
