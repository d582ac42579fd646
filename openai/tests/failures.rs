//! Every way a provider's HTTP reply can fail, through the client the services use: the
//! kind of failure, the status a client sees, whether it is retried, and the wait the
//! reply asked for.

use std::time::Duration;

use async_openai::types::chat::CreateChatCompletionRequest;
use serde_json::json;
use superstar_openai::{OpenAiSettings, ProviderError};
use tonic::Code;
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};

/// The error the client's call meets when the provider answers with `reply`.
async fn failure(reply: ResponseTemplate) -> ProviderError {
    let server = MockServer::start().await;
    Mock::given(any()).respond_with(reply).mount(&server).await;
    let client = OpenAiSettings::new("sk-abcdef-123456-wxyz", &server.uri(), "m").client();
    let request = CreateChatCompletionRequest {
        model: "m".into(),
        ..Default::default()
    };
    ProviderError::from(
        client
            .chat()
            .create(request)
            .await
            .expect_err("an error reply"),
    )
}

/// An error reply as OpenAI sends it: `{"error": {message, type, code}}`.
fn error(status: u16, code: Option<&str>, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": {"message": message, "type": "invalid_request_error", "param": null, "code": code}
    }))
}

#[tokio::test]
async fn each_failure_gets_its_status() {
    let cases = [
        (
            error(429, Some("insufficient_quota"), "pay up"),
            Code::ResourceExhausted,
            false,
        ),
        (
            error(429, Some("rate_limit_exceeded"), "slow down"),
            Code::ResourceExhausted,
            true,
        ),
        (
            error(400, Some("content_policy_violation"), "no"),
            Code::InvalidArgument,
            false,
        ),
        (
            error(400, None, "rejected by our safety system"),
            Code::InvalidArgument,
            false,
        ),
        (
            error(404, Some("model_not_found"), "no such model"),
            Code::Unavailable,
            false,
        ),
        (
            error(400, Some("invalid_value"), "bad size"),
            Code::Unavailable,
            false,
        ),
        (error(500, None, "oops"), Code::Unavailable, true),
        (
            ResponseTemplate::new(503).set_body_string("overloaded"),
            Code::Unavailable,
            true,
        ),
    ];
    for (reply, code, retryable) in cases {
        let error = failure(reply).await;
        assert_eq!(error.to_status("theme").code(), code, "{error:?}");
        assert_eq!(error.is_retryable(), retryable, "{error:?}");
    }
}

#[tokio::test]
async fn a_rejected_prompt_names_the_field() {
    let error = failure(error(400, Some("content_policy_violation"), "no")).await;
    let status = error.to_status("description");
    assert!(
        status.message().starts_with("description: "),
        "{}",
        status.message()
    );
    assert!(status.message().contains("safety system"));
}

#[tokio::test]
async fn a_refused_key_keeps_no_part_of_the_providers_message() {
    let reply = error(
        401,
        Some("invalid_api_key"),
        "Incorrect API key provided: sk-ab***yz",
    );
    let error = failure(reply).await;
    assert_eq!(error.to_status("theme").code(), Code::Unavailable);
    assert!(!error.is_retryable());
    let shown = format!("{error} {error:?} {}", error.to_status("theme").message());
    assert!(!shown.contains("sk-ab"), "{shown}");
    assert!(shown.contains("invalid_api_key"));
}

#[tokio::test]
async fn a_rate_limit_carries_the_wait_it_asked_for_in_milliseconds_first_then_seconds() {
    let limited = |headers: &[(&str, &str)]| {
        headers.iter().fold(
            error(429, Some("rate_limit_exceeded"), ""),
            |reply, (name, value)| reply.insert_header(*name, *value),
        )
    };
    let cases: [(&[(&str, &str)], _); 6] = [
        (
            &[("retry-after-ms", "250"), ("retry-after", "3")],
            Some(Duration::from_millis(250)),
        ),
        (&[("retry-after", "2")], Some(Duration::from_secs(2))),
        (&[("retry-after", "0.5")], Some(Duration::from_millis(500))),
        (&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")], None),
        (&[("retry-after", "-1")], None),
        (&[], None),
    ];
    for (headers, wait) in cases {
        assert_eq!(
            failure(limited(headers)).await.retry_after(),
            wait,
            "{headers:?}"
        );
    }
    let outage = error(500, None, "oops").insert_header("retry-after", "2");
    assert_eq!(
        failure(outage).await.retry_after(),
        None,
        "only rate limits carry a wait"
    );
}

/// An error reply whose body never ends (a proxy's stream, a broken server): the call
/// fails with the reply's status after reading a bounded part of it, and the client
/// hangs up instead of reading on.
#[tokio::test]
async fn an_endless_error_body_is_read_only_in_part() {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// What the server offers: far more than any error deserves.
    const OFFERED: usize = 256 * 1024 * 1024;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let written = Arc::new(AtomicUsize::new(0));
    let server = {
        let written = written.clone();
        tokio::spawn(async move {
            let (mut connection, _) = listener.accept().await.unwrap();
            let mut request = [0; 4096];
            let _ = connection.read(&mut request).await;
            connection
                .write_all(
                    b"HTTP/1.1 500 Internal Server Error\r\ntransfer-encoding: chunked\r\n\r\n",
                )
                .await
                .unwrap();
            let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
            while written.load(Ordering::SeqCst) < OFFERED {
                if connection.write_all(chunk.as_bytes()).await.is_err() {
                    return; // the client hung up
                }
                written.fetch_add(64 * 1024, Ordering::SeqCst);
            }
            let _ = connection.write_all(b"0\r\n\r\n").await;
        })
    };
    let client =
        OpenAiSettings::new("sk-abcdef-123456-wxyz", &format!("http://{addr}"), "m").client();
    let request = CreateChatCompletionRequest {
        model: "m".into(),
        ..Default::default()
    };
    let error = ProviderError::from(client.chat().create(request).await.expect_err("a 500"));
    assert_eq!(
        error.to_status("theme").code(),
        Code::Unavailable,
        "{error:?}"
    );
    server.await.unwrap();
    let written = written.load(Ordering::SeqCst);
    assert!(
        written < OFFERED / 8,
        "the client read {} MiB of an error body",
        written / (1024 * 1024)
    );
}
