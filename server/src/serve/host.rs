//! The gRPC host: one TLS server carrying a service, health and reflection.
//!
//! Both services are served the same way, so they share this host:
//! - TLS with mandatory client certificates ([`crate::tls`]);
//! - the [`rpc_layer`](crate::serve::rpc_layer) layer around every RPC;
//! - `grpc.health.v1.Health`, SERVING while the service is up;
//! - server reflection v1 and v1alpha (grpcurl 1.8 speaks only v1alpha), knowing the
//!   whole `superstar.v1` descriptor set, so `grpcurl list` through the gateway shows
//!   both services whichever one answers.
//!
//! Every host is bounded ([`Limits`]): streams per connection, RPCs in flight (more are
//! refused at once with `RESOURCE_EXHAUSTED`, never queued), message sizes, and
//! keepalives that find dead peers.
//!
//! Stopping follows the order a load balancer needs: health turns NOT_SERVING, the
//! host keeps serving for a short grace period so health checks notice, then stops
//! accepting connections and lets in-flight RPCs and streams finish, within a bound.

use std::{
    convert::Infallible,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use http::{Request, Response};
use tokio::net::TcpListener;
use tonic::{
    body::Body,
    server::NamedService,
    transport::{
        Server,
        server::{Router, TcpIncoming},
    },
};
use tonic_health::{ServingStatus, server::HealthReporter};
use tower::{
    Service,
    layer::util::{Identity, Stack},
    limit::GlobalConcurrencyLimitLayer,
    load_shed::LoadShedLayer,
};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use superstar_settings::{SettingError, env};

use crate::{
    serve::client_share::ClientShareLayer,
    serve::metrics::Metrics,
    serve::rpc_layer::{self, ObserveLayer},
    serve::shutdown::Shutdown,
    serve::trust::{Trust, TrustLayer},
    tls::{TlsError, TlsFiles},
};

/// Where and how a service listens: the part of its settings every service has.
#[derive(Debug, Clone)]
pub struct HostSettings {
    /// The gRPC address (`LISTEN_ADDR`).
    pub listen_addr: SocketAddr,
    /// The Prometheus address (`METRICS_ADDR`).
    pub metrics_addr: SocketAddr,
    /// The server's certificate, key and the CA its clients' certificates come from
    /// (`TLS_CERT`, `TLS_KEY`, `TLS_CA`).
    pub tls: TlsFiles,
    /// How stopping goes (`DRAIN_GRACE_MS`).
    pub drain: Drain,
    /// How much the host takes on at once (`MAX_CONCURRENT_RPCS`).
    pub limits: Limits,
}

/// How much a host takes on at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// RPCs being handled at once, every connection together (`MAX_CONCURRENT_RPCS`,
    /// default 512). One more is answered `RESOURCE_EXHAUSTED` at once: a queue would
    /// only make every caller wait longer. A stream counts until its handler has
    /// returned the stream, not while it flows: the gateway's circuit breakers bound
    /// open streams.
    pub concurrent_rpcs: usize,
    /// Streaming calls one client may hold open at once (`MAX_STREAMS_PER_CLIENT`,
    /// default 64, an eighth of the gateway's stream budget): see
    /// [`client_share`](crate::serve::client_share).
    pub streams_per_client: usize,
    /// HTTP/2 streams one connection may open ([`MAX_STREAMS_PER_CONNECTION`]); a peer
    /// wanting more opens another connection (Envoy does).
    pub streams_per_connection: u32,
    /// How often an idle connection is pinged over HTTP/2.
    pub http2_keepalive_interval: Duration,
    /// How long a ping's answer may take before the connection is closed.
    pub http2_keepalive_timeout: Duration,
    /// TCP keepalive on accepted connections: dead peers are found even when HTTP/2
    /// is quiet.
    pub tcp_keepalive: Duration,
    /// Streams the peer may reset before the host has taken them up, per connection
    /// ([`MAX_PENDING_ACCEPT_RESETS`]).
    pub pending_accept_resets: usize,
}

/// See [`Limits::pending_accept_resets`]. h2's default, 20, answers more with GOAWAY:
/// its defence against HTTP/2 rapid reset (CVE-2023-44487). Our peer is Envoy, which
/// carries every client's streams over a few connections: one client opening and
/// cancelling streams would have Envoy forward the resets, and the GOAWAY would cut
/// every other client's streams on that connection. Envoy defends the edge against
/// rapid reset (it closes client connections where most streams end prematurely), so
/// the host allows as many resets as it allows streams, five times over; the memory
/// each such stream holds until it is taken up is a few hundred bytes.
pub const MAX_PENDING_ACCEPT_RESETS: usize = 5 * MAX_STREAMS_PER_CONNECTION as usize;

/// See [`Limits::streams_per_connection`].
pub const MAX_STREAMS_PER_CONNECTION: u32 = 200;

/// The largest request message a service accepts: every valid request is a few KiB.
pub const MAX_REQUEST_MESSAGE_BYTES: usize = 1024 * 1024;

