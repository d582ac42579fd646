//! The comments written into the YAML, before the first occurrence of each key: one
//! line on why a field is set as it is, where its name does not say.

/// The comment for `key`, if it has one.
pub(crate) fn comment(key: &str) -> Option<&'static str> {
    Some(match key {
        "admin" => "Admin and stats: on 127.0.0.1 only, never published.",
        "overload_manager" => {
            "Envoy's own ceilings, before the machine's: past 95% of the heap it gives memory back,\npast 98% it answers new requests 503 instead of running out of memory."
        }
        "tracing.opentelemetry.min_flush_spans" => {
            "Spans are exported 512 at a time (Envoy's default, 5, is an export per few requests),"
        }
        "tracing.opentelemetry.flush_interval_ms" => "...or each second, whichever comes first.",
        "direct_response" => {
            "The studio's files (studio/), answered by Envoy itself, read when it starts; no API key\nasked (the page asks for it), a strict Content-Security-Policy."
        }
        "max_direct_response_body_size_bytes" => {
            "The largest studio file Envoy serves (its default, 4 KiB, is smaller than the script)."
        }
        "http.max_requests_per_io_cycle" => {
            "One request from a connection per turn of the worker: a client with many calls in\nflight cannot make every other client on that worker wait behind them all."
        }
        "max_active_downstream_connections" => {
            "Open client connections, every client together (GATEWAY_MAX_CONNECTIONS). Beyond it\nnew connections are closed as they arrive; established clients keep working."
        }
        "per_connection_buffer_limit_bytes" => {
            "Envoy stops reading from a connection holding this much unsent data (32 KiB, the\nedge-proxy guide's value): a slow reader or a fast sender cannot make Envoy buffer more."
        }
        "transport_socket_connect_timeout" => {
            "A connection that has not finished its TLS handshake by now is closed."
        }
        "idle_timeout" => {
            "A connection with no request open this long is closed (routes: a stream this long\nwithout a message is ended)."
        }
        "headers_with_underscores_action" => {
            "x_api_key and x-api-key are one header to some servers: a header with an underscore\nis refused (400) rather than let through as an alias of a header we check."
        }
        "max_concurrent_streams" => {
            "HTTP/2 streams one client connection may have open at once (edge-proxy guide: 100)."
        }
        "initial_stream_window_size" => {
            "HTTP/2 flow-control windows: 64 KiB per stream, 1 MiB per connection, instead of\n256 MiB: what a client may send before Envoy lets it send more."
        }
        "request_headers_timeout" => {
            "Headers must arrive within 10 s of the first byte: a client sending them one byte\nat a time (slowloris) is cut off."
        }
        "request_timeout" => {
            "A request must be fully sent (or answered) within 60 s: a body trickled slowly is cut\noff. Streams are answered at once, so a Jam session may last as long as it is active."
        }
        "normalize_path" => {
            "Routes and rate-limit classes match exact paths, so paths are made canonical first:\n/./ and /../ resolved, // merged, %2F unescaped. //v1/songs is /v1/songs, in its bucket."
        }
        "tls_minimum_protocol_version" => "No TLS 1.0 or 1.1.",
        "alpn_protocols" => "gRPC needs h2; curl and browsers may use HTTP/1.1 for JSON.",
        "use_remote_address" => {
            "Envoy is the edge: it sets x-forwarded-for itself and ignores the client's."
        }
        "generate_request_id" => {
            "Every request gets an x-request-id; the services log it on every line."
        }
        "always_set_request_id_in_response" => {
            "And every reply carries it, so a client can quote it (a client's own is replaced)."
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
            "JSON requests match no route until they are transcoded, so only they are buffered\n(up to 1 MiB, once the key is checked; more is 413): Envoy's 429 then reaches a client\nthat is still sending, instead of a reset stream. gRPC routes turn buffering off:\nstreams must flow."
        }
        "metadata" => "The route's rate-limit class: model calls cost money, reads do not.",
        "max_request_body_size" => {
            "The transcoder holds at most 1 MiB of a JSON request and 16 MiB of a JSON response\n(a cover image is a few MiB); beyond, 413 or 500, never unbounded memory."
        }
        "circuit_breakers" => {
            "At most this many requests in flight to the cluster: beyond, 503 at once, not a queue.\nStreams have a cluster of their own, so open streams never use up the budget of reads."
        }
        "http_filters" => {
            "In order. The API key is checked first, from the headers alone: Envoy buffers nothing\nfor a client it does not know."
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
            "Only fields a response sets are printed: our services set every field, and give those that may be empty presence (Song.album_id), so a field a read mask leaves out is absent, not an empty string (AIP-157)."
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
