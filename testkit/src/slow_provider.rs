//! A provider stand-in that takes its time answering, and knows which of its answers
//! were read to the end: the count a test of "paid once" needs. (A wiremock server
//! counts requests received; a call the client gave up on midway is one of them.)

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

/// How often a slow reply sends a byte: a client that went away is noticed within two.
const TRICKLE_EVERY: Duration = Duration::from_millis(100);

/// An HTTP/1.1 server that answers every request with the same JSON `body`, trickled
/// out over `takes` (whitespace first, which JSON allows), and counts the replies it
/// began and those it sent whole. A client that drops the call midway closes its
/// connection, and the next write fails: that reply is not counted as completed.
pub struct SlowProvider {
    addr: SocketAddr,
    counts: Arc<Counts>,
    serving: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct Counts {
    begun: AtomicUsize,
    completed: AtomicUsize,
}

impl SlowProvider {
    /// A stand-in answering `body` after `takes`, on a port the OS chooses.
    pub async fn start(body: serde_json::Value, takes: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the stand-in");
        let addr = listener.local_addr().expect("the stand-in's address");
        let counts = Arc::new(Counts::default());
        let body = Arc::new(body.to_string());
        let serving = {
            let counts = counts.clone();
            tokio::spawn(async move {
                while let Ok((connection, _)) = listener.accept().await {
                    tokio::spawn(serve(connection, body.clone(), takes, counts.clone()));
                }
            })
        };
        Self {
            addr,
            counts,
            serving,
        }
    }

    /// The base URL of its OpenAI-style API (`…/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Replies begun: requests received.
    pub fn begun(&self) -> usize {
        self.counts.begun.load(Ordering::SeqCst)
    }

    /// Replies sent to the end.
    pub fn completed(&self) -> usize {
        self.counts.completed.load(Ordering::SeqCst)
    }
}

impl Drop for SlowProvider {
    fn drop(&mut self) {
        self.serving.abort();
    }
}

/// Serves the requests of one connection, one after another.
async fn serve(connection: TcpStream, body: Arc<String>, takes: Duration, counts: Arc<Counts>) {
    let mut connection = BufReader::new(connection);
    loop {
        // The head, up to its blank line, and a body as long as it says.
        let mut length = 0;
        loop {
            let mut line = String::new();
            match connection.read_line(&mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) if line == "\r\n" => break,
                Ok(_) => {
                    let lower = line.to_ascii_lowercase();
                    if let Some(value) = lower.strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
            }
        }
        let mut request_body = vec![0; length];
        if connection.read_exact(&mut request_body).await.is_err() {
            return;
        }
        counts.begun.fetch_add(1, Ordering::SeqCst);
        if reply(connection.get_mut(), &body, takes).await.is_err() {
            return;
        }
        counts.completed.fetch_add(1, Ordering::SeqCst);
    }
}

/// A chunked reply: a space every [`TRICKLE_EVERY`] for `takes`, then `body`.
async fn reply(connection: &mut TcpStream, body: &str, takes: Duration) -> std::io::Result<()> {
    connection
        .write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
        )
        .await?;
    let until = tokio::time::Instant::now() + takes;
    while tokio::time::Instant::now() < until {
        connection.write_all(b"1\r\n \r\n").await?;
        tokio::time::sleep(TRICKLE_EVERY).await;
    }
    connection
        .write_all(format!("{:x}\r\n{body}\r\n0\r\n\r\n", body.len()).as_bytes())
        .await?;
    connection.flush().await
}
