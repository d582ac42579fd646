//! A client channel spread over every healthy replica of a service.
//!
//! The song producer calls the cover designer straight, not through Envoy, so the cover
//! designer sees the song producer's own client certificate (and a network policy can
//! say that only the song producer reaches it). Balancing is then the client's job, as
//! in gRPC's own client-side balancing: [`balanced`] gives a tonic [`Channel`] that
//! spreads calls over the replicas and a task that keeps the set of replicas current.
//! tonic's balancer picks two replicas at random and takes the one with less load; its
//! connections report no load (always 0), so in effect each call goes to a replica
//! picked at random, which spreads calls evenly enough for a handful of replicas.
//!
//! - each target (`https://host:port`) is resolved every [`PROBE_INTERVAL`], so a name
//!   that resolves to every replica (a compose service scaled up, a Kubernetes headless
//!   Service) brings new replicas in and lets gone ones go;
//! - each address is probed with `grpc.health.v1.Health/Check` over its own connection,
//!   and only replicas answering `SERVING` are in rotation: a replica that dies or
//!   drains (it answers `NOT_SERVING` first) leaves within one interval, and rejoins on
//!   its first passing probe;
//! - a caller that saw `UNAVAILABLE` can [`probe now`](Replicas::probe_now) rather than
//!   wait for the next interval.
//!
//! tonic's own `Channel::balance_list` takes a fixed list and keeps sending calls to a
//! replica that refuses connections (its reconnecting service reports ready so that
//! the call can carry the error back); hence the probing here, which is what decides.
//! Addresses are probed from the start, so with no replica healthy calls wait for one
//! (each caller's deadline bounds that).

use std::{collections::HashMap, net::SocketAddr, sync::Arc, time::Duration};

use tokio::sync::{Notify, mpsc::Sender, watch};
use tonic::transport::{Channel, ClientTlsConfig, Endpoint, channel::Change};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// How often targets are resolved and every replica probed.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// How long one probe may take before the replica counts as failing it.
const PROBE_TIMEOUT: Duration = Duration::from_millis(800);

/// Where a service's replicas answer: a host (a name or an address) and a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The host, which the replicas' certificates must name.
    pub host: String,
    /// The port.
    pub port: u16,
}

/// The task that keeps a [`balanced`] channel's replicas current; dropping every clone
/// of this handle does not stop it (it ends within a probe interval of the channel
/// being dropped).
#[derive(Debug, Clone)]
pub struct Replicas {
    probe: Arc<Notify>,
    serving: watch::Receiver<usize>,
}

impl Replicas {
    /// Resolves and probes every replica now instead of at the next interval.
    pub fn probe_now(&self) {
        self.probe.notify_one();
    }

    /// How many replicas are in rotation.
    pub fn serving(&self) -> usize {
        *self.serving.borrow()
    }

    /// Waits up to `limit` for a replica in rotation (probing at once when there is
    /// none); false when none came: the caller should fail fast rather than queue.
    pub async fn wait_for_one(&self, limit: Duration) -> bool {
        if self.serving() > 0 {
            return true;
        }
        self.probe_now();
        let mut serving = self.serving.clone();
        matches!(
            tokio::time::timeout(limit, serving.wait_for(|count| *count > 0)).await,
            Ok(Ok(_))
        )
    }
}

/// A channel over the healthy replicas of `service` found at `targets`, each reached
/// with `tls` (its domain set to the target's host) and the endpoint settings
/// `configure` applies (timeouts, `TCP_NODELAY`).
pub fn balanced(
    targets: Vec<Target>,
    tls: ClientTlsConfig,
    service: &'static str,
    configure: fn(Endpoint) -> Endpoint,
) -> (Channel, Replicas) {
    let (channel, changes) = Channel::balance_channel::<SocketAddr>(64);
    let probe = Arc::new(Notify::new());
    let (serving, serving_receiver) = watch::channel(0);
    let watcher = Watcher {
        serving,
        targets,
        tls,
        service,
        configure,
        changes,
        replicas: HashMap::new(),
    };
    tokio::spawn(watcher.run(probe.clone()));
    (
        channel,
        Replicas {
            probe,
            serving: serving_receiver,
        },
    )
}

