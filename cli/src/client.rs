//! The connection to the gateway, and a real client's manners: the API key and a request
//! id on every call, a deadline on every call, and retries with backoff where a retry
//! cannot do a thing twice.

use std::{
    future::Future,
    path::{Path, PathBuf},
    time::Duration,
};

use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;
use tonic::{
    Request, Status,
    metadata::MetadataValue,
    transport::{Certificate, Channel, ClientTlsConfig, Endpoint},
};

use crate::failure::{Failure, Kind};

/// How often a retryable call is tried in all.
const ATTEMPTS: u32 = 4;

/// The wait before the first retry; each later one waits twice as long.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// Where to connect, and as whom.
pub struct Settings {
    /// The gateway's URL.
    pub endpoint: String,
    /// The CA to trust, if not the system's.
    pub ca: Option<PathBuf>,
    /// The API key.
    pub key: Option<SecretString>,
    /// Each call's deadline.
    pub timeout: Duration,
}

/// A client of the gateway: one channel, one request id for this run's calls.
pub struct Client {
    channel: Channel,
    key: MetadataValue<tonic::metadata::Ascii>,
    /// Every call of this run carries it; errors show it.
    pub request_id: String,
    /// When the run's calls must be done by: retries never go past it.
    deadline: Instant,
}

impl Client {
    /// Connects lazily: an unreachable endpoint is a call that fails UNAVAILABLE, within
    /// the timeout.
    pub fn new(settings: Settings) -> Result<Self, Failure> {
        let key = settings.key.ok_or_else(|| {
            Failure::new(
                Kind::Auth,
                "no API key: set SUPERSTAR_KEY, or run from a checkout whose .env has SUPERSTAR_API_KEYS",
            )
        })?;
        let mut key = MetadataValue::try_from(key.expose_secret())
            .map_err(|_| Failure::new(Kind::Auth, "the API key is not printable ASCII"))?;
        key.set_sensitive(true);
        let usage = |message: String| Failure::new(Kind::Usage, message);
        let endpoint = Endpoint::from_shared(settings.endpoint.clone())
            .map_err(|error| usage(format!("--endpoint {}: {error}", settings.endpoint)))?;
        let host = endpoint.uri().host().unwrap_or("localhost").to_owned();
        let endpoint = if endpoint.uri().scheme_str() == Some("https") {
            let tls = ClientTlsConfig::new().domain_name(host);
            let tls = match &settings.ca {
                Some(ca) => tls.ca_certificate(Certificate::from_pem(read_ca(ca)?)),
                None => tls.with_webpki_roots(),
            };
            endpoint
                .tls_config(tls)
                .map_err(|error| usage(format!("TLS: {error}")))?
        } else {
            endpoint
        };
        let channel = endpoint
            .connect_timeout(settings.timeout)
            .timeout(settings.timeout)
            .connect_lazy();
        Ok(Self {
            channel,
            key,
            request_id: uuid::Uuid::new_v4().to_string(),
            deadline: Instant::now() + settings.timeout,
        })
    }

    /// The connection, for the streaming calls.
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// `message` with the key, the request id and the time left as its deadline.
    pub fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        request.metadata_mut().insert("x-api-key", self.key.clone());
        if let Ok(id) = MetadataValue::try_from(self.request_id.as_str()) {
            request.metadata_mut().insert("x-request-id", id);
        }
        request.set_timeout(self.time_left());
        request
    }

    fn time_left(&self) -> Duration {
        self.deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    }

    /// Runs `call` until it answers, retrying UNAVAILABLE with backoff while the deadline
    /// leaves room; `what` names the call in the error. Only for calls that may be
    /// repeated: reads, and creates that carry a request id, which the gateway makes
    /// once (AIP-155). Creates without one (GenerateLyrics, Jam) are called directly.
    pub async fn call<T, F, Fut>(&self, what: &str, mut call: F) -> Result<T, Failure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Status>>,
    {
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1.. {
            match call().await {
                Ok(answer) => return Ok(answer),
                Err(status)
                    if retryable(&status)
                        && attempt < ATTEMPTS
                        && Instant::now() + backoff < self.deadline =>
                {
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
                Err(status) => return Err(self.failure(what, &status)),
            }
        }
        unreachable!("the loop returns")
    }

    /// One unary call of a tonic client `service` with `message`, as [`call`](Self::call)
    /// runs it: `rpc` is the client's method, e.g. `|mut c, r| async move { c.get_song(r).await }`.
    pub async fn unary<C, M, T, F, Fut>(
        &self,
        what: &str,
        service: &C,
        message: M,
        rpc: F,
    ) -> Result<T, Failure>
    where
        C: Clone,
        M: Clone,
        F: Fn(C, Request<M>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, Status>>,
    {
        self.call(what, || rpc(service.clone(), self.request(message.clone())))
            .await
            .map(tonic::Response::into_inner)
    }

    /// A failed call as the user reads it, with this run's request id.
    pub fn failure(&self, what: &str, status: &Status) -> Failure {
        Failure::from_status(what, status, &self.request_id)
    }
}

/// UNAVAILABLE: nothing answered, or a replica went away before answering.
pub fn retryable(status: &Status) -> bool {
    status.code() == tonic::Code::Unavailable
}

fn read_ca(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|error| Failure::new(Kind::Usage, format!("--ca {}: {error}", path.display())))
}
