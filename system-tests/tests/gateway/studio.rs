//! The studio in a real browser: Debian's Chromium, headless, driven over WebDriver
//! (chromedriver, through fantoccini), against the real Envoy that `bin/up` starts. The
//! browser trusts `certs/ca.pem` through an NSS database of its own, as a user's would
//! after importing it, not by ignoring certificate errors. Each step saves a screenshot
//! into `target/studio-screenshots/`.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use super::{
    repo, tool,
    up::{ALICE, BOB, Up, curl, gateway_channel, system, with_key},
};

/// Chromedriver, with a browser whose home has an NSS database trusting our CA.
struct Browser {
    driver: Child,
    client: Client,
    _home: tempfile::TempDir,
    screenshots: PathBuf,
}

impl Browser {
    async fn start() -> Self {
        let home = tempfile::tempdir().unwrap();
        let nssdb = home.path().join(".pki/nssdb");
        std::fs::create_dir_all(&nssdb).unwrap();
        let database = format!("sql:{}", nssdb.display());
        for args in [
            vec!["-N", "-d", &database, "--empty-password"],
            vec![
                "-A",
                "-d",
                &database,
                "-t",
                "C,,",
                "-n",
                "superstar-test-ca",
                "-i",
                &repo().join("certs/ca.pem").display().to_string(),
            ],
        ] {
            let status = Command::new("certutil")
                .args(&args)
                .status()
                .expect("certutil runs");
            assert!(status.success(), "certutil {args:?}");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(tool("CHROMEDRIVER"))
            .arg(format!("--port={port}"))
            .env("HOME", home.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": tool("CHROMIUM"),
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    // A phone-sized window: the studio must work there.
                    "--window-size=412,915",
                    format!("--user-data-dir={}", home.path().join("profile").display()),
                ],
            }),
        );
        // chromedriver answers once it listens: try until it does.
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(error) => {
                    assert!(Instant::now() < deadline, "chromedriver: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        let screenshots = repo().join("target/studio-screenshots");
        std::fs::create_dir_all(&screenshots).unwrap();
        Self {
            driver,
            client,
            _home: home,
            screenshots,
        }
    }

    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.screenshots.join(format!("{name}.png")), png).unwrap();
    }

    async fn run(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// Waits until `script` returns true.
    async fn until(&self, what: &str, script: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while self.run(script).await != Value::Bool(true) {
            if Instant::now() > deadline {
                self.screenshot(&format!("failed-{}", what.replace(' ', "-")))
                    .await;
                panic!("{what}: not within {within:?} ({script})");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn status_says(&self, words: &str) {
        let script = format!(
            "return document.getElementById('status').textContent.includes({})",
            json!(words)
        );
        self.until(
            &format!("status says {words}"),
            &script,
            Duration::from_secs(15),
        )
        .await;
    }

    async fn type_into(&self, selector: &str, text: &str) {
        let field = self
            .client
            .wait()
            .for_element(Locator::Css(selector))
            .await
            .unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    async fn click(&self, selector: &str) {
        self.client
            .find(Locator::Css(selector))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The first client's key in `.env`, as a user copies it.
fn dot_env_key() -> String {
    let variables = superstar_settings::env_file::read(&repo().join(".env")).unwrap();
    let first = variables["SUPERSTAR_API_KEYS"]
        .split(',')
        .next()
        .unwrap()
        .to_owned();
    first.split_once(':').unwrap().1.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Envoy, Chromium, chromedriver and release binaries: bin/test runs this"]
async fn the_studio_makes_an_album_in_a_browser() {
    let data = tempfile::tempdir().unwrap();
    // Slow typing: an album takes a few seconds, so progress is visible.
    let _up = tokio::task::block_in_place(|| {
        Up::start_with(data.path(), &[("OFFLINE_TYPING_DELAY_MS", "20")])
    });
    let browser = Browser::start().await;
    let page = &browser.client;
    page.goto(&format!("{}/", system().url()))
        .await
        .expect("the page loads over trusted TLS");

    // --- A wrong key is refused, and said so ---------------------------------------------
    browser.type_into("#key", "not-a-key-0123456789").await;
    browser.click("form button").await;
    browser.status_says("not accepted").await;
    browser.screenshot("1-wrong-key").await;
    assert_eq!(
        browser
            .run("return document.getElementById('nav').offsetParent === null")
            .await,
        true,
        "no navigation before signing in"
    );
    assert_eq!(
        browser.run("return sessionStorage.length").await,
        0,
        "a refused key is forgotten"
    );

    // --- Signed in: the key in sessionStorage only ---------------------------------------
    // By keyboard: the field has the focus; Enter submits.
    browser
        .type_into("#key", &format!("{}\u{E007}", dot_env_key()))
        .await;
    page.wait()
        .for_element(Locator::Css("#genre"))
        .await
        .unwrap();
    assert_eq!(
        browser
            .run("return [sessionStorage.length, localStorage.length]")
            .await,
        json!([1, 0])
    );
    assert!(!page.current_url().await.unwrap().as_str().contains("key"));

    // --- A request the API refuses names its field ----------------------------------------
    browser.type_into("#genre", "synthwave").await;
    browser.type_into("#theme", "   ").await;
    browser.click("form button").await;
    browser.status_says("Please check the form: theme").await;

    // --- An album, its songs shown as they are written; the theme stays text -------------
    let theme = "<img src=x onerror=alert(1)>";
    browser.type_into("#genre", "synthwave").await;
    browser.type_into("#theme", theme).await;
    browser.type_into("#songs", "3").await;
    browser.screenshot("2-make").await;
    browser.click("form button").await;
    browser
        .until(
            "the first song shows",
            "return document.querySelectorAll('.song').length > 0",
            Duration::from_secs(60),
        )
        .await;
    browser.screenshot("3-writing").await;
    browser
        .until(
            "the album page shows",
            "return location.hash.startsWith('#/albums/') && !!document.querySelector('h2')",
            Duration::from_secs(60),
        )
        .await;
    let marks = browser
        .run("return Object.fromEntries(performance.getEntriesByType('mark').map(m => [m.name, m.startTime]))")
        .await;
    let at = |name: &str| {
        marks[name]
            .as_f64()
            .unwrap_or_else(|| panic!("no {name} mark: {marks}"))
    };
    assert!(
        at("song 1") < at("album"),
        "the first song was on the page before the album was stored: {marks}"
    );
    assert!(marks.get("song 3").is_some(), "{marks}");
    browser
        .until("the cover loads", "const c = document.querySelector('img.cover'); return !!c && c.complete && c.naturalWidth === 512", Duration::from_secs(15))
        .await;
    assert_eq!(
        browser
            .run("return document.querySelectorAll('img[src=\"x\"]').length")
            .await,
        0
    );
    let shown = browser
        .run("return document.querySelector('main p').textContent")
        .await;
    assert!(
        shown.as_str().unwrap().contains(theme),
        "the theme shows as text: {shown}"
    );
    assert_eq!(
        browser
            .run("return document.querySelectorAll('main section.song').length")
            .await,
        3
    );
    assert!(
        browser.run("return [...document.querySelectorAll('.lyrics h4')].some(h => h.textContent === 'Chorus')").await
            == Value::Bool(true),
        "section headings are headings"
    );
    browser.screenshot("4-album").await;
    let title = browser
        .run("return document.querySelector('h1').textContent")
        .await;

    // --- The library, then a song page ----------------------------------------------------
    page.goto(&format!("{}/#/library", system().url()))
        .await
        .unwrap();
    browser
        .until("the library lists it", &format!("return [...document.querySelectorAll('ol.albums a')].some(a => a.textContent === {title})"), Duration::from_secs(15))
        .await;
    browser.screenshot("5-library").await;
    browser.click("ol.albums a").await;
    browser
        .until(
            "its tracks",
            "return document.querySelectorAll('main ol li a').length === 3",
            Duration::from_secs(15),
        )
        .await;
    browser.click("main ol li a").await;
    browser
        .until(
            "a song page",
            "return location.hash.startsWith('#/songs/') && !!document.querySelector('.lyrics h4')",
            Duration::from_secs(15),
        )
        .await;
    browser.screenshot("6-song").await;

    // --- Sign out forgets the key ----------------------------------------------------------
    browser.click("#sign-out").await;
    page.wait().for_element(Locator::Css("#key")).await.unwrap();
    assert_eq!(browser.run("return sessionStorage.length").await, 0);
    browser.client.clone().close().await.unwrap();
}

/// A spent limit says when to retry; another client is untouched. Alice's reads are
/// kept spent by a flood of her own from this test (as a second tab of hers would), so
/// that the page's next read is refused whenever it comes; bob's pass meanwhile. And a
/// model provider that does not answer is said to be unavailable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Envoy, Chromium, chromedriver and release binaries: bin/test runs this"]
async fn the_studio_says_when_to_retry_and_when_the_provider_is_down() {
    let data = tempfile::tempdir().unwrap();
    // OpenAI's stand-in here is a port nothing listens on.
    let nowhere = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let base_url = format!("http://{nowhere}/v1");
    let _up = tokio::task::block_in_place(|| {
        Up::with_alice_and_bob(
            data.path(),
            &[
                ("READ_RATE_PER_SECOND", "1"),
                ("READ_BURST", "10"),
                ("SUPERSTAR_PROVIDER", "openai"),
                ("OPENAI_API_KEY", "sk-test-never-used-0123456789"),
                ("OPENAI_BASE_URL", &base_url),
                ("OPENAI_MAX_ATTEMPTS", "1"),
            ],
        )
    });
    let browser = Browser::start().await;
    let page = &browser.client;
    page.goto(&format!("{}/", system().url())).await.unwrap();
    browser.type_into("#key", ALICE).await;
    browser.click("form button").await;
    page.wait()
        .for_element(Locator::Css("#genre"))
        .await
        .unwrap();

    // --- 503: the model provider is down -------------------------------------------------
    browser.type_into("#genre", "jazz").await;
    browser.type_into("#theme", "a quiet night\u{E007}").await;
    browser
        .status_says("The model provider is unavailable")
        .await;
    browser.screenshot("8-provider-down").await;

    // --- 429: when to retry -----------------------------------------------------------------
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flood = {
        let stop = std::sync::Arc::clone(&stop);
        let mut health =
            tonic_health::pb::health_client::HealthClient::new(gateway_channel().await);
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let request = with_key(ALICE, tonic_health::pb::HealthCheckRequest::default());
                let _ = health.check(request).await;
            }
        })
    };
    let mut said = String::new();
    for attempt in 0..10 {
        page.goto(&format!("{}/#/library/{attempt}", system().url()))
            .await
            .unwrap();
        let script = "const s = document.getElementById('status').textContent; \
                      return s.includes('Too many') || !!document.querySelector('main h1') && s === '' && document.querySelector('main h1').textContent === 'Library' && !!document.querySelector('main p, ol.albums li')";
        browser
            .until("the library or a refusal", script, Duration::from_secs(15))
            .await;
        said = browser
            .run("return document.getElementById('status').textContent")
            .await
            .as_str()
            .unwrap()
            .to_owned();
        if said.contains("Too many") {
            break;
        }
    }
    let (bobs, status) = tokio::task::block_in_place(|| {
        curl(&format!(
            "-H 'x-api-key: {BOB}' https://localhost:8443/v1/songs"
        ))
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    flood.await.unwrap();
    assert_eq!(status, 200, "bob's bucket is his own: {bobs}");
    browser.screenshot("7-rate-limited").await;
    let seconds = said
        .strip_prefix("Too many requests: try again in ")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("the page says when to retry: {said:?}"));
    assert!(
        seconds.parse::<u32>().is_ok(),
        "a number of seconds, from x-ratelimit-reset: {said}"
    );
    browser.client.clone().close().await.unwrap();
}
