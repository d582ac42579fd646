//! The gateway's settings: the `.env` values that shape Envoy's config.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};

pub use superstar_settings::SettingError;

/// A client allowed through the gateway, and its API key.
#[derive(Debug, Clone)]
pub struct ApiClient {
    /// The client's name: forwarded to the services and keying its rate limits.
    pub name: String,
    /// The key the client presents; `Debug` prints it as `[REDACTED]`.
    pub key: SecretString,
}

/// A token bucket: `per_second` tokens a second, at most `burst` saved up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenBucket {
    /// Tokens added each second.
    pub per_second: u32,
    /// The bucket's size.
    pub burst: u32,
}

/// Everything the rendered config depends on besides the profile.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// `SUPERSTAR_API_KEYS`: `client:key` pairs, comma-separated.
    pub clients: Vec<ApiClient>,
    /// `GATEWAY_PORT`, default 8443.
    pub port: u16,
    /// The other ports the system opens on this machine: bin/up's (the local profile).
    /// Compose's containers keep the defaults inside their own network.
    pub ports: Ports,
    /// The limit on RPCs that call a model (`MODEL_RATE_PER_SECOND`, `MODEL_BURST`; 2/s, 10).
    pub model_limit: TokenBucket,
    /// The limit on reads (`READ_RATE_PER_SECOND`, `READ_BURST`; 50/s, 100).
    pub read_limit: TokenBucket,
    /// `GATEWAY_MAX_CONNECTIONS`, default 10,000: open client connections, all clients
    /// together. Beyond it Envoy closes new connections as they arrive; established
    /// ones keep working.
    pub max_connections: u32,
    /// `GATEWAY_MAX_HEAP_MB`, default 1024: Envoy's heap ceiling. At 95% it gives memory
    /// back, at 98% it answers new requests with 503.
    pub max_heap_mib: u32,
    /// `GATEWAY_MODEL_TIMEOUT_SECS`, default 180: how long the gateway waits for a
    /// unary RPC that calls a model (an album, a cover) before it answers 504. Streams
    /// have no such bound; they end after 300 s without a message.
    pub model_timeout_secs: u32,
    /// `SONG_PRODUCER_REPLICAS`, default 1, at most [`MAX_REPLICAS`]: how many song
    /// producers `bin/up` starts, each on its own port (see
    /// [`Upstream::port`](crate::profile::Upstream::port)). Compose finds its replicas by
    /// DNS instead, so only the local profile reads it.
    pub song_producer_replicas: u16,
    /// `COVER_DESIGNER_REPLICAS`: the same for the cover designer.
    pub cover_designer_replicas: u16,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (`http://host:4317`): where Envoy exports its
    /// spans; unset, it traces nothing.
    pub collector: Option<Collector>,
}

/// The ports of the system `bin/up` runs, besides the gateway's own: each can be set, so
/// that several systems (a test's each) run side by side on one machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// `GATEWAY_ADMIN_PORT`, default 9901: Envoy's admin interface, on 127.0.0.1 only.
    pub admin: u16,
    /// `GATEWAY_STATS_PORT`, default 9902: Envoy's Prometheus stats listener.
    pub stats: u16,
    /// `SONG_PRODUCER_PORT`, default 50051: the first song producer's gRPC port; replica
    /// N (from 0) listens on `song_producer + 10 N`.
    pub song_producer: u16,
    /// `COVER_DESIGNER_PORT`, default 50052: the same for the cover designer.
    pub cover_designer: u16,
}

impl Default for Ports {
    fn default() -> Self {
        Self {
            admin: 9901,
            stats: 9902,
            song_producer: 50051,
            cover_designer: 50052,
        }
    }
}

/// The most replicas of one service `bin/up` starts: their ports are 10 apart, so ten
/// fit before one service's ports reach the next one's.
pub const MAX_REPLICAS: u16 = 10;

impl GatewaySettings {
    /// Every variable the settings read: what the environment may override in `.env`.
    pub const VARIABLES: &[&str] = &[
        "SUPERSTAR_API_KEYS",
        "GATEWAY_PORT",
        "GATEWAY_ADMIN_PORT",
        "GATEWAY_STATS_PORT",
        "SONG_PRODUCER_PORT",
        "COVER_DESIGNER_PORT",
        "MODEL_RATE_PER_SECOND",
        "MODEL_BURST",
        "READ_RATE_PER_SECOND",
        "READ_BURST",
        "GATEWAY_MAX_CONNECTIONS",
        "GATEWAY_MAX_HEAP_MB",
        "GATEWAY_MODEL_TIMEOUT_SECS",
        "SONG_PRODUCER_REPLICAS",
        "COVER_DESIGNER_REPLICAS",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ];

