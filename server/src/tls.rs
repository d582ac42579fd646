//! Mutual TLS for servers and clients.
//!
//! Every service serves TLS only and refuses a client that does not present a
//! certificate signed by the project CA: Envoy and the song producer hold such client
//! certificates, nothing else does. The PEM files are checked with `rustls-pki-types`
//! (the maintained PEM parser of the rustls ecosystem) before tonic sees them, so a
//! wrong path or an empty file stops the service at start with the variable's name
//! instead of failing the first handshake.

use std::path::{Path, PathBuf};

use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

/// A PEM file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The file cannot be read.
    #[error("{variable}: cannot read {path}: {source}")]
    Read {
        /// The setting that named the file.
        variable: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it cannot be read.
        source: std::io::Error,
    },
    /// The file holds no usable PEM section of the expected kind.
    #[error("{variable}: {path} holds no {expected}")]
    Content {
        /// The setting that named the file.
        variable: &'static str,
        /// The file.
        path: PathBuf,
        /// What the file should hold.
        expected: &'static str,
    },
}

/// Where a party's certificate, private key and the CA it trusts are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The party's certificate chain (PEM).
    pub cert: PathBuf,
    /// The party's private key (PEM, PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// The CA that signs the peers' certificates (PEM).
    pub ca: PathBuf,
}

impl TlsFiles {
    /// The server configuration: our identity, and client certificates required and
    /// checked against the CA.
    pub fn server_config(&self) -> Result<ServerTlsConfig, TlsError> {
        Ok(ServerTlsConfig::new()
            .identity(self.identity()?)
            .client_ca_root(self.ca()?))
    }

    /// The client configuration: our identity for the server to check, and the CA that
    /// must have signed the server's certificate for `domain` (a subjectAltName).
    pub fn client_config(&self, domain: &str) -> Result<ClientTlsConfig, TlsError> {
        Ok(ClientTlsConfig::new()
            .identity(self.identity()?)
            .ca_certificate(self.ca()?)
            .domain_name(domain))
    }

    fn identity(&self) -> Result<Identity, TlsError> {
        let cert = read_certificates("TLS_CERT", &self.cert)?;
        let key = read("TLS_KEY", &self.key)?;
        if PrivateKeyDer::from_pem_slice(&key).is_err() {
            return Err(TlsError::Content {
                variable: "TLS_KEY",
                path: self.key.clone(),
                expected: "private key",
            });
        }
        Ok(Identity::from_pem(cert, key))
    }

    fn ca(&self) -> Result<Certificate, TlsError> {
        Ok(Certificate::from_pem(read_certificates(
            "TLS_CA", &self.ca,
        )?))
    }
}

fn read(variable: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        variable,
        path: path.to_owned(),
        source,
    })
}

fn read_certificates(variable: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    let pem = read(variable, path)?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .filter(Result::is_ok)
        .count();
    if certificates == 0 {
        return Err(TlsError::Content {
            variable,
            path: path.to_owned(),
            expected: "certificate",
        });
    }
    Ok(pem)
}
