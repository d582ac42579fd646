//! What the gateway fronts, and where: the two services, and the two ways of running them.

use crate::envoy::DataSource;

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

    /// Where Envoy reads the descriptor set.
    pub fn descriptor_path(self) -> &'static str {
        match self {
            Self::Compose => "/etc/superstar/gateway/superstar.pb",
            Self::Local => "envoy/generated/superstar.pb",
        }
    }

    pub(crate) fn listen_address(self) -> &'static str {
        match self {
            // Inside the container; compose publishes the port.
            Self::Compose => "0.0.0.0",
            Self::Local => "127.0.0.1",
        }
    }

    pub(crate) fn upstream_host(self, upstream: &Upstream) -> &'static str {
        match self {
            Self::Compose => upstream.host,
            Self::Local => "127.0.0.1",
        }
    }

    pub(crate) fn discovery(self) -> &'static str {
        match self {
            Self::Compose => "STRICT_DNS",
            Self::Local => "STATIC",
        }
    }

    pub(crate) fn cert(self, file: &str) -> DataSource {
        DataSource {
            filename: format!("{}/{file}", self.certs_dir()),
        }
    }
}

/// A service behind the gateway.
#[derive(Debug)]
pub struct Upstream {
    /// The cluster's name.
    pub cluster: &'static str,
    /// The compose service name, which is also the certificate's subjectAltName.
    pub host: &'static str,
    /// The gRPC port.
    pub port: u16,
    /// The fully qualified gRPC service.
    pub service: &'static str,
}

impl Upstream {
    /// The port of replica `index` (from 0) under `bin/up`: `port`, then 10 up for each
    /// further replica (50051, 50061 … for the song producer; 50052, 50062 … for the
    /// cover designer). Compose runs every replica on `port`, each at its own address.
    pub fn replica_port(&self, index: u16) -> u16 {
        self.port + 10 * index
    }
}

/// The song producer.
pub const SONG_PRODUCER: Upstream = Upstream {
    cluster: "song_producer",
    host: "song-producer",
    port: 50051,
    service: superstar_proto::SONG_PRODUCER,
};

/// The cover designer.
pub const COVER_DESIGNER: Upstream = Upstream {
    cluster: "cover_designer",
    host: "cover-designer",
    port: 50052,
    service: superstar_proto::COVER_DESIGNER,
};

/// Both services, in the order their clusters are written.
pub const UPSTREAMS: [&Upstream; 2] = [&SONG_PRODUCER, &COVER_DESIGNER];

/// The header Envoy forwards the authenticated client's name in.
pub const CLIENT_HEADER: &str = "x-superstar-client";

/// The admin interface's port, on 127.0.0.1 only.
pub const ADMIN_PORT: u16 = 9901;

/// The RPCs that call a model: they cost money and are rate-limited hard.
pub const MODEL_RPCS: [(&Upstream, &str); 6] = [
    (&SONG_PRODUCER, "MakeMeSuperstar"),
    (&SONG_PRODUCER, "StreamAlbum"),
    (&SONG_PRODUCER, "GenerateLyrics"),
    (&SONG_PRODUCER, "CompileAlbum"),
    (&SONG_PRODUCER, "Jam"),
    (&COVER_DESIGNER, "DesignCover"),
];