/// The largest response message a service sends: a cover image of a few MiB fits
/// (Envoy's transcoder takes up to the same size).
pub const MAX_RESPONSE_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Self {
            concurrent_rpcs: 512,
            streams_per_client: 64,
            streams_per_connection: MAX_STREAMS_PER_CONNECTION,
            http2_keepalive_interval: Duration::from_secs(30),
            http2_keepalive_timeout: Duration::from_secs(10),
            tcp_keepalive: Duration::from_secs(60),
            pending_accept_resets: MAX_PENDING_ACCEPT_RESETS,
        }
    }
}

impl HostSettings {
    /// Reads the settings, defaulting to the ports given and to `certs/{name}.pem`,
    /// `certs/{name}-key.pem` and `certs/ca.pem`.
    pub fn from_env(
        name: &str,
        listen: SocketAddr,
        metrics: SocketAddr,
    ) -> Result<Self, SettingError> {
        let grace_ms = env::parse_or("DRAIN_GRACE_MS", Drain::default().grace.as_millis() as u64)?;
        Ok(Self {
            listen_addr: env::parse_or("LISTEN_ADDR", listen)?,
            metrics_addr: env::parse_or("METRICS_ADDR", metrics)?,
            tls: TlsFiles {
                cert: env::string_or("TLS_CERT", &format!("certs/{name}.pem")).into(),
                key: env::string_or("TLS_KEY", &format!("certs/{name}-key.pem")).into(),
                ca: env::string_or("TLS_CA", "certs/ca.pem").into(),
            },
            drain: Drain {
                grace: Duration::from_millis(grace_ms),
                ..Drain::default()
            },
            limits: Limits {
                concurrent_rpcs: env::parse_or(
                    "MAX_CONCURRENT_RPCS",
                    Limits::default().concurrent_rpcs,
                )?,
                streams_per_client: env::parse_or(
                    "MAX_STREAMS_PER_CLIENT",
                    Limits::default().streams_per_client,
                )?,
                ..Limits::default()
            },
        })
    }
}

/// Why a host cannot start.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// A certificate or key is unusable.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// An address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server failed.
    #[error(transparent)]
    Transport(#[from] tonic::transport::Error),
}

/// How long stopping may take.
#[derive(Debug, Clone, Copy)]
pub struct Drain {
    /// How long the host keeps serving after turning NOT_SERVING, so that health
    /// checks see it before connections close.
    pub grace: Duration,
    /// How long in-flight RPCs may then run before they are cut.
    pub timeout: Duration,
}

impl Default for Drain {
    /// One second of grace and eight to finish: the process exits within ten seconds.
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(1),
            timeout: Duration::from_secs(8),
        }
    }
}

/// Around every RPC, outermost first: the request id (set, then copied onto the
/// response), observe (so refused RPCs are logged and counted too), who may call what,
/// each client's share of open streams, shed load, limit concurrency.
type HostLayers = Stack<
    GlobalConcurrencyLimitLayer,
    Stack<
        LoadShedLayer,
        Stack<
            ClientShareLayer,
            Stack<
                TrustLayer,
                Stack<
                    ObserveLayer,
                    Stack<
                        PropagateRequestIdLayer,
                        Stack<SetRequestIdLayer<MakeRequestUuid>, Identity>,
                    >,
                >,
            >,
        >,
    >,
>;

/// A tonic server with health, reflection and the observe layer; add the service
/// and [`serve`](Self::serve) it.
pub struct ServiceHost {
    router: Router<HostLayers>,
    health: HealthReporter,
    services: Vec<&'static str>,
    grpc: TcpListener,
    metrics_listener: TcpListener,
    metrics: Metrics,
    drain: Drain,
}

