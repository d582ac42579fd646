//! A TCP proxy a test can stall: what a database connection looks like when the network
//! or the server stops answering for a while.

use std::net::SocketAddr;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::watch,
};

/// Forwards every connection made to [`StallingProxy::addr`] to a target, byte for
/// byte, both ways, until [`StallingProxy::stall`]: then nothing moves (connections
/// stay open, bytes wait) until [`StallingProxy::resume`]. Runs on the test's runtime;
/// stops when dropped.
pub struct StallingProxy {
    addr: SocketAddr,
    stalled: watch::Sender<bool>,
    accepting: tokio::task::JoinHandle<()>,
}

impl StallingProxy {
    /// A proxy to `target` on a port the OS chooses.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let (stalled, watching) = watch::channel(false);
        let accepting = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(target).await else {
                    continue; // the client sees its connection closed
                };
                let (client_reads, client_writes) = client.into_split();
                let (server_reads, server_writes) = server.into_split();
                tokio::spawn(forward(client_reads, server_writes, watching.clone()));
                tokio::spawn(forward(server_reads, client_writes, watching.clone()));
            }
        });
        Self {
            addr,
            stalled,
            accepting,
        }
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// From now on no byte passes, either way.
    pub fn stall(&self) {
        self.stalled.send_replace(true);
    }

    /// Bytes pass again.
    pub fn resume(&self) {
        self.stalled.send_replace(false);
    }
}

impl Drop for StallingProxy {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// Copies `from` to `to`, holding each chunk while the proxy is stalled.
async fn forward(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut stalled: watch::Receiver<bool>,
) {
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let Ok(read) = from.read(&mut buffer).await else {
            return;
        };
        if read == 0 || stalled.wait_for(|stalled| !stalled).await.is_err() {
            return;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}
