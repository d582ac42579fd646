//! Each client's share of the streams a host holds open.
//!
//! The gateway bounds the streams every client together holds open to a service (the
//! song producer's stream cluster: 512). Without a share, one client could hold them
//! all (a few hundred health watches, or idle `Jam`s) and every other client's
//! `StreamAlbum` would be refused. So a host counts the streaming calls open per client
//! (the `x-superstar-client` its trusted caller names) and answers one over
//! [`Limits::streams_per_client`](crate::serve::host::Limits) with
//! `RESOURCE_EXHAUSTED` (`TOO_MANY_OPEN_STREAMS`, retry in a second) at once: the
//! refused stream ends, and its place in the gateway's budget with it. A stream counts
//! from its request until its response body ends or is dropped.
//!
//! Streaming methods are read from the descriptor sets the host serves, so that a new
//! streaming RPC counts without a list to update. Unary calls are not counted: they
//! are short, and the per-client rate limits bound them. Calls naming no client (the
//! gateway's health checks, a probe) are not counted either.
//!
//! Our own layer: tower's concurrency limits are global and release their permit when
//! the response's headers are ready, not when a stream ends.

use std::{
    collections::{HashMap, HashSet},
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::Duration,
};

use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use prost::Message;
use tower::{Layer, Service};

use crate::calls::call_context::CLIENT;

/// The streaming methods of the services in `descriptor_sets`, as request paths.
fn streaming_paths(descriptor_sets: &[&[u8]]) -> HashSet<String> {
    let mut paths = HashSet::new();
    for set in descriptor_sets {
        let set = prost_types::FileDescriptorSet::decode(*set)
            .expect("the compiled descriptor sets decode");
        for file in set.file {
            for service in &file.service {
                for method in &service.method {
                    if method.client_streaming() || method.server_streaming() {
                        paths.insert(format!(
                            "/{}.{}/{}",
                            file.package(),
                            service.name(),
                            method.name()
                        ));
                    }
                }
            }
        }
    }
    // Reflection streams both ways; its descriptors are not among those served.
    paths.insert("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo".into());
    paths.insert("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo".into());
    paths
}

/// Open streams per client, and the share each may hold.
#[derive(Debug)]
struct Shares {
    per_client: usize,
    streaming: HashSet<String>,
    open: Mutex<HashMap<String, usize>>,
}

/// One open stream of a client: counted while it lives.
#[derive(Debug)]
pub struct OpenStream {
    shares: Arc<Shares>,
    client: String,
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        let mut open = self.shares.open.lock().expect("never poisoned");
        if let Some(count) = open.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}

impl Shares {
    /// Counts a stream for `client`, unless it holds its share already.
    fn open(self: &Arc<Self>, client: &str) -> Option<OpenStream> {
        let mut open = self.open.lock().expect("never poisoned");
        let count = open.entry(client.to_owned()).or_default();
        if *count >= self.per_client {
            return None;
        }
        *count += 1;
        Some(OpenStream {
            shares: self.clone(),
            client: client.to_owned(),
        })
    }
}

/// Adds [`ClientShare`] around a host's services.
#[derive(Debug, Clone)]
pub struct ClientShareLayer(Arc<Shares>);

impl ClientShareLayer {
    /// `per_client` open streams for each client, over the streaming methods of the
    /// services in `descriptor_sets` (and reflection).
    pub fn new(per_client: usize, descriptor_sets: &[&[u8]]) -> Self {
        Self(Arc::new(Shares {
            per_client,
            streaming: streaming_paths(descriptor_sets),
            open: Mutex::new(HashMap::new()),
        }))
    }
}

impl<S> Layer<S> for ClientShareLayer {
    type Service = ClientShare<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientShare {
            inner,
            shares: self.0.clone(),
        }
    }
}

/// See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct ClientShare<S> {
    inner: S,
    shares: Arc<Shares>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ClientShare<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<Counted<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let client = request
            .headers()
            .get(CLIENT)
            .and_then(|value| value.to_str().ok())
            .filter(|_| self.shares.streaming.contains(request.uri().path()));
        let open = match client {
            None => None,
            Some(client) => match self.shares.open(client) {
                Some(open) => Some(open),
                None => {
                    let status = superstar_proto::errors::retry_later(
                        "TOO_MANY_OPEN_STREAMS",
                        format!(
                            "this client holds {} streams open, its share of this service; \
                             close one (a stream, a watch, a Jam) first",
                            self.shares.per_client
                        ),
                        Duration::from_secs(1),
                    );
                    let response = status.into_http::<ResBody>().map(Counted::new(None));
                    return Box::pin(async move { Ok(response) });
                }
            },
        };
        let response = self.inner.call(request);
        Box::pin(async move { Ok(response.await?.map(Counted::new(open))) })
    }
}

pin_project_lite::pin_project! {
    /// A response body that keeps its stream counted until it ends or is dropped.
    #[derive(Debug, Default)]
    pub struct Counted<B> {
        #[pin]
        body: B,
        open: Option<OpenStream>,
    }
}

impl<B> Counted<B> {
    fn new(open: Option<OpenStream>) -> impl FnOnce(B) -> Self {
        move |body| Self { body, open }
    }
}

impl<B: Body> Body for Counted<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        self.project().body.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
