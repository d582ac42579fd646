//! The whole system through Envoy, as `bin/up` starts it, with the providers pointed at
//! a wiremock server that speaks OpenAI's wire format: the `OPENAI_*` settings reach
//! the services, the models' work reaches clients over JSON and gRPC, the provider's
//! failures reach them with the right HTTP status, and the OpenAI key reaches no log.

use superstar_testkit::openai::{self, CHAT_MODEL, IMAGE_MODEL, SONG, SONG_JSON};
use wiremock::{
    Mock, MockServer, Request,
    matchers::{header, method, path},
};

use super::up::{KEY, Up, chat_provider, curl, detail, grpcurl, ok, with};

const OPENAI_KEY: &str = "sk-e2e-do-not-log-4f2a9c";

/// A theme the stand-in provider refuses for lack of quota.
const BROKE: &str = "we broke the bank";

#[test]
#[ignore = "needs Envoy, grpcurl and release binaries: bin/test runs this"]
fn the_models_answer_through_envoy() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(MockServer::start());
    let png = openai::png(64, 64);
    let pieces = openai::pieces(SONG_JSON, 6);
    let bearer = format!("Bearer {OPENAI_KEY}");
    let mocks = [
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .and(|request: &Request| openai::body(request).to_string().contains(BROKE))
            .respond_with(openai::quota_exhausted())
            // Once over JSON, once over gRPC.
            .expect(2),
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .and(header("authorization", bearer.as_str()))
            .and(|request: &Request| openai::body(request)["stream"] == false)
            .respond_with(openai::chat_reply(SONG_JSON))
            .expect(1),
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .and(header("authorization", bearer.as_str()))
            .and(|request: &Request| openai::body(request)["stream"] == true)
            .respond_with(openai::chat_stream(&pieces))
            .expect(1),
        Mock::given(method("POST"))
            .and(path("/v1/images/generations"))
            .and(header("authorization", bearer.as_str()))
            .respond_with(openai::image_reply(&png, "neon, revised"))
            .expect(1),
    ];
    for mock in mocks {
        runtime.block_on(mock.mount(&server));
    }
    let data = tempfile::tempdir().unwrap();
    let base_url = format!("{}/v1", server.uri());
    let up = Up::start_with(
        data.path(),
        &[
            ("SUPERSTAR_PROVIDER", ""),
            ("OPENAI_API_KEY", OPENAI_KEY),
            ("OPENAI_BASE_URL", &base_url),
            ("OPENAI_CHAT_MODEL", CHAT_MODEL),
            ("OPENAI_IMAGE_MODEL", IMAGE_MODEL),
        ],
    );

    // An album, as JSON: lyrics from the chat model, the cover from the image model.
    let (album, status) = curl(&format!(
        r#"{KEY} https://localhost:8443/v1/albums -d '{{"genre": "synthwave", "theme": "neon nights", "songsCount": 1}}'"#
    ));
    assert_eq!(status, 200, "{album}");
    assert_eq!(album["title"], "Neon Nights");
    assert_eq!(album["songs"][0]["model"], CHAT_MODEL);
    assert_eq!(album["cover"]["model"], IMAGE_MODEL);
    assert_eq!(album["cover"]["width"], 64);
    let image = data.path().join("cover.png");
    ok(&format!(
        "curl -sS --cacert certs/ca.pem {KEY} -o {} https://localhost:8443/v1/covers/{}/image",
        image.display(),
        album["cover"]["id"].as_str().unwrap()
    ));
    assert_eq!(
        std::fs::read(&image).unwrap(),
        png,
        "the model's PNG, as stored"
    );

    // Jam over gRPC: the model's streamed text, delta by delta.
    let (success, jammed) = grpcurl(&format!(
        r#"{KEY} -d '{{"start": {{"genre": "synthwave", "theme": "neon nights"}}}}' localhost:8443 superstar.v1.SongProducer/Jam"#
    ));
    assert!(success, "{jammed}");
    let replies: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&jammed)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let text: String = replies
        .iter()
        .filter_map(|reply| reply["delta"].as_str())
        .collect();
    assert_eq!(text, SONG);
    assert_eq!(replies.last().unwrap()["song"]["model"], CHAT_MODEL);

    // The provider's quota, as a client sees it: 429 and RESOURCE_EXHAUSTED.
    let (body, status) = curl(&format!(
        r#"{KEY} https://localhost:8443/v1/albums -d '{{"genre": "synthwave", "theme": "{BROKE}"}}'"#
    ));
    assert_eq!((status, body["code"].as_i64()), (429, Some(8)), "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("quota"),
        "{body}"
    );
    assert_eq!(
        detail(&body, "google.rpc.RetryInfo")["retryDelay"],
        "60s",
        "{body}"
    );
    // The same error reads the same over gRPC, and so does the cover designer's own.
    let (success, said) = grpcurl(&format!(
        r#"{KEY} -d '{{"genre": "synthwave", "theme": "{BROKE}"}}' localhost:8443 superstar.v1.SongProducer/MakeMeSuperstar"#
    ));
    assert!(!success, "{said}");
    assert!(
        said.contains(&format!("Message: {}", body["message"].as_str().unwrap())),
        "{said}\n{body}"
    );
    let missing = "0b6c1d6e-3a6f-4c8e-9f41-2d3c6f0e8a11";
    let (body, status) = curl(&format!("{KEY} https://localhost:8443/v1/covers/{missing}"));
    assert_eq!(status, 404, "{body}");
    let (success, said) = grpcurl(&format!(
        r#"{KEY} -d '{{"id": "{missing}"}}' localhost:8443 superstar.v1.CoverDesigner/GetCover"#
    ));
    assert!(!success, "{said}");
    assert!(
        said.contains(&format!("Message: {}", body["message"].as_str().unwrap())),
        "{said}\n{body}"
    );

    let system = up.system.clone();
    up.stop();
    for service in ["envoy", "song-producer", "cover-designer"] {
        let log = system.log(service);
        assert!(
            !log.contains(OPENAI_KEY) && !log.contains(&OPENAI_KEY[..12]),
            "the OpenAI key reached the {service} log"
        );
    }
    // Each mock's expected call count is checked as the server drops.
    drop(server);
}

