//! llama.cpp's own OpenAI-compatible server (`llama-server`) with a real small model,
//! for the tests that prove the lyricist against a local model server (`bin/bench`
//! starts it the same way, at temperature 0).
//! `bin/lib/llama.sh` builds the server and fetches the model, and names both in
//! `LLAMA_SERVER` and `LLAMA_MODEL`.

use std::{
    io::{Read, Write},
    net::TcpStream,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// The name the server answers to (`--alias`), which `OPENAI_CHAT_MODEL` asks for.
pub const MODEL: &str = "smollm2";

/// A running `llama-server` on loopback; killed when dropped.
pub struct LlamaServer {
    child: Child,
    /// Its OpenAI API's base URL, as `OPENAI_BASE_URL` takes it.
    pub base_url: String,
}

impl LlamaServer {
    /// Starts the server on 127.0.0.1:`port` with two slots of 2,048 tokens of context
    /// each (a prompt and the longest song fit in one), and waits until its `/health`
    /// says the model is loaded.
    pub fn start(port: u16) -> Self {
        let variable = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!("{name} is not set: bin/test builds llama-server and fetches the model")
            })
        };
        let child = Command::new(variable("LLAMA_SERVER"))
            .args(["--model", &variable("LLAMA_MODEL"), "--alias", MODEL])
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--ctx-size", "4096", "--parallel", "2", "--threads", "2"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("llama-server starts");
        let server = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}/v1"),
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        while !healthy(port) {
            assert!(
                Instant::now() < deadline,
                "llama-server did not load its model within 120 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }
}

/// Whether `GET /health` answers 200 (503 while the model loads).
fn healthy(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let request = "GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n";
    let mut reply = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut reply).is_ok()
        && reply.starts_with("HTTP/1.1 200")
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
