//! Renders the Superstar gateway's Envoy config.
//!
//! The config's source is [`envoy/envoy.yaml.j2`](../../envoy/envoy.yaml.j2): Envoy's
//! own YAML, commented next to what each part does, with a few Jinja loops and
//! conditions (minijinja). This crate reads the `.env` settings ([`settings`]), hands
//! them to the template for one of two [`Profile`]s (`compose`: upstreams by service
//! name; `local`: upstreams on 127.0.0.1, for `bin/up`), and writes the result next to
//! the descriptor set the gRPC-JSON transcoder reads.
//!
//! The template is compiled into the binary, so `gateway-config` renders the same
//! config wherever it runs (the gateway image has no checkout). `examples/` holds both
//! profiles rendered with placeholder keys; a test fails when they and the template
//! drift apart, and another runs `envoy --mode validate` on every rendering.

pub mod openapi;
pub mod profile;
pub mod settings;

use std::{io, path::Path};

use minijinja::{AutoEscape, Environment};
use secrecy::ExposeSecret;
use serde_json::json;

pub use profile::Profile;
use profile::{COVER_DESIGNER, SONG_PRODUCER, Upstream};
pub use settings::{GatewaySettings, Ports};

/// The template, as committed.
pub const TEMPLATE: &str = include_str!("../../envoy/envoy.yaml.j2");

/// Where `gateway-config` writes by default, and the local profile's Envoy reads: the
/// repository's `envoy/generated`.
pub const GENERATED: &str = "envoy/generated";

/// The config for `profile`, as commented YAML, reading the descriptor set and the
/// OpenAPI document from [`GENERATED`] (the local profile) or the image (compose).
pub fn render(settings: &GatewaySettings, profile: Profile) -> String {
    render_for(settings, profile, Path::new(GENERATED))
}

/// [`render`], the local profile reading what [`write`] puts beside the config in
/// `generated` (a path relative to the repository's root, or absolute).
fn render_for(settings: &GatewaySettings, profile: Profile, generated: &Path) -> String {
    let mut environment = Environment::new();
    // minijinja would write every value of a `.yaml` template as JSON; the template
    // quotes what needs it itself (`tojson`: a JSON string is a YAML string).
    environment.set_auto_escape_callback(|_| AutoEscape::None);
    environment.set_keep_trailing_newline(true);
    environment
        .add_template("envoy.yaml", TEMPLATE)
        .and_then(|()| environment.get_template("envoy.yaml"))
        .and_then(|template| template.render(context(settings, profile, generated)))
        .expect("the committed template renders (its tests render every variant)")
}

/// What the template reads: see its header.
fn context(settings: &GatewaySettings, profile: Profile, generated: &Path) -> serde_json::Value {
    // Compose's containers listen on the default ports inside their own network.
    let ports = match profile {
        Profile::Compose => Ports::default(),
        Profile::Local => settings.ports,
    };
    let upstream = |upstream: &Upstream, port: u16, replicas: u16| {
        let endpoints: Vec<_> = match profile {
            // One name that resolves to every replica (STRICT_DNS).
            Profile::Compose => vec![json!({"address": upstream.host, "port": port})],
            Profile::Local => (0..replicas)
                .map(|index| json!({"address": "127.0.0.1", "port": port + 10 * index}))
                .collect(),
        };
        json!({"host": upstream.host, "service": upstream.service, "endpoints": endpoints})
    };
    let generated_file = |name: &str, compose_path: &'static str| match profile {
        Profile::Compose => compose_path.to_owned(),
        Profile::Local => generated.join(name).display().to_string(),
    };
    json!({
        "profile": profile.name(),
        "paths": {
            "certs": profile.certs_dir(),
            "studio": profile.studio_dir(),
            "descriptor": generated_file("superstar.pb", profile.descriptor_path()),
            "openapi": generated_file("openapi.json", profile.openapi_path()),
        },
        "listen": match profile {
            // Inside the container; compose publishes the port on 127.0.0.1.
            Profile::Compose => "0.0.0.0",
            Profile::Local => "127.0.0.1",
        },
        "port": settings.port,
        "admin_port": ports.admin,
        "stats_port": ports.stats,
        "clients": settings.clients.iter().map(|client| json!({
            "name": client.name,
            "key": client.key.expose_secret(),
        })).collect::<Vec<_>>(),
        "model_limit": {"per_second": settings.model_limit.per_second, "burst": settings.model_limit.burst},
        "read_limit": {"per_second": settings.read_limit.per_second, "burst": settings.read_limit.burst},
        "max_connections": settings.max_connections,
        "max_heap_bytes": u64::from(settings.max_heap_mib) << 20,
        "model_timeout_secs": settings.model_timeout_secs,
        "song_producer": upstream(&SONG_PRODUCER, ports.song_producer, settings.song_producer_replicas),
        "cover_designer": upstream(&COVER_DESIGNER, ports.cover_designer, settings.cover_designer_replicas),
        "collector": settings.collector.as_ref().map(|collector| json!({
            "address": collector.host,
            "port": collector.port,
        })),
    })
}

/// Writes `envoy-{profile}.yaml`, the descriptor set `superstar.pb` and the OpenAPI
/// document `openapi.json` into `folder`.
///
/// Each file is written whole under a temporary name in `folder` and renamed over the old
/// one, so an Envoy starting meanwhile (bin/up renders while `bin/dev_init.sh` may too)
/// reads the old file or the new one, never half of one. The config holds the API keys:
/// its temporary file is created readable by its owner only (`tempfile`'s default mode,
/// 0600), so they are never readable by others, not even for a moment.
pub fn write(settings: &GatewaySettings, profile: Profile, folder: &Path) -> io::Result<()> {
    std::fs::create_dir_all(folder)?;
    replace(
        folder,
        "superstar.pb",
        superstar_proto::FILE_DESCRIPTOR_SET,
        false,
    )?;
    replace(folder, "openapi.json", openapi_json().as_bytes(), false)?;
    let config = format!("envoy-{}.yaml", profile.name());
    let rendered = render_for(settings, profile, folder);
    replace(folder, &config, rendered.as_bytes(), true)
}

/// The OpenAPI document as it is served and committed (`docs/openapi.json`): pretty
/// JSON, ending in a newline.
pub fn openapi_json() -> String {
    let mut text =
        serde_json::to_string_pretty(&openapi::document()).expect("a JSON value serializes");
    text.push('\n');
    text
}

/// Writes `bytes` to `folder/name` by renaming a complete temporary file over it; a file
/// that is not `private` is made readable by all, as `std::fs::write` would leave it.
fn replace(folder: &Path, name: &str, bytes: &[u8], private: bool) -> io::Result<()> {
    use std::io::Write;
    let mut file = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .tempfile_in(folder)?;
    file.write_all(bytes)?;
    if !private {
        readable_by_all(file.path())?;
    }
    file.persist(folder.join(name))
        .map_err(|error| error.error)?;
    Ok(())
}

#[cfg(unix)]
fn readable_by_all(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn readable_by_all(_: &Path) -> io::Result<()> {
    Ok(())
}
