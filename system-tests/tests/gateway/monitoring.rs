//! The real Prometheus, with the committed rules, against the system `bin/up` runs: every
//! target scraped, and the model-provider alert going off when the provider is cut off.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;
use superstar_testkit::openai::{self, CHAT_MODEL, SONG_JSON};

use super::{
    repo, tool,
    up::{KEY, Up, chat_provider, curl, with},
};

/// Kills Prometheus when the test ends, however it ends.
struct Prometheus(Child, u16);

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Prometheus {
    /// bin/up's config as committed, but scraping and evaluating every second (the
    /// committed 15 s would make this test wait minutes), with absolute paths.
    fn start(folder: &std::path::Path) -> Self {
        let committed =
            std::fs::read_to_string(repo().join("deploy/prometheus/prometheus-local.yml")).unwrap();
        let prometheus_dir = repo().join("deploy/prometheus");
        let config = committed
            .replace("scrape_interval: 15s", "scrape_interval: 1s")
            .replace("evaluation_interval: 15s", "evaluation_interval: 1s")
            .replace(
                "rules/superstar.yml",
                &prometheus_dir
                    .join("rules/superstar.yml")
                    .display()
                    .to_string(),
            )
            .replace(
                "../../data/run/",
                &format!("{}/", super::up::system().folder.join("run").display()),
            );
        // Envoy's stats on this system's port.
        let config = super::up::for_this_system(&config);
        assert!(
            config.contains("scrape_interval: 1s") && config.contains("evaluation_interval: 1s")
        );
        let file = folder.join("prometheus.yml");
        std::fs::write(&file, config).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(tool("PROMETHEUS"))
            .arg(format!("--config.file={}", file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                folder.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus starts");
        Self(child, port)
    }

    /// GET on its HTTP API; `Null` while it is not answering yet.
    fn api(&self, path: &str) -> Value {
        let output = Command::new("curl")
            .args(["-sS", "--max-time", "5"])
            .arg(format!("http://127.0.0.1:{}{path}", self.1))
            .output()
            .unwrap();
        serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
    }

    /// Polls `check` on the API's answer to `path` until it holds.
    fn wait_for(&self, path: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let answer = self.api(path);
            if check(&answer) {
                return answer;
            }
            assert!(Instant::now() < deadline, "{what}: {answer}");
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

#[test]
#[ignore = "needs Envoy, Prometheus and release binaries: bin/test runs this"]
fn prometheus_scrapes_every_target_and_sees_the_provider_fail() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (provider, settings) = chat_provider(&runtime, openai::chat_reply(SONG_JSON));
    let data = tempfile::tempdir().unwrap();
    let _up = Up::start_with(
        data.path(),
        &with(&settings, &[("SONG_PRODUCER_REPLICAS", "2")]),
    );
    let prometheus = Prometheus::start(data.path());

    // Envoy, both song producers and the cover designer, each scraped and up.
    prometheus.wait_for("/api/v1/targets", "every target up", |targets| {
        let active = targets["data"]["activeTargets"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let up = |job: &str| {
            active
                .iter()
                .filter(|target| target["labels"]["job"] == job && target["health"] == "up")
                .count()
        };
        active.len() == 4 && (up("envoy"), up("song-producer"), up("cover-designer")) == (1, 2, 1)
    });

    // The provider answers: an album is made, nothing fires.
    let album = format!(
        r#"{KEY} https://localhost:8443/v1/albums -d '{{"genre": "synthwave", "theme": "neon nights", "songsCount": 1}}'"#
    );
    let (made, status) = curl(&album);
    assert_eq!(status, 200, "{made}");

    // Cut off: the provider's address now refuses connections. Albums keep failing
    // until Prometheus sees the provider failing.
    drop(provider);
    let deadline = Instant::now() + Duration::from_secs(90);
    let alerts = loop {
        let (refused, status) = curl(&album);
        assert_eq!(status, 503, "{refused}");
        let alerts = prometheus.api("/api/v1/alerts");
        let firing = alerts["data"]["alerts"].as_array().is_some_and(|alerts| {
            alerts.iter().any(|alert| {
                alert["labels"]["alertname"] == "SuperstarModelProviderFailing"
                    && alert["labels"]["model"] == CHAT_MODEL
                    && (alert["state"] == "pending" || alert["state"] == "firing")
            })
        });
        if firing {
            break alerts;
        }
        assert!(Instant::now() < deadline, "the provider alert: {alerts}");
        std::thread::sleep(Duration::from_millis(500));
    };
    // Nothing else is wrong: no upstream lost, no read failing.
    for alert in alerts["data"]["alerts"].as_array().unwrap() {
        assert_ne!(
            alert["labels"]["alertname"], "SuperstarNoHealthyUpstream",
            "{alert}"
        );
    }
}