struct Watcher {
    /// How many replicas are in rotation, for [`Replicas::wait_for_one`].
    serving: watch::Sender<usize>,
    targets: Vec<Target>,
    tls: ClientTlsConfig,
    service: &'static str,
    configure: fn(Endpoint) -> Endpoint,
    changes: Sender<Change<SocketAddr, Endpoint>>,
    replicas: HashMap<SocketAddr, Replica>,
}

/// One address a target resolved to.
struct Replica {
    /// The target's host it was resolved from.
    host: String,
    endpoint: Endpoint,
    /// Its own connection, for probes only.
    health: HealthClient<Channel>,
    in_rotation: bool,
}

impl Watcher {
    async fn run(mut self, probe: Arc<Notify>) {
        // Until the channel is gone (its receiving end closes the change channel).
        while !self.changes.is_closed() {
            if !self.refresh().await {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(PROBE_INTERVAL) => {}
                () = probe.notified() => {}
            }
        }
    }

    /// Resolves the targets, probes every replica and tells the channel what changed;
    /// false once the channel is gone.
    async fn refresh(&mut self) -> bool {
        let mut seen = Vec::new();
        for target in &self.targets {
            match tokio::net::lookup_host((target.host.as_str(), target.port)).await {
                Ok(addresses) => seen.extend(addresses.map(|address| (address, target))),
                // Keep what it resolved to before: DNS may be down for a moment.
                Err(error) => {
                    tracing::warn!(host = %target.host, %error, "cannot resolve a replica address");
                    seen.extend(
                        self.replicas
                            .iter()
                            .filter(|(_, replica)| replica.host == target.host)
                            .map(|(address, _)| (*address, target)),
                    );
                }
            }
        }
        for (address, target) in &seen {
            if !self.replicas.contains_key(address) {
                match self.replica(*address, target) {
                    Ok(replica) => {
                        self.replicas.insert(*address, replica);
                    }
                    Err(error) => {
                        tracing::error!(%address, %error, "cannot make an endpoint for a replica")
                    }
                }
            }
        }
        let gone: Vec<SocketAddr> = self
            .replicas
            .keys()
            .filter(|address| !seen.iter().any(|(seen, _)| seen == *address))
            .copied()
            .collect();
        for address in gone {
            if let Some(replica) = self.replicas.remove(&address)
                && replica.in_rotation
            {
                tracing::info!(%address, "replica gone from DNS; out of rotation");
                if self.changes.send(Change::Remove(address)).await.is_err() {
                    return false;
                }
            }
        }

        let service = self.service;
        let probes = self.replicas.iter().map(|(address, replica)| {
            let mut health = replica.health.clone();
            async move {
                let request = HealthCheckRequest {
                    service: service.to_owned(),
                };
                let serving = tokio::time::timeout(PROBE_TIMEOUT, health.check(request))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .is_some_and(|reply| {
                        reply.into_inner().status == ServingStatus::Serving as i32
                    });
                (*address, serving)
            }
        });
        for (address, serving) in futures::future::join_all(probes).await {
            let Some(replica) = self.replicas.get_mut(&address) else {
                continue;
            };
            let change = match (serving, replica.in_rotation) {
                (true, false) => {
                    tracing::info!(%address, "replica serving; in rotation");
                    Change::Insert(address, replica.endpoint.clone())
                }
                (false, true) => {
                    tracing::warn!(%address, "replica not serving; out of rotation");
                    Change::Remove(address)
                }
                _ => continue,
            };
            replica.in_rotation = serving;
            if self.changes.send(change).await.is_err() {
                return false;
            }
        }
        let in_rotation = self
            .replicas
            .values()
            .filter(|replica| replica.in_rotation)
            .count();
        self.serving.send_replace(in_rotation);
        true
    }

    fn replica(
        &self,
        address: SocketAddr,
        target: &Target,
    ) -> Result<Replica, tonic::transport::Error> {
        let endpoint = (self.configure)(
            Endpoint::from_shared(format!("https://{address}"))?
                .tls_config(self.tls.clone().domain_name(target.host.clone()))?,
        );
        Ok(Replica {
            host: target.host.clone(),
            health: HealthClient::new(endpoint.connect_lazy()),
            endpoint,
            in_rotation: false,
        })
    }
}