/// A JSON client sends no deadline, but Envoy tells the service how long its route
/// waits (`x-envoy-expected-rq-timeout-ms`): when the gateway gives up on an album, the
/// service stops the model call and lets go of the request id, so a retry with the same
/// id is made afresh instead of waiting for an attempt nobody waits for. The provider
/// here never answers in time (a minute; the services' own model timeout is 120 s).
#[test]
#[ignore = "needs Envoy, grpcurl and release binaries: bin/test runs this"]
fn when_the_gateway_gives_up_on_a_json_call_the_service_stops_too() {
    use std::time::{Duration, Instant};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (server, settings) = chat_provider(
        &runtime,
        openai::chat_reply(SONG_JSON).set_delay(Duration::from_secs(60)),
    );
    let data = tempfile::tempdir().unwrap();
    let _up = Up::start_with(
        data.path(),
        &with(&settings, &[("GATEWAY_MODEL_TIMEOUT_SECS", "3")]),
    );
    let album = format!(
        r#"{KEY} https://localhost:8443/v1/albums -d '{{"genre": "jazz", "theme": "late trains", "requestId": "{}"}}'"#,
        uuid::Uuid::new_v4()
    );
    let requests = || runtime.block_on(server.received_requests()).unwrap().len();
    let failures = || {
        let metrics = ok("curl -sS http://127.0.0.1:9101/metrics");
        metrics
            .lines()
            .filter(|line| {
                line.starts_with("superstar_model_failures_total{") && line.contains(CHAT_MODEL)
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
    };
    let (body, status) = curl(&album);
    assert_eq!(status, 504, "the gateway's route timeout: {body}");
    assert_eq!(requests(), 1);
    // The model call was given up (it counts as failed) long before the provider's
    // minute, and the request id was let go: the same request again asks the model again.
    let deadline = Instant::now() + Duration::from_secs(30);
    while failures() < 1.0 {
        assert!(
            Instant::now() < deadline,
            "the model call ran on after the gateway gave up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (body, status) = curl(&album);
    assert_eq!(status, 504, "{body}");
    assert_eq!(
        requests(),
        2,
        "the retry was made afresh, not held behind the first"
    );
}
