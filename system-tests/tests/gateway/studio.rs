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

use super::{repo, tool, up::Up};

/// Chromedriver, with a browser whose home has an NSS database trusting our CA.
struct Browser {
    driver: Child,
    client: Client,
    _home: tempfile::TempDir,
    screenshots: PathBuf,
}

impl Browser {
    async fn start() -> Self {
        // fantoccini's TLS (for https drivers; ours is http) wants a process-wide provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
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
            match ClientBuilder::rustls()
                .expect("a TLS connector")
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
    page.goto("https://localhost:8443/")
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
    browser.type_into("#key", &dot_env_key()).await;
    browser.click("form button").await;
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
    page.goto("https://localhost:8443/#/library").await.unwrap();
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
