//! What the gateway fronts, and where: the two services, and the two ways of running them.

/// Where the gateway runs: the two differ only in addresses and file paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// `docker compose`: upstreams by service name (STRICT_DNS, so every replica of a
    /// `--scale`d service is used), certificates mounted at `/etc/superstar/certs`.
    Compose,
    /// `bin/up`: upstreams on 127.0.0.1, paths relative to the repository root (where
    /// `bin/up` starts Envoy).
    Local,
}

impl Profile {
    /// Both profiles, in the order the examples list them.
    pub const ALL: [Profile; 2] = [Self::Compose, Self::Local];

    /// The profile's name on the command line and in file names.
    pub fn name(self) -> &'static str {
        match self {
            Self::Compose => "compose",
            Self::Local => "local",
        }
    }

    /// Parses `compose` or `local`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|profile| profile.name() == name)
    }

    /// The folder holding the certificates.
    pub fn certs_dir(self) -> &'static str {
        match self {
            Self::Compose => "/etc/superstar/certs",
            Self::Local => "certs",
        }
    }

    /// The folder holding the studio's files (`studio/`; the gateway image has a copy).
    pub fn studio_dir(self) -> &'static str {
        match self {
            Self::Compose => "/etc/superstar/studio",
            Self::Local => "studio",
        }
    }

    /// Where Envoy reads the OpenAPI document it serves, written beside the descriptor set
    /// (the local profile's, when `gateway-config --out` is the default).
    pub fn openapi_path(self) -> &'static str {
        match self {
            Self::Compose => "/etc/superstar/gateway/openapi.json",
            Self::Local => "envoy/generated/openapi.json",
        }
    }

    /// Where Envoy reads the descriptor set (the local profile's as for `openapi_path`).
    pub fn descriptor_path(self) -> &'static str {
        match self {
            Self::Compose => "/etc/superstar/gateway/superstar.pb",
            Self::Local => "envoy/generated/superstar.pb",
        }
    }
}

/// A service behind the gateway.
#[derive(Debug)]
pub struct Upstream {
    /// The compose service name, which is also the certificate's subjectAltName.
    pub host: &'static str,
    /// The gRPC port in compose's network; `bin/up` reads its own from the settings
    /// ([`Ports`](crate::Ports)).
    pub port: u16,
    /// The fully qualified gRPC service, which its health check asks about.
    pub service: &'static str,
}

/// The song producer.
pub const SONG_PRODUCER: Upstream = Upstream {
    host: "song-producer",
    port: 50051,
    service: superstar_proto::SONG_PRODUCER,
};

/// The cover designer.
pub const COVER_DESIGNER: Upstream = Upstream {
    host: "cover-designer",
    port: 50052,
    service: superstar_proto::COVER_DESIGNER,
};
