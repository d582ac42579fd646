//! The config's source is `envoy/envoy.yaml.j2`, a commented Envoy config with a few
//! Jinja loops and conditions; this module hands it the settings.
//!
//! The template is compiled into the binary, so `gateway-config` renders the same
//! config wherever it runs (the gateway image has no checkout). Values are written as
//! they are; the template quotes secrets and free text with `tojson`.

use minijinja::{AutoEscape, Environment};
use secrecy::ExposeSecret;
use serde_json::json;

use crate::{Profile, settings::GatewaySettings};

/// The template, as committed.
pub const TEMPLATE: &str = include_str!("../../envoy/envoy.yaml.j2");

/// The first port of each service; replica N (from 0) of `bin/up` listens 10 N above it.
const SONG_PRODUCER_PORT: u16 = 50051;
const COVER_DESIGNER_PORT: u16 = 50052;

/// Renders the config for `profile`.
pub fn render(settings: &GatewaySettings, profile: Profile) -> String {
    let mut environment = Environment::new();
    // minijinja would write every value of a `.yaml` template as JSON; the template
    // quotes what needs it itself.
    environment.set_auto_escape_callback(|_| AutoEscape::None);
    environment.set_keep_trailing_newline(true);
    environment
        .add_template("envoy.yaml", TEMPLATE)
        .expect("the template parses (a test renders it)");
    environment
        .get_template("envoy.yaml")
        .and_then(|template| template.render(context(settings, profile)))
        .expect("the template renders (a test renders it)")
}

/// What the template reads: see its header.
fn context(settings: &GatewaySettings, profile: Profile) -> serde_json::Value {
    let upstream = |host: &str, service: &str, port: u16, replicas: u16| {
        let endpoints: Vec<_> = match profile {
            // One name that resolves to every replica (STRICT_DNS).
            Profile::Compose => vec![json!({"address": host, "port": port})],
            Profile::Local => (0..replicas)
                .map(|index| json!({"address": "127.0.0.1", "port": port + 10 * index}))
                .collect(),
        };
        json!({"host": host, "service": service, "endpoints": endpoints})
    };
    json!({
        "profile": profile.name(),
        "paths": {
            "certs": profile.certs_dir(),
            "studio": profile.studio_dir(),
            "descriptor": profile.descriptor_path(),
        },
        "listen": match profile {
            // Inside the container; compose publishes the port on 127.0.0.1.
            Profile::Compose => "0.0.0.0",
            Profile::Local => "127.0.0.1",
        },
        "port": settings.port,
        "clients": settings.clients.iter().map(|client| json!({
            "name": client.name,
            "key": client.key.expose_secret(),
        })).collect::<Vec<_>>(),
        "model_limit": {"per_second": settings.model_limit.per_second, "burst": settings.model_limit.burst},
        "read_limit": {"per_second": settings.read_limit.per_second, "burst": settings.read_limit.burst},
        "max_connections": settings.max_connections,
        "max_heap_bytes": u64::from(settings.max_heap_mib) << 20,
        "song_producer": upstream("song-producer", superstar_proto::SONG_PRODUCER, SONG_PRODUCER_PORT, settings.song_producer_replicas),
        "cover_designer": upstream("cover-designer", superstar_proto::COVER_DESIGNER, COVER_DESIGNER_PORT, settings.cover_designer_replicas),
        "collector": settings.collector.as_ref().map(|collector| json!({
            "address": collector.host,
            "port": collector.port,
        })),
    })
}