    /// Reads the settings from `variables` (the `.env` file overlaid with the environment).
    pub fn from_variables(variables: &BTreeMap<String, String>) -> Result<Self, SettingError> {
        let get = |name: &str| {
            variables
                .get(name)
                .map(|value| value.trim())
                .filter(|value| !value.is_empty())
        };
        let number = |name: &str, default: u32| -> Result<u32, SettingError> {
            match get(name) {
                None => Ok(default),
                Some(value) => value
                    .parse::<u32>()
                    .ok()
                    .filter(|number| *number > 0)
                    .ok_or_else(|| SettingError::new(name, "must be a whole number above 0")),
            }
        };
        let replicas = |name: &str| -> Result<u16, SettingError> {
            u16::try_from(number(name, 1)?)
                .ok()
                .filter(|count| *count <= MAX_REPLICAS)
                .ok_or_else(|| SettingError::new(name, format!("must be 1 to {MAX_REPLICAS}")))
        };
        let port = |name: &str, default: u16| -> Result<u16, SettingError> {
            u16::try_from(number(name, u32::from(default))?)
                .map_err(|_| SettingError::new(name, "must be a port number"))
        };
        let song_producer_replicas = replicas("SONG_PRODUCER_REPLICAS")?;
        let cover_designer_replicas = replicas("COVER_DESIGNER_REPLICAS")?;
        let defaults = Ports::default();
        // The last replica's port must be a port too.
        let first_of = |name: &str, default: u16, replicas: u16| -> Result<u16, SettingError> {
            let first = port(name, default)?;
            first
                .checked_add(10 * (replicas - 1))
                .map(|_| first)
                .ok_or_else(|| SettingError::new(name, "leaves no port for the last replica"))
        };
        let ports = Ports {
            admin: port("GATEWAY_ADMIN_PORT", defaults.admin)?,
            stats: port("GATEWAY_STATS_PORT", defaults.stats)?,
            song_producer: first_of(
                "SONG_PRODUCER_PORT",
                defaults.song_producer,
                song_producer_replicas,
            )?,
            cover_designer: first_of(
                "COVER_DESIGNER_PORT",
                defaults.cover_designer,
                cover_designer_replicas,
            )?,
        };
        let port = port("GATEWAY_PORT", 8443)?;
        let keys = get("SUPERSTAR_API_KEYS").ok_or_else(|| {
            SettingError::new(
                "SUPERSTAR_API_KEYS",
                "is required: client:key pairs (bin/dev_init.sh makes one)",
            )
        })?;
        Ok(Self {
            clients: parse_clients(keys)?,
            port,
            ports,
            model_limit: TokenBucket {
                per_second: number("MODEL_RATE_PER_SECOND", 2)?,
                burst: number("MODEL_BURST", 10)?,
            },
            read_limit: TokenBucket {
                per_second: number("READ_RATE_PER_SECOND", 50)?,
                burst: number("READ_BURST", 100)?,
            },
            max_connections: number("GATEWAY_MAX_CONNECTIONS", 10_000)?,
            max_heap_mib: number("GATEWAY_MAX_HEAP_MB", 1024)?,
            model_timeout_secs: number("GATEWAY_MODEL_TIMEOUT_SECS", 180)?,
            song_producer_replicas,
            cover_designer_replicas,
            collector: get("OTEL_EXPORTER_OTLP_ENDPOINT")
                .map(|endpoint| {
                    Collector::parse(endpoint).ok_or_else(|| {
                        SettingError::new("OTEL_EXPORTER_OTLP_ENDPOINT", "must be http://host:port")
                    })
                })
                .transpose()?,
        })
    }
}

/// Where the trace collector listens, parsed from `OTEL_EXPORTER_OTLP_ENDPOINT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collector {
    /// Its host name or address.
    pub host: String,
    /// Its OTLP/gRPC port.
    pub port: u16,
}

impl Collector {
    /// Parses `http://host:port` (the port defaults to 4317, OTLP/gRPC's; a trailing
    /// `/` is allowed).
    pub fn parse(endpoint: &str) -> Option<Self> {
        let authority = endpoint.strip_prefix("http://")?.trim_end_matches('/');
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => (host, port.parse().ok()?),
            _ => (authority, 4317),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let valid = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.:".contains(c));
        valid.then(|| Self {
            host: host.to_owned(),
            port,
        })
    }
}

fn parse_clients(value: &str) -> Result<Vec<ApiClient>, SettingError> {
    let mut clients: Vec<ApiClient> = Vec::new();
    for (index, pair) in value
        .split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .enumerate()
    {
        let position = index + 1;
        let (name, key) = pair.split_once(':').ok_or_else(|| {
            SettingError::new(
                "SUPERSTAR_API_KEYS",
                format!("entry {position} is not client:key"),
            )
        })?;
        let (name, key) = (name.trim(), key.trim());
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !valid_name {
            return Err(SettingError::new(
                "SUPERSTAR_API_KEYS",
                format!("entry {position}: a client name is letters, digits, '-', '_' or '.'"),
            ));
        }
        if key.len() < 16 || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(SettingError::new(
                "SUPERSTAR_API_KEYS",
                format!("the key of client {name} must be at least 16 visible ASCII characters"),
            ));
        }
        if clients
            .iter()
            .any(|client| client.name == name || client.key.expose_secret() == key)
        {
            return Err(SettingError::new(
                "SUPERSTAR_API_KEYS",
                format!("client {name} or its key appears twice"),
            ));
        }
        clients.push(ApiClient {
            name: name.to_owned(),
            key: SecretString::from(key),
        });
    }
    if clients.is_empty() {
        return Err(SettingError::new("SUPERSTAR_API_KEYS", "names no client"));
    }
    Ok(clients)
}
