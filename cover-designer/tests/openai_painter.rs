//! The OpenAI painter against a wiremock server speaking OpenAI's wire format.

use std::time::Duration;
use superstar_server::serve::usage::Usage;

use cover_designer::{
    domain::CoverBrief,
    painter::{OpenAiPainter, PaintError, Painter, Painting},
};
use superstar_openai::ProviderError;
use superstar_proto::v1::DesignCoverRequest;
use superstar_testkit::openai::{self, IMAGE_MODEL};
use tokio::time::Instant;
use tonic::Code;
use wiremock::{
    Mock, MockServer, Request, ResponseTemplate,
    matchers::{header, method, path},
};

const KEY: &str = "sk-test-painter-SECRET";

fn painter(server: &MockServer) -> OpenAiPainter {
    let base_url = format!("{}/v1", server.uri());
    OpenAiPainter::new(openai::settings(&base_url, KEY, IMAGE_MODEL, 2))
}

fn brief() -> CoverBrief {
    CoverBrief::parse(DesignCoverRequest {
        description: "a neon dragon over Warsaw".into(),
        title: "Smok".into(),
        genre: "disco polo".into(),
        ..Default::default()
    })
    .unwrap()
}

fn images() -> wiremock::MockBuilder {
    Mock::given(method("POST")).and(path("/v1/images/generations"))
}

async fn paint(painter: &OpenAiPainter) -> Result<Painting, PaintError> {
    painter
        .paint(
            &brief(),
            Some(Instant::now() + Duration::from_secs(5)),
            &Usage::unwatched(),
        )
        .await
}

fn provider_error(error: PaintError) -> ProviderError {
    match error {
        PaintError::Provider(error) => error,
        other => panic!("expected a provider error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_base64_png_becomes_the_painting_with_its_size_and_revised_prompt() {
    let server = MockServer::start().await;
    let png = openai::png(64, 48);
    images()
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(|request: &Request| {
            let body = openai::body(request);
            body["model"] == IMAGE_MODEL
                && body["n"] == 1
                && body["prompt"] == cover_designer::painter::prompt(&brief())
        })
        .respond_with(openai::image_reply(&png, "a dragon, neon, over a city"))
        .expect(1)
        .mount(&server)
        .await;

    let painting = paint(&painter(&server)).await.unwrap();

    assert_eq!(painting.png, png);
    assert_eq!((painting.width, painting.height), (64, 48));
    assert_eq!(
        painting.revised_prompt.as_deref(),
        Some("a dragon, neon, over a city")
    );
}

#[tokio::test]
async fn a_server_error_is_retried_then_unavailable() {
    let server = MockServer::start().await;
    images()
        .respond_with(ResponseTemplate::new(503).set_body_string("overloaded"))
        .expect(2)
        .mount(&server)
        .await;

    let error = provider_error(paint(&painter(&server)).await.unwrap_err());

    assert_eq!(error.to_status("description").code(), Code::Unavailable);
}

#[tokio::test]
async fn a_rejected_prompt_names_the_description() {
    let server = MockServer::start().await;
    images()
        .respond_with(openai::content_policy())
        .expect(1)
        .mount(&server)
        .await;

    let error = provider_error(paint(&painter(&server)).await.unwrap_err());

    let status = error.to_status("description");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().starts_with("description: "),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn anything_but_a_base64_png_is_unusable() {
    let json = |body: serde_json::Value| ResponseTemplate::new(200).set_body_json(body);
    let replies = [
        openai::image_reply(b"GIF89a not a png at all", "x"),
        json(serde_json::json!({"created": 1, "data": [{"b64_json": "!!! not base64 !!!"}]})),
        json(serde_json::json!({"created": 1, "data": [{"url": "https://images.example/1.png"}]})),
        json(serde_json::json!({"created": 1, "data": []})),
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/json")
            .set_body_string("<html>gateway</html>"),
    ];
    for reply in replies {
        let server = MockServer::start().await;
        images().respond_with(reply).expect(1).mount(&server).await;

        let error = provider_error(paint(&painter(&server)).await.unwrap_err());

        assert!(matches!(error, ProviderError::Malformed(_)), "{error:?}");
        assert_eq!(error.to_status("description").code(), Code::Unavailable);
    }
}

#[tokio::test]
async fn a_slow_painter_ends_at_the_deadline() {
    let server = MockServer::start().await;
    images()
        .respond_with(
            openai::image_reply(&openai::png(8, 8), "x").set_delay(Duration::from_secs(30)),
        )
        .expect(1)
        .mount(&server)
        .await;

    let error = painter(&server)
        .paint(
            &brief(),
            Some(Instant::now() + Duration::from_millis(300)),
            &Usage::unwatched(),
        )
        .await
        .unwrap_err();

    // The reply would have come (after 30 s) and been a cover: an error at all, and this
    // one, says the deadline cut the call. No clock is read.
    let status = provider_error(error).to_status("description");
    assert_eq!(status.code(), Code::DeadlineExceeded);
}