impl ServiceHost {
    /// Binds both listeners and loads the certificates: everything that can fail at
    /// start fails here, before any service is added.
    pub async fn bind(settings: &HostSettings, trust: Trust) -> Result<Self, HostError> {
        let tls = settings.tls.server_config()?;
        let grpc = listen(settings.listen_addr).await?;
        let metrics_listener = listen(settings.metrics_addr).await?;
        let metrics = Metrics::new();
        let (health, health_service) = tonic_health::server::health_reporter();
        // Reflection lists the public services, its own and health: not
        // CoverDesignerInternal, which only the song producer may call.
        let reflection = |itself: &str| {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(superstar_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .with_service_name(superstar_proto::SONG_PRODUCER)
                .with_service_name(superstar_proto::COVER_DESIGNER)
                .with_service_name("grpc.health.v1.Health")
                .with_service_name(itself)
        };
        let reflection_v1 = reflection("grpc.reflection.v1.ServerReflection")
            .build_v1()
            .expect("the compiled descriptor sets are valid");
        let reflection_v1alpha = reflection("grpc.reflection.v1alpha.ServerReflection")
            .build_v1alpha()
            .expect("the compiled descriptor sets are valid");
        let limits = settings.limits;
        let (set_request_id, propagate_request_id) = rpc_layer::request_id_layers();
        let router = Server::builder()
            .tls_config(tls)?
            .max_concurrent_streams(limits.streams_per_connection)
            .http2_keepalive_interval(Some(limits.http2_keepalive_interval))
            .http2_keepalive_timeout(Some(limits.http2_keepalive_timeout))
            .tcp_keepalive(Some(limits.tcp_keepalive))
            .http2_max_pending_accept_reset_streams(Some(limits.pending_accept_resets))
            .layer(set_request_id)
            .layer(propagate_request_id)
            .layer(ObserveLayer::new(metrics.clone()))
            .layer(TrustLayer(trust))
            .layer(ClientShareLayer::new(
                limits.streams_per_client,
                &[
                    superstar_proto::FILE_DESCRIPTOR_SET,
                    tonic_health::pb::FILE_DESCRIPTOR_SET,
                ],
            ))
            .layer(LoadShedLayer::new())
            .layer(GlobalConcurrencyLimitLayer::new(limits.concurrent_rpcs))
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha);
        Ok(Self {
            router,
            health,
            services: Vec::new(),
            grpc,
            metrics_listener,
            metrics,
            drain: settings.drain,
        })
    }

    /// The bound gRPC address (useful when the settings asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.grpc
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The bound metrics address.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics_listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The usage counters this host's metrics port serves, for the providers of the
    /// services added to it.
    pub fn usage(&self) -> crate::serve::usage::Usage {
        self.metrics.usage().clone()
    }

    /// Adds a service; health reports it SERVING from the start of [`serve`](Self::serve).
    pub fn add_service<S>(mut self, service: S) -> Self
    where
        S: Service<Request<Body>, Error = Infallible, Response = Response<Body>>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.services.push(S::NAME);
        self.router = self.router.add_service(service);
        self
    }

    /// Serves gRPC and metrics until `shutdown` is triggered, then drains.
    pub async fn serve(self, shutdown: Shutdown) -> Result<(), HostError> {
        let Self {
            router,
            health,
            services,
            grpc,
            metrics_listener,
            metrics,
            drain,
        } = self;
        // Where it listens, as bound: with port 0 in the settings, the port the OS chose.
        if let (Ok(grpc_addr), Ok(metrics_addr)) =
            (grpc.local_addr(), metrics_listener.local_addr())
        {
            tracing::info!(%grpc_addr, %metrics_addr, "serving");
        }
        let serving = Arc::new(AtomicBool::new(true));
        tokio::spawn(metrics.serve(metrics_listener, Arc::clone(&serving), shutdown.clone()));
        set_status(&health, &services, ServingStatus::Serving).await;

        let stop_accepting = {
            let shutdown = shutdown.clone();
            async move {
                shutdown.requested().await;
                serving.store(false, Ordering::Relaxed);
                set_status(&health, &services, ServingStatus::NotServing).await;
                tracing::info!(
                    grace_ms = drain.grace.as_millis() as u64,
                    "health is NOT_SERVING; draining"
                );
                tokio::time::sleep(drain.grace).await;
            }
        };
        let incoming = TcpIncoming::from(grpc).with_nodelay(Some(true));
        let serve = router.serve_with_incoming_shutdown(incoming, stop_accepting);

        tokio::select! {
            result = serve => Ok(result?),
            () = async {
                shutdown.requested().await;
                tokio::time::sleep(drain.grace + drain.timeout).await;
            } => {
                tracing::warn!("in-flight RPCs did not finish in time; closing them");
                Ok(())
            }
        }
    }
}

/// Sets every service and the server as a whole (the empty name) to `status`.
async fn set_status(health: &HealthReporter, services: &[&'static str], status: ServingStatus) {
    for name in services.iter().copied().chain([""]) {
        health.set_service_status(name, status).await;
    }
}

async fn listen(addr: SocketAddr) -> Result<TcpListener, HostError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| HostError::Bind { addr, source })
}

/// A service ready to serve: its listeners bound, its database migrated, its provider
/// chosen. Each service's `startup::build` makes one; `main` and the tests run it.
pub struct Application {
    host: ServiceHost,
    provider: String,
}

impl Application {
    /// `host`, with every service added, and the name of the model that does the work
    /// (`offline` or an OpenAI model).
    pub fn new(host: ServiceHost, provider: impl Into<String>) -> Self {
        Self {
            host,
            provider: provider.into(),
        }
    }

    /// The gRPC address.
    pub fn local_addr(&self) -> SocketAddr {
        self.host.local_addr()
    }

    /// The Prometheus address.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.host.metrics_addr()
    }

    /// The model that does the work: `offline` or an OpenAI model.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// Serves until `shutdown`, then drains.
    pub async fn run_until_stopped(self, shutdown: Shutdown) -> Result<(), HostError> {
        self.host.serve(shutdown).await
    }
}
