//! The comments written into the YAML, before the first occurrence of each key: one
//! line on why a field is set as it is, where its name does not say.

/// The comment for `key`, if it has one.
pub(crate) fn comment(key: &str) -> Option<&'static str> {
    Some(match key {
        "admin" => "Admin and stats: on 127.0.0.1 only, never published.",
        "tls_minimum_protocol_version" => "No TLS 1.0 or 1.1.",
        "alpn_protocols" => "gRPC needs h2; curl and browsers may use HTTP/1.1 for JSON.",
        "use_remote_address" => {
            "Envoy is the edge: it sets x-forwarded-for itself and ignores the client's."
        }
        "generate_request_id" => {
            "Every request gets an x-request-id; the services log it on every line."
        }
        "stream_idle_timeout" => "A stream or connection silent this long is closed.",
        "local_reply_config" => {
            "Envoy's own errors (401, 404, 429, 503) as JSON for JSON clients; gRPC clients get a grpc-status."
        }
        "max_stream_duration" => {
            "Unary calls honour the client's grpc-timeout, up to the route's timeout."
        }
        "retry_on" => {
            "A model call is retried only when it surely never reached the service: it costs money.\nReads are also retried on a reset or UNAVAILABLE."
        }
        "typed_per_filter_config" => {
            "JSON requests match no route until they are transcoded, so only they are buffered\n(up to 1 MiB): Envoy's own early replies (401, 429) then reach clients that are still\nsending, instead of a reset stream. gRPC routes turn buffering off: streams must flow."
        }
        "metadata" => "The route's rate-limit class: model calls cost money, reads do not.",
        "idle_timeout" => {
            "Streams have no overall timeout; they end after this long without a message."
        }
        "credentials" => {
            "From SUPERSTAR_API_KEYS. Secrets: a rendered config is git-ignored and readable by its owner only."
        }
        "forwarding" => {
            "The key is removed before the request goes upstream; the client's name goes instead."
        }
        "stream_newline_delimited" => {
            "A server stream is newline-delimited JSON, one message per line, sent as produced."
        }
        "always_print_primitive_fields" => {
            "Empty strings and zeros are printed, so every field is always there."
        }
        "convert_grpc_status" => {
            "gRPC errors become JSON {code, message} bodies with the matching HTTP status."
        }
        "reject_unknown_method" => {
            "An unknown JSON path is 404, not a gRPC call that fails with 415."
        }
        "token_bucket" => "Filter level: for requests matching no descriptor (none should).",
        "always_consume_default_token_bucket" => {
            "A request takes a token from its own client's bucket only. Envoy's default (true) also\ntakes one from the bucket above for every request of every client: one shared bucket\nin which a single flooding client would starve all the others."
        }
        "rate_limited_as_resource_exhausted" => {
            "gRPC clients get RESOURCE_EXHAUSTED, not UNAVAILABLE, when limited."
        }
        "rate_limits" => {
            "Which bucket a request takes a token from: its route's class and its client."
        }
        "descriptors" => {
            "One token bucket per client and class (model calls, reads), shared by every route of the class."
        }
        "type" => {
            "STRICT_DNS resolves every replica of a scaled compose service; STATIC is one address."
        }
        "typed_extension_protocol_options" => "gRPC upstreams speak HTTP/2.",
        "health_checks" => {
            "Active gRPC health checks: a service turning NOT_SERVING leaves the rotation."
        }
        "sni" => {
            "Mutual TLS to every service: Envoy shows its client certificate, and checks theirs."
        }
        "match_typed_subject_alt_names" => {
            "The service must present a certificate from our CA for its own name."
        }
        _ => return None,
    })
}
