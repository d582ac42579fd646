//! What the black-box tests need to speak to the services as real clients do.
//!
//! - [`TestCa`]: a throw-away certificate authority, and certificates issued by it,
//!   written to a temporary folder, so every test runs real mutual TLS;
//! - [`channel`]: a gRPC channel over TLS, with or without a client certificate;
//! - [`wait_until_serving`]: readiness through the health service, never a sleep;
//! - [`scratch_postgres`]: a fresh PostgreSQL database per test, when one is configured;
//! - [`openai`]: OpenAI's wire format, for wiremock servers standing in for the provider;
//! - [`CapturedLogs`]: what the code under test logged;
//! - [`ServiceProcess`]: a service binary run as its own process, on a clock of its own
//!   if asked ([`faketime`]);
//! - [`StallingProxy`]: a TCP connection (to a database) that stops answering on cue;
//! - [`SlowProvider`]: a provider that answers slowly and counts answers read whole.

mod llama;
mod logs;
pub mod openai;
mod process;
mod proxy;
mod slow_provider;

pub use llama::{LlamaServer, MODEL as LLAMA_MODEL};
pub use logs::CapturedLogs;
pub use process::{LIBFAKETIME_VARIABLE, ServiceProcess, faketime};
pub use proxy::StallingProxy;
pub use slow_provider::SlowProvider;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use sqlx::{Connection, Executor};
use superstar_server::tls::TlsFiles;
use tempfile::TempDir;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// A certificate authority that lives as long as the value, with its files in a
/// temporary folder.
pub struct TestCa {
    folder: TempDir,
    issuer: Issuer<'static, KeyPair>,
    ca_path: PathBuf,
}

impl TestCa {
    /// A new CA named `name`.
    pub fn new(name: &str) -> Self {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let key = KeyPair::generate().expect("a CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).expect("a self-signed CA");
        let ca_path = folder.path().join("ca.pem");
        std::fs::write(&ca_path, cert.pem()).expect("the CA file");
        Self {
            folder,
            issuer: Issuer::new(params, key),
            ca_path,
        }
    }

    /// The CA certificate (PEM file).
    pub fn ca_path(&self) -> &Path {
        &self.ca_path
    }

    /// Issues a certificate for `name`, valid for `localhost` and `127.0.0.1` as both
    /// server and client, and returns its files with this CA's.
    pub fn issue(&self, name: &str) -> TlsFiles {
        let key = KeyPair::generate().expect("a key");
        let mut params = CertificateParams::new(vec![
            name.to_owned(),
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
        ])
        .expect("certificate parameters");
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("a signed certificate");
        let files = self.files(name);
        std::fs::write(&files.cert, cert.pem()).expect("the certificate file");
        std::fs::write(&files.key, key.serialize_pem()).expect("the key file");
        files
    }

    /// Where the certificate [`issue`](Self::issue)d for `name` is kept.
    pub fn files(&self, name: &str) -> TlsFiles {
        TlsFiles {
            cert: self.folder.path().join(format!("{name}.pem")),
            key: self.folder.path().join(format!("{name}-key.pem")),
            ca: self.ca_path.clone(),
        }
    }
}

/// A channel to `addr` over TLS, trusting `ca`, presenting `client` if given.
/// Connects before returning, so a refused handshake is an error here.
pub async fn channel(
    addr: SocketAddr,
    ca: &Path,
    client: Option<&TlsFiles>,
) -> Result<Channel, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(
            std::fs::read(ca).expect("the CA file"),
        ))
        .domain_name("localhost");
    if let Some(files) = client {
        let cert = std::fs::read(&files.cert).expect("the certificate file");
        let key = std::fs::read(&files.key).expect("the key file");
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    Endpoint::from_shared(format!("https://{addr}"))?
        .tls_config(tls)?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
}

/// Waits until `service` reports SERVING on `channel`, asking every 20 ms for up to
/// 10 s. This is the readiness signal; tests never sleep for it.
pub async fn wait_until_serving(channel: Channel, service: &str) {
    let mut health = HealthClient::new(channel);
    let request = || HealthCheckRequest {
        service: service.to_owned(),
    };
    let ready = async {
        loop {
            let status = health
                .check(request())
                .await
                .map(|response| response.into_inner().status());
            if matches!(status, Ok(ServingStatus::Serving)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), ready)
        .await
        .unwrap_or_else(|_| panic!("{service} did not become SERVING within 10 s"));
}

/// The variable that points the PostgreSQL tests at a server (`bin/test` sets it).
pub const POSTGRES_URL_VARIABLE: &str = "SUPERSTAR_TEST_POSTGRES_URL";

/// Creates an empty database on the server named by `SUPERSTAR_TEST_POSTGRES_URL` and
/// returns its URL. Panics when the variable is unset: PostgreSQL tests are `#[ignore]`d
/// by default and run by `bin/test`, which starts a server and sets it.
pub async fn scratch_postgres() -> String {
    let server = std::env::var(POSTGRES_URL_VARIABLE).unwrap_or_else(|_| {
        panic!("{POSTGRES_URL_VARIABLE} is not set: run bin/test, which starts PostgreSQL")
    });
    let name = format!("superstar_test_{}", uuid::Uuid::new_v4().simple());
    let mut connection = sqlx::PgConnection::connect(&server)
        .await
        .expect("PostgreSQL answers");
    connection
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("a scratch database");
    let (base, _) = server.rsplit_once('/').expect("the URL names a database");
    format!("{base}/{name}")
}

/// The `host:port` a PostgreSQL URL (`postgres://user@host:port/db`) connects to.
pub fn postgres_addr(url: &str) -> SocketAddr {
    let authority = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split('/').next())
        .expect("a postgres:// URL");
    let host_port = authority.rsplit('@').next().expect("a host");
    host_port
        .parse()
        .expect("the test server's URL names 127.0.0.1:port")
}

/// `url` with its `host:port` replaced by `addr` (a [`StallingProxy`] in front of it).
pub fn postgres_through(url: &str, addr: SocketAddr) -> String {
    url.replacen(&postgres_addr(url).to_string(), &addr.to_string(), 1)
}
