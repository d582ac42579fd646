//! docker-compose.yml, checked without a Docker engine: against the Compose
//! Specification's schema, and against the gateway's `compose` profile.

use std::collections::BTreeMap;

use gateway_config::{
    GatewaySettings, Profile,
    profile::{COVER_DESIGNER, SONG_PRODUCER, Upstream},
};
use serde_json::Value;

use super::*;

fn compose() -> Value {
    read_yaml(&repo().join("docker-compose.yml"))
}

#[test]
fn the_compose_file_follows_the_compose_specification() {
    let schema_path = repo().join("system-tests/schemas/compose-spec.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_path).expect("the compose schema"))
            .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    for file in ["docker-compose.yml", "docker-compose.postgres.yml"] {
        let compose = read_yaml(&repo().join(file));
        let errors: Vec<String> = validator
            .iter_errors(&compose)
            .map(|error| format!("{} at {}", error, error.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{file}: {errors:#?}");
    }
}

#[test]
fn every_image_is_a_stage_of_the_one_dockerfile() {
    let compose = compose();
    let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    for (name, service) in compose["services"].as_object().unwrap() {
        if service.get("profiles").is_some() {
            continue; // an extra from an official image: the test below
        }
        let build = &service["build"];
        assert_eq!(build["context"], ".", "{name}");
        assert!(build.get("dockerfile").is_none(), "{name}: one Dockerfile");
        let target = build["target"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} builds a stage"));
        assert!(
            dockerfile
                .lines()
                .any(|line| line.starts_with("FROM ") && line.ends_with(&format!(" AS {target}"))),
            "{name}: no stage {target}"
        );
    }
    assert!(repo().join("envoy/entrypoint.sh").is_file());
}

/// Jaeger, behind the `tracing` profile: the official image at a pinned version, OTLP in
/// on the compose network, and the command the README gives (run by the Docker stage's
/// `docker compose --profile tracing config` test).
/// Prometheus, behind the `monitoring` profile: the official image at a pinned version,
/// the committed config and rules, no secret (run by the Docker stage).
#[test]
fn prometheus_is_an_official_pinned_image_behind_the_monitoring_profile_with_no_secret() {
    let compose = compose();
    let prometheus = &compose["services"]["prometheus"];
    assert_eq!(prometheus["profiles"], serde_json::json!(["monitoring"]));
    assert!(prometheus.get("build").is_none());
    let image = prometheus["image"].as_str().unwrap();
    let version = image
        .strip_prefix("prom/prometheus:v")
        .unwrap_or_else(|| panic!("the official image: {image}"));
    assert!(
        version.split('.').all(|part| part.parse::<u32>().is_ok()),
        "{image}"
    );
    assert!(prometheus.get("secrets").is_none() && prometheus.get("environment").is_none());
    let mounts: Vec<&str> = prometheus["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|volume| volume.as_str().unwrap())
        .collect();
    assert_eq!(
        mounts,
        [
            "./deploy/prometheus/prometheus-compose.yml:/etc/prometheus/prometheus.yml:ro",
            "./deploy/prometheus/rules:/etc/prometheus/rules:ro"
        ]
    );
}

#[test]
fn jaeger_is_an_official_pinned_image_behind_the_tracing_profile() {
    let compose = compose();
    let services = compose["services"].as_object().unwrap();
    let extras: Vec<&String> = services
        .iter()
        .filter(|(_, service)| service.get("profiles").is_some())
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        extras,
        ["jaeger", "prometheus"],
        "the only services behind a profile"
    );
    let jaeger = &compose["services"]["jaeger"];
    assert_eq!(jaeger["profiles"], serde_json::json!(["tracing"]));
    assert!(jaeger.get("build").is_none());
    let image = jaeger["image"].as_str().unwrap();
    let version = image
        .strip_prefix("jaegertracing/jaeger:")
        .unwrap_or_else(|| panic!("the official image: {image}"));
    assert!(
        version.split('.').count() == 3
            && version.split('.').all(|part| part.parse::<u32>().is_ok()),
        "a pinned version: {image}"
    );
    assert_eq!(jaeger["expose"], serde_json::json!(["4317"]));
    let tracing = std::fs::read_to_string(repo().join("docs/tracing.md")).unwrap();
    assert!(
        tracing.contains(
            "OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:4317 docker compose --profile tracing up"
        ),
        "docs/tracing.md says how to start it"
    );
}

#[test]
fn no_container_gets_env_file_or_the_cas_key_or_runs_as_root() {
    let compose = compose();
    for (name, service) in compose["services"].as_object().unwrap() {
        assert!(service.get("env_file").is_none(), "{name} gets all of .env");
        assert_eq!(
            service["user"],
            "${SUPERSTAR_UID:?run bin/dev_init.sh first}:${SUPERSTAR_GID:?run bin/dev_init.sh first}",
            "{name}"
        );
        assert_eq!(service["read_only"], true, "{name}");
        assert_eq!(service["cap_drop"], serde_json::json!(["ALL"]), "{name}");
    }
    // No config or secret is the CA's key, and no volume mounts certs/ or any of it.
    for kind in ["configs", "secrets"] {
        for (name, entry) in compose[kind].as_object().unwrap() {
            let file = entry["file"].as_str().unwrap();
            assert!(
                !file.ends_with("ca-key.pem"),
                "{kind}.{name} is the CA's key"
            );
        }
    }
    for (name, service) in compose["services"].as_object().unwrap() {
        for volume in service["volumes"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let source = volume
                .as_str()
                .or_else(|| volume["source"].as_str())
                .unwrap();
            assert!(!source.contains("certs"), "{name} mounts {source}");
        }
    }
}

#[test]
fn only_the_gateway_port_is_published() {
    let compose = compose();
    let services = compose["services"].as_object().unwrap();
    for (name, service) in services {
        let ports = service["ports"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        if name == "envoy" {
            assert_eq!(
                ports,
                [Value::from(
                    "127.0.0.1:${GATEWAY_PORT:-8443}:${GATEWAY_PORT:-8443}"
                )]
            );
        } else if name == "jaeger" {
            // Its UI, on loopback only; OTLP in stays on the compose network.
            assert_eq!(ports, [Value::from("127.0.0.1:16686:16686")]);
        } else if name == "prometheus" {
            assert_eq!(ports, [Value::from("127.0.0.1:9090:9090")]);
        } else {
            assert!(ports.is_empty(), "{name} publishes {ports:?}");
        }
    }
}

#[test]
fn services_match_the_gateways_compose_profile() {
    let compose = compose();
    let variables: BTreeMap<String, String> = [(
        "SUPERSTAR_API_KEYS".to_owned(),
        "check:0123456789abcdef0123".to_owned(),
    )]
    .into();
    let rendered = gateway_config::render(
        &GatewaySettings::from_variables(&variables).unwrap(),
        Profile::Compose,
    );

    let check = |upstream: &Upstream, metrics_port: u16| {
        let service = &compose["services"][upstream.host];
        assert!(
            service.is_object(),
            "compose has no service {}",
            upstream.host
        );
        let environment = &service["environment"];
        // Envoy dials the service by its compose name on the port the service listens on.
        assert!(
            rendered.contains(&format!("address: {}\n", upstream.host)),
            "{}",
            upstream.host
        );
        assert!(rendered.contains(&format!("port_value: {}\n", upstream.port)));
        assert_eq!(
            environment["LISTEN_ADDR"],
            format!("0.0.0.0:{}", upstream.port)
        );
        assert_eq!(
            environment["METRICS_ADDR"],
            format!("0.0.0.0:{metrics_port}")
        );
        // The certificates the service uses are where the profile mounts them.
        let certs = Profile::Compose.certs_dir();
        assert_eq!(
            environment["TLS_CERT"],
            format!("{certs}/{}.pem", upstream.host)
        );
        assert_eq!(
            environment["TLS_KEY"],
            format!("{certs}/{}-key.pem", upstream.host)
        );
        assert_eq!(environment["TLS_CA"], format!("{certs}/ca.pem"));
        assert_eq!(
            mounted_files(&compose, upstream.host),
            files_of(upstream.host),
            "{}: its own certificates and keys",
            upstream.host
        );
        assert_eq!(
            service["healthcheck"]["test"],
            serde_json::json!(["CMD", "/usr/local/bin/service", "--probe"])
        );
    };
    check(&SONG_PRODUCER, 9101);
    check(&COVER_DESIGNER, 9102);

    let song_producer = &compose["services"]["song-producer"]["environment"];
    assert_eq!(
        song_producer["COVER_DESIGNER_URL"],
        format!("https://{}:{}", COVER_DESIGNER.host, COVER_DESIGNER.port)
    );
    for certificate in ["TLS_CLIENT_CERT", "TLS_CLIENT_KEY"] {
        assert!(
            song_producer[certificate]
                .as_str()
                .unwrap()
                .starts_with(Profile::Compose.certs_dir())
        );
    }

    // Envoy reads the certificates the profile names, where compose puts them.
    let envoy = &compose["services"]["envoy"];
    let envoy_files = [
        "envoy.pem",
        "envoy-key.pem",
        "envoy-client.pem",
        "envoy-client-key.pem",
        "ca.pem",
    ];
    assert_eq!(
        mounted_files(&compose, "envoy"),
        envoy_files
            .iter()
            .map(|file| format!("{}/{file}", Profile::Compose.certs_dir()))
            .collect()
    );
    for file in envoy_files {
        assert!(
            rendered.contains(&format!(
                "filename: {}/{file}",
                Profile::Compose.certs_dir()
            )),
            "{file}"
        );
    }
    // Envoy waits for healthy services, and the song producer for the cover designer.
    assert_eq!(
        envoy["depends_on"]["song-producer"]["condition"],
        "service_healthy"
    );
    assert_eq!(
        compose["services"]["song-producer"]["depends_on"]["cover-designer"]["condition"],
        "service_healthy"
    );
}

/// Where a service's configs and secrets land, each checked to come from the file of the
/// same name in certs/.
fn mounted_files(compose: &Value, service: &str) -> std::collections::BTreeSet<String> {
    let mut files = std::collections::BTreeSet::new();
    for kind in ["configs", "secrets"] {
        for mount in compose["services"][service][kind].as_array().unwrap() {
            let target = mount["target"].as_str().unwrap();
            let source = mount["source"].as_str().unwrap();
            let file = compose[kind][source]["file"].as_str().unwrap();
            assert_eq!(
                file.trim_start_matches("./certs/"),
                target.rsplit('/').next().unwrap(),
                "{service}: {source}"
            );
            files.insert(target.to_owned());
        }
    }
    files
}

/// The files a service needs: its certificate and key, the CA's certificate, and the
/// song producer's client certificate and key towards the cover designer.
fn files_of(host: &str) -> std::collections::BTreeSet<String> {
    let certs = Profile::Compose.certs_dir();
    let mut files: std::collections::BTreeSet<String> = [
        format!("{certs}/ca.pem"),
        format!("{certs}/{host}.pem"),
        format!("{certs}/{host}-key.pem"),
    ]
    .into();
    if host == SONG_PRODUCER.host {
        files.insert(format!("{certs}/{host}-client.pem"));
        files.insert(format!("{certs}/{host}-client-key.pem"));
    }
    files
}

#[test]
fn every_variable_compose_reads_is_documented() {
    let compose = std::fs::read_to_string(repo().join("docker-compose.yml")).unwrap()
        + &std::fs::read_to_string(repo().join("docker-compose.postgres.yml")).unwrap();
    let example = std::fs::read_to_string(repo().join(".env.example")).unwrap();
    let mut rest = compose.as_str();
    while let Some(start) = rest.find("${") {
        let name: String = rest[start + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        assert!(
            example.contains(&name),
            "{name} is used by docker-compose.yml but not documented in .env.example"
        );
        rest = &rest[start + 2..];
    }
}
