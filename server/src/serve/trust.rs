//! Who may call what: every peer holds a certificate from the project CA (the TLS
//! handshake insists), and the name in it (a DNS subjectAltName, as SPIFFE and Istio
//! name workloads) says which services it may call. Where it sits on the network says
//! nothing.
//!
//! Each host is given one [`Trust`] table. A call to a service the caller's identity is
//! not listed for is answered `PERMISSION_DENIED` before any handler runs. Health and
//! reflection are open to every peer of the CA: probes and operators' tools use them.
//!
//! A caller allowed to call a service is also believed when it names the client it
//! calls for (`x-superstar-client`): the gateway, which authenticated the client's API
//! key, and the song producer, passing its caller's name on to the cover designer.
//! Nobody else can reach a service at all, so no one else can speak for a client.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use http::{Request, Response};
use rustls_pki_types::{CertificateDer, DnsName, ServerName};
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tower::{Layer, Service};

/// The identities allowed to call each service a host serves.
#[derive(Debug, Clone, Copy)]
pub struct Trust {
    /// (fully qualified gRPC service, the certificate names that may call it).
    pub callers: &'static [(&'static str, &'static [&'static str])],
}

/// Services every peer of the CA may call.
const OPEN: [&str; 3] = [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

impl Trust {
    /// Whether a peer presenting `certificate` may call `service`.
    fn allows(&self, service: &str, certificate: Option<&CertificateDer<'_>>) -> bool {
        if OPEN.contains(&service) {
            return true;
        }
        let Some(certificate) = certificate else {
            return false;
        };
        let Ok(certificate) = webpki::EndEntityCert::try_from(certificate) else {
            return false;
        };
        let names = self
            .callers
            .iter()
            .find(|(listed, _)| *listed == service)
            .map_or(&[][..], |(_, names)| *names);
        names.iter().any(|name| {
            DnsName::try_from(*name).is_ok_and(|name| {
                certificate
                    .verify_is_valid_for_subject_name(&ServerName::DnsName(name))
                    .is_ok()
            })
        })
    }
}

/// Adds [`Trusted`] around a host's services.
#[derive(Debug, Clone, Copy)]
pub struct TrustLayer(pub Trust);

impl<S> Layer<S> for TrustLayer {
    type Service = Trusted<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Trusted {
            inner,
            trust: self.0,
        }
    }
}

/// See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Trusted<S> {
    inner: S,
    trust: Trust,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Trusted<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // Anything but `/{service}/{method}` calls no method: refused as no one's.
        let service = service_of(request.uri().path())
            .unwrap_or_default()
            .to_owned();
        let certificates = request
            .extensions()
            .get::<TlsConnectInfo<TcpConnectInfo>>()
            .and_then(TlsConnectInfo::peer_certs);
        let certificate = certificates.as_ref().and_then(|certs| certs.first());
        if !service.is_empty() && self.trust.allows(&service, certificate) {
            return Box::pin(self.inner.call(request));
        }
        let status = superstar_proto::errors::error(
            tonic::Code::PermissionDenied,
            "PEER_NOT_ALLOWED",
            match service.as_str() {
                "" => "not a gRPC method path (/{service}/{method})".to_owned(),
                service => format!("this certificate may not call {service}"),
            },
        );
        Box::pin(async move { Ok(status.into_http()) })
    }
}

/// The service of a gRPC method's path, `/{service}/{method}`, both parts non-empty and
/// nothing more: the trust table is matched against exactly what the router routes.
fn service_of(path: &str) -> Option<&str> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    (!service.is_empty() && !method.is_empty() && !method.contains('/')).then_some(service)
}

#[cfg(test)]
mod tests {
    use super::service_of;

    #[test]
    fn only_a_method_path_names_a_service() {
        assert_eq!(
            service_of("/grpc.health.v1.Health/Check"),
            Some("grpc.health.v1.Health")
        );
        for path in [
            "/grpc.health.v1.Health/../superstar.v1.SongProducer/ListSongs",
            "/grpc.health.v1.Health/Check/",
            "//grpc.health.v1.Health/Check",
            "/grpc.health.v1.Health/",
            "/grpc.health.v1.Health",
            "grpc.health.v1.Health/Check",
            "/",
            "",
        ] {
            assert_eq!(service_of(path), None, "{path}");
        }
    }
}
