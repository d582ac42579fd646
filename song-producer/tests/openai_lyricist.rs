//! The OpenAI lyricist against a wiremock server speaking OpenAI's wire format: what
//! it sends, what it makes of each reply, and how it fails.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use song_producer::{
    domain::{Genre, SongBrief, Theme, WrittenSong},
    lyricist::{
        CapField, Lyricist, LyricsError, MAX_COMPLETION_TOKENS, MAX_TOKENS, OpenAiLyricist,
        Progress, SongRequest, TokenCap,
        contract::{self, Contract},
        write_song, write_with_progress,
    },
};
use superstar_openai::{OPENAI_API_BASE, OpenAiSettings, ProviderError};
use superstar_server::{serve::metrics::Metrics, serve::usage::Usage};
use superstar_testkit::{
    CapturedLogs,
    openai::{self, CHAT_MODEL, SONG, SONG_JSON},
};
use tokio::time::Instant;
use tonic::Code;
use wiremock::{
    Mock, MockServer, Request,
    matchers::{header, method, path},
};

const KEY: &str = "sk-test-0123456789abcdefSECRET";

/// A lyricist for `server` with the defaults for a server other than OpenAI's.
fn lyricist(server: &MockServer) -> OpenAiLyricist {
    let base_url = format!("{}/v1", server.uri());
    lyricist_asking(server, SongRequest::for_server(&base_url))
}

fn lyricist_asking(server: &MockServer, song: SongRequest) -> OpenAiLyricist {
    let base_url = format!("{}/v1", server.uri());
    OpenAiLyricist::new(openai::settings(&base_url, KEY, CHAT_MODEL, 3), song)
}

fn brief() -> SongBrief {
    SongBrief::new(
        Genre::parse("synthwave").unwrap(),
        Theme::parse("neon nights").unwrap(),
    )
}

fn soon(millis: u64) -> Option<Instant> {
    Some(Instant::now() + Duration::from_millis(millis))
}

/// Any call to the chat completions endpoint.
fn chat() -> wiremock::MockBuilder {
    Mock::given(method("POST")).and(path("/v1/chat/completions"))
}

/// A whole take of [`brief`], as an album writes it.
async fn whole(lyricist: &OpenAiLyricist) -> Result<WrittenSong, LyricsError> {
    write_song(lyricist, &brief(), soon(5_000), &Usage::unwatched()).await
}

/// A streamed take of [`brief`], delta by delta.
async fn deltas(lyricist: &OpenAiLyricist) -> Result<Vec<String>, LyricsError> {
    lyricist
        .write(&brief(), soon(5_000), &Usage::unwatched())
        .try_collect()
        .await
}

#[tokio::test]
async fn a_streamed_reply_arrives_as_deltas_in_order() {
    let server = MockServer::start().await;
    let pieces = openai::pieces(SONG_JSON, 7);
    chat()
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(openai::asks_for_a_song)
        .and(|request: &Request| {
            let body = openai::body(request);
            body["model"] == CHAT_MODEL
                && body["stream"] == true
                && body["messages"][0]["role"] == "system"
                && body["messages"][1]
                    == json!({"role": "user", "content": "Write a synthwave song about: neon nights"})
        })
        .respond_with(openai::chat_stream(&pieces))
        .expect(1)
        .mount(&server)
        .await;

    let deltas = deltas(&lyricist(&server)).await.unwrap();

    // The JSON becomes the song's text, released line by line as each one is whole.
    assert_eq!(deltas.concat(), SONG);
    assert_eq!(deltas[0], "Title: Neon Nights\n");
    assert!(deltas.len() >= 5, "{deltas:?}");
    assert!(
        deltas.iter().all(|delta| delta.ends_with('\n')),
        "{deltas:?}"
    );
}

#[tokio::test]
async fn a_whole_take_comes_from_one_non_streamed_reply() {
    let server = MockServer::start().await;
    chat()
        .and(|request: &Request| {
            let body = openai::body(request);
            body["model"] == CHAT_MODEL && body["stream"] == false
        })
        .respond_with(openai::chat_reply(SONG_JSON))
        .expect(1)
        .mount(&server)
        .await;

    let song = whole(&lyricist(&server)).await.unwrap();

    assert_eq!(song, WrittenSong::parse(SONG).unwrap());
    assert_eq!(song.title, "Neon Nights");
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_as_asked_then_retried_once() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai::rate_limited(1))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    chat()
        .respond_with(openai::chat_reply(SONG_JSON))
        .expect(1)
        .mount(&server)
        .await;

    let started = Instant::now();
    let song = write_song(
        &lyricist(&server),
        &brief(),
        soon(10_000),
        &Usage::unwatched(),
    )
    .await
    .unwrap();

    assert_eq!(song.title, "Neon Nights");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was not honoured"
    );
}

#[tokio::test]
async fn a_rate_limit_that_outlasts_the_deadline_fails_at_once() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai::rate_limited(30))
        .expect(1)
        .mount(&server)
        .await;

    let error = write_song(
        &lyricist(&server),
        &brief(),
        soon(2_000),
        &Usage::unwatched(),
    )
    .await
    .unwrap_err();

    // The provider's own answer, not the deadline's: had the lyricist begun the 30 s
    // wait, the deadline would have cut it (DeadlineExceeded), and had it retried, the
    // stand-in would have seen a second call (`expect(1)`). No clock is read.
    assert!(
        matches!(error, ProviderError::RateLimited { .. }),
        "{error:?}"
    );
    assert_eq!(error.to_status("theme").code(), Code::ResourceExhausted);
}

#[tokio::test]
async fn an_exhausted_quota_is_not_retried() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai::quota_exhausted())
        .expect(1)
        .mount(&server)
        .await;

    let error = deltas(&lyricist(&server)).await.unwrap_err();

    assert!(matches!(error, ProviderError::QuotaExhausted), "{error:?}");
    assert_eq!(error.to_status("theme").code(), Code::ResourceExhausted);
}

#[tokio::test]
async fn a_persistent_server_error_is_retried_then_unavailable() {
    let server = MockServer::start().await;
    chat()
        .respond_with(wiremock::ResponseTemplate::new(500).set_body_string("upstream exploded"))
        .expect(3)
        .mount(&server)
        .await;

    let error = deltas(&lyricist(&server)).await.unwrap_err();

    assert!(matches!(error, ProviderError::Unavailable(_)), "{error:?}");
    assert_eq!(error.to_status("theme").code(), Code::Unavailable);
}

#[tokio::test]
async fn a_reply_slower_than_the_deadline_fails_promptly() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai::chat_reply(SONG_JSON).set_delay(Duration::from_secs(30)))
        .expect(1)
        .mount(&server)
        .await;

    let started = Instant::now();
    let error = write_song(&lyricist(&server), &brief(), soon(300), &Usage::unwatched())
        .await
        .unwrap_err();

    assert!(
        matches!(error, ProviderError::DeadlineExceeded),
        "{error:?}"
    );
    assert_eq!(error.to_status("theme").code(), Code::DeadlineExceeded);
    // The deadline, not an earlier give-up; the reply (after 30 s) would have been a
    // song, so the error itself says the deadline cut the call.
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
}

#[tokio::test]
async fn a_prompt_the_safety_system_rejects_is_the_clients_to_change() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai::content_policy())
        .expect(1)
        .mount(&server)
        .await;

    let error = deltas(&lyricist(&server)).await.unwrap_err();

    let status = error.to_status("theme");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().starts_with("theme: "),
        "{}",
        status.message()
    );
    assert!(status.message().contains("safety system"));
}

#[tokio::test]
async fn a_malformed_body_is_unusable() {
    let server = MockServer::start().await;
    chat()
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .insert_header("content-type", "application/json")
                .set_body_string("{\"id\": \"chatcmpl-1\", \"choices\": [tru"),
        )
        .expect(1)
        .mount(&server)
        .await;

    let error = whole(&lyricist(&server)).await.unwrap_err();

    assert!(matches!(error, ProviderError::Malformed(_)), "{error:?}");
    assert_eq!(error.to_status("theme").code(), Code::Unavailable);
}

#[tokio::test]
async fn a_reply_in_the_wrong_format_is_asked_for_once_more() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai::chat_stream(&[
            "Sure! Here is ",
            "your song:\n",
            "la la la",
        ]))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    chat()
        .respond_with(openai::chat_stream(&[SONG_JSON]))
        .expect(1)
        .mount(&server)
        .await;

    // Nothing of the first reply reached the client.
    the_take_is_the_second_reply(&server).await;
}

/// Writes a take against `server`, whose second reply is [`SONG`]: the client sees that
/// reply's text, and nothing of the first, then the song.
async fn the_take_is_the_second_reply(server: &MockServer) {
    let steps: Vec<Progress> = write_with_progress(
        &lyricist(server),
        &brief(),
        soon(5_000),
        &Usage::unwatched(),
    )
    .try_collect()
    .await
    .unwrap();
    let text: String = steps
        .iter()
        .filter_map(|step| match step {
            Progress::Delta(delta) => Some(delta.as_str()),
            Progress::Done(_) => None,
        })
        .collect();
    assert_eq!(text, SONG, "nothing of the first reply went out");
    assert_eq!(
        steps.last(),
        Some(&Progress::Done(WrittenSong::parse(SONG).unwrap()))
    );
}

#[tokio::test]
async fn a_reply_in_the_wrong_format_twice_is_unusable() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai::chat_reply(
            "I'd love to write that song! Here it goes…",
        ))
        .expect(2)
        .mount(&server)
        .await;

    let error = whole(&lyricist(&server)).await.unwrap_err();

    assert!(matches!(error, ProviderError::Malformed(_)), "{error:?}");
}

#[tokio::test]
async fn a_rejected_key_is_logged_for_the_operator_and_never_shown() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai::bad_key(KEY))
        .expect(1)
        .mount(&server)
        .await;
    let (logs, _guard) = CapturedLogs::start();

    let error = deltas(&lyricist(&server)).await.unwrap_err();
    let status = error.to_status("theme");

    assert_eq!(status.code(), Code::Unavailable);
    let logs = logs.text();
    assert!(logs.contains("\"level\":\"ERROR\""), "{logs}");
    assert!(logs.contains("check OPENAI_API_KEY"), "{logs}");
    assert!(logs.contains("invalid_api_key"), "{logs}");
    // Neither the key nor the provider's quote of it, anywhere.
    let seen = format!("{logs} {error} {error:?} {}", status.message());
    for fragment in [KEY, &KEY[..6], &KEY[KEY.len() - 4..]] {
        assert!(!seen.contains(fragment), "{fragment:?} leaked: {seen}");
    }
}

#[tokio::test]
async fn when_the_client_goes_away_the_provider_stream_is_dropped() {
    // A provider that streams forever, and says when its reader hung up.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
    let (hung_up, hang_up_seen) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 8192];
        let _ = socket.read(&mut request).await.unwrap();
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
        socket.write_all(head.as_bytes()).await.unwrap();
        let event = |text: &str| {
            let chunk = json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": CHAT_MODEL,
                "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]});
            format!("data: {chunk}\n\n")
        };
        let opening = r#"{"title": "Forever", "sections": [{"heading": "Verse 1", "lines": ["#;
        socket.write_all(event(opening).as_bytes()).await.unwrap();
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if socket
                .write_all(event(r#""and on", "#).as_bytes())
                .await
                .is_err()
            {
                let _ = hung_up.send(());
                return;
            }
        }
    });
    let lyricist = OpenAiLyricist::new(
        OpenAiSettings::new(KEY, &base_url, CHAT_MODEL),
        SongRequest::for_server(&base_url),
    );
    let mut stream = lyricist.write(&brief(), soon(60_000), &Usage::unwatched());
    assert_eq!(
        stream.try_next().await.unwrap().unwrap(),
        "Title: Forever\n\n[Verse 1]\n"
    );
    assert_eq!(stream.try_next().await.unwrap().unwrap(), "and on\n");

    drop(stream);

    tokio::time::timeout(Duration::from_secs(10), hang_up_seen)
        .await
        .expect("the provider connection was closed")
        .unwrap();
}

/// The first half of [`SONG_JSON`]: its title and first lines read as a song's, so the
/// text goes out before the cut is seen.
fn cut_song() -> &'static str {
    let cut = &SONG_JSON[..SONG_JSON.len() / 2];
    assert!(cut.contains("City lights"), "{cut}");
    cut
}

#[tokio::test]
async fn openais_own_api_gets_a_token_allowance_that_leaves_a_reasoning_model_room() {
    let server = MockServer::start().await;
    // gpt-5-mini's hidden reasoning counts against the same allowance: at 2,000 some
    // songs were cut before they were finished. OpenAI's reasoning models refuse
    // `max_tokens`, and its strict mode is sent no string lengths.
    chat()
        .and(openai::asks_for_a_song)
        .and(|request: &Request| {
            let body = openai::body(request);
            let asked = body["max_completion_tokens"].as_u64();
            asked == Some(u64::from(MAX_COMPLETION_TOKENS))
                && asked >= Some(16_000)
                && body.get("max_tokens").is_none()
                && body["response_format"]["json_schema"]["schema"] == contract::schema(false)
        })
        .respond_with(openai::chat_reply(SONG_JSON))
        .expect(1)
        .mount(&server)
        .await;

    let openai = SongRequest::for_server(OPENAI_API_BASE);
    assert_eq!(
        openai.cap,
        TokenCap {
            field: CapField::MaxCompletionTokens,
            tokens: MAX_COMPLETION_TOKENS
        }
    );
    let song = whole(&lyricist_asking(&server, openai)).await.unwrap();
    assert_eq!(song, WrittenSong::parse(SONG).unwrap());
}

#[tokio::test]
async fn other_servers_get_max_tokens_which_they_honour_and_bounded_lines() {
    let server = MockServer::start().await;
    // llama.cpp's server, Ollama and some vLLM versions ignore `max_completion_tokens`:
    // a reply capped only by it ran to the context's end.
    chat()
        .and(openai::asks_for_a_song)
        .and(|request: &Request| {
            let body = openai::body(request);
            body["max_tokens"].as_u64() == Some(u64::from(MAX_TOKENS))
                && body.get("max_completion_tokens").is_none()
                && body["response_format"]["json_schema"]["schema"] == contract::schema(true)
        })
        .respond_with(openai::chat_reply(SONG_JSON))
        .expect(1)
        .mount(&server)
        .await;

    whole(&lyricist(&server)).await.unwrap();
}

#[test]
fn the_song_request_is_read_from_its_settings() {
    let lookup = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    };
    let local = "http://127.0.0.1:11434/v1";
    let read = |pairs| SongRequest::from_lookup(lookup(pairs), local);
    assert_eq!(read(&[]).unwrap(), SongRequest::for_server(local));
    assert_eq!(read(&[]).unwrap().cap, CapField::MaxTokens.with_default());
    assert_eq!(MAX_TOKENS, 1_024);
    assert_eq!(
        read(&[("OPENAI_TOKEN_CAP_FIELD", "max_completion_tokens")])
            .unwrap()
            .cap,
        TokenCap {
            field: CapField::MaxCompletionTokens,
            tokens: MAX_COMPLETION_TOKENS
        }
    );
    assert_eq!(
        read(&[("OPENAI_MAX_TOKENS", "700")]).unwrap().cap,
        TokenCap {
            field: CapField::MaxTokens,
            tokens: 700
        }
    );
    assert_eq!(
        read(&[("OPENAI_SONG_FORMAT", "text")]).unwrap().contract,
        Contract::Text
    );
    for (pairs, variable) in [
        (&[("OPENAI_SONG_FORMAT", "yaml")][..], "OPENAI_SONG_FORMAT"),
        (
            &[("OPENAI_TOKEN_CAP_FIELD", "tokens")][..],
            "OPENAI_TOKEN_CAP_FIELD",
        ),
        (&[("OPENAI_MAX_TOKENS", "0")][..], "OPENAI_MAX_TOKENS"),
        (&[("OPENAI_MAX_TOKENS", "many")][..], "OPENAI_MAX_TOKENS"),
    ] {
        let error = SongRequest::from_lookup(lookup(pairs), local).unwrap_err();
        assert!(error.to_string().contains(variable), "{error}");
    }
}

/// Whether `request` asks for a song as `{"type": "json_object", "schema": …}`.
fn asks_as_json_object(request: &Request) -> bool {
    let format = &openai::body(request)["response_format"];
    format["type"] == "json_object" && format["schema"]["required"] == json!(["title", "sections"])
}

/// Whether `request` asks for a song in the text format, `stream`ed or not.
fn asks_as_text(stream: bool) -> impl Fn(&Request) -> bool {
    move |request: &Request| {
        let body = openai::body(request);
        body.get("response_format").is_none() && body["stream"] == stream
    }
}

#[tokio::test]
async fn a_server_that_refuses_response_format_is_asked_in_the_next_form_from_then_on() {
    let server = MockServer::start().await;
    let refusal = || {
        openai::error(
            400,
            "invalid_request_error",
            "unsupported_parameter",
            "response_format is not supported by this server",
        )
    };
    chat()
        .and(openai::asks_for_a_song)
        .respond_with(refusal())
        .expect(1)
        .mount(&server)
        .await;
    chat()
        .and(asks_as_json_object)
        .respond_with(refusal())
        .expect(1)
        .mount(&server)
        .await;
    // In the text format, what a small model writes around a song is forgiven.
    let untidy = format!(
        "Here is your song:\n```\n**{}```\n",
        SONG.replace("[Chorus]", "**[Chorus]**")
    );
    chat()
        .and(asks_as_text(false))
        .respond_with(openai::chat_reply(&untidy))
        .expect(1)
        .mount(&server)
        .await;
    chat()
        .and(asks_as_text(true))
        .respond_with(openai::chat_stream(&openai::pieces(&untidy, 5)))
        .expect(1)
        .mount(&server)
        .await;
    let (logs, _guard) = CapturedLogs::start();
    let lyricist = lyricist(&server);

    let song = whole(&lyricist).await.unwrap();
    assert_eq!(song, WrittenSong::parse(SONG).unwrap());
    // The next take goes straight to the text format: one refusal of each form in all.
    let streamed: String = deltas(&lyricist).await.unwrap().concat();
    assert_eq!(streamed, SONG);

    let logs = logs.text();
    assert_eq!(
        logs.matches("refused the song's response_format").count(),
        2,
        "{logs}"
    );
    assert!(logs.contains("json_object with a schema"), "{logs}");
    assert!(logs.contains("the text format"), "{logs}");
}

/// A server that answers the standard form with a 500 naming `response_format`, and
/// constrains output only with `json_object` and a schema (a small model there writes
/// prose when asked for text): every take is a song, and the standard form is refused
/// once in all.
#[tokio::test]
async fn a_server_that_keeps_only_json_object_with_a_schema_writes_every_song() {
    let server = MockServer::start().await;
    chat()
        .and(openai::asks_for_a_song)
        .respond_with(openai::error(
            500,
            "server_error",
            "",
            "Unsupported response_format type: json_schema",
        ))
        .expect(1)
        .mount(&server)
        .await;
    chat()
        .and(asks_as_json_object)
        .respond_with(openai::chat_reply(SONG_JSON))
        .expect(10)
        .mount(&server)
        .await;
    chat()
        .and(asks_as_text(false))
        .respond_with(openai::chat_reply("Sure! Here is a song about neon."))
        .expect(0)
        .mount(&server)
        .await;
    let lyricist = lyricist(&server);
    for _ in 0..10 {
        assert_eq!(
            whole(&lyricist).await.unwrap(),
            WrittenSong::parse(SONG).unwrap()
        );
    }
}

/// An error that does not name `response_format` (a prompt too long, a proxy's
/// validation) is the take's error: no other form is tried, and the next take asks in
/// the standard form again.
#[tokio::test]
async fn an_error_about_something_else_changes_no_form() {
    let server = MockServer::start().await;
    chat()
        .and(openai::asks_for_a_song)
        .respond_with(openai::error(
            400,
            "invalid_request_error",
            "context_length_exceeded",
            "This model's maximum context length is 8192 tokens.",
        ))
        .expect(2)
        .mount(&server)
        .await;
    chat()
        .and(|request: &Request| !openai::asks_for_a_song(request))
        .respond_with(openai::chat_reply(SONG))
        .expect(0)
        .mount(&server)
        .await;
    let lyricist = lyricist(&server);
    for _ in 0..2 {
        let error = whole(&lyricist).await.unwrap_err();
        assert!(
            matches!(&error, ProviderError::Refused { status: 400, .. }),
            "{error:?}"
        );
    }
}

/// A 200 whose reply is not JSON, though JSON was asked for, is read as text: that
/// reply only; the next take asks for JSON again.
#[tokio::test]
async fn a_reply_that_is_not_json_is_read_as_text_that_once() {
    let server = MockServer::start().await;
    chat()
        .and(openai::asks_for_a_song)
        .respond_with(openai::chat_reply(SONG))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    chat()
        .and(openai::asks_for_a_song)
        .respond_with(openai::chat_reply(SONG_JSON))
        .expect(1)
        .mount(&server)
        .await;
    let lyricist = lyricist(&server);
    assert_eq!(
        whole(&lyricist).await.unwrap(),
        WrittenSong::parse(SONG).unwrap()
    );
    assert_eq!(
        whole(&lyricist).await.unwrap(),
        WrittenSong::parse(SONG).unwrap()
    );
}

#[tokio::test]
async fn a_reply_holding_the_formats_placeholders_is_never_a_song() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai::chat_reply(
            "Title: Neon Nights\n\n[Verse 1]\n<lines>\n\n[Chorus]\n<lines>\n",
        ))
        .expect(2)
        .mount(&server)
        .await;

    let text = SongRequest {
        contract: Contract::Text,
        ..SongRequest::for_server(&server.uri())
    };
    let error = whole(&lyricist_asking(&server, text)).await.unwrap_err();
    assert!(
        matches!(&error, ProviderError::Malformed(why) if why.contains("<lines>")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_whole_reply_cut_at_the_token_limit_is_asked_for_once_more() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai::chat_reply_cut(cut_song()))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    chat()
        .respond_with(openai::chat_reply(SONG_JSON))
        .expect(1)
        .mount(&server)
        .await;

    let song = whole(&lyricist(&server)).await.unwrap();

    assert_eq!(song, WrittenSong::parse(SONG).unwrap());
}

#[tokio::test]
async fn a_whole_reply_cut_twice_is_unavailable() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai::chat_reply_cut(cut_song()))
        .expect(2)
        .mount(&server)
        .await;

    let error = whole(&lyricist(&server)).await.unwrap_err();

    assert!(matches!(error, ProviderError::Truncated), "{error:?}");
    let status = error.to_status("theme");
    assert_eq!(status.code(), Code::Unavailable);
    assert!(status.message().contains("cut off"), "{}", status.message());
}

#[tokio::test]
async fn a_streamed_take_cut_after_its_text_went_out_fails_and_is_never_a_song() {
    let server = MockServer::start().await;
    let pieces = openai::pieces(cut_song(), 9);
    chat()
        .respond_with(openai::chat_stream_cut(&pieces))
        .expect(1)
        .mount(&server)
        .await;

    let steps: Vec<Result<Progress, LyricsError>> = write_with_progress(
        &lyricist(&server),
        &brief(),
        soon(5_000),
        &Usage::unwatched(),
    )
    .collect()
    .await;

    // The client saw the text as it came; the take then failed, with no song.
    assert!(
        steps
            .iter()
            .any(|step| matches!(step, Ok(Progress::Delta(_))))
    );
    assert!(
        !steps
            .iter()
            .any(|step| matches!(step, Ok(Progress::Done(_))))
    );
    assert!(
        matches!(steps.last(), Some(Err(ProviderError::Truncated))),
        "{:?}",
        steps.last()
    );
}

#[tokio::test]
async fn a_streamed_take_cut_before_any_text_went_out_is_asked_for_once_more() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai::chat_stream_cut(&[&SONG_JSON[..16]]))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    chat()
        .respond_with(openai::chat_stream(&[SONG_JSON]))
        .expect(1)
        .mount(&server)
        .await;

    the_take_is_the_second_reply(&server).await;
}

/// Each request sent is a call; the tokens come from the provider's `usage`, which a
/// streamed reply carries in a last chunk when asked (`stream_options.include_usage`).
#[tokio::test]
async fn calls_and_tokens_are_counted_per_client_whole_and_streamed() {
    let server = MockServer::start().await;
    chat()
        .and(|request: &Request| openai::body(request)["stream"] == false)
        .respond_with(openai::chat_reply(SONG_JSON))
        .expect(1)
        .mount(&server)
        .await;
    chat()
        .and(|request: &Request| {
            let body = openai::body(request);
            body["stream"] == true && body["stream_options"]["include_usage"] == true
        })
        .respond_with(openai::chat_stream(&[SONG_JSON]))
        .expect(1)
        .mount(&server)
        .await;
    let metrics = Metrics::new();
    let alice = metrics.usage().meter("alice", CHAT_MODEL);
    write_song(&lyricist(&server), &brief(), soon(5_000), &alice)
        .await
        .unwrap();
    let streamed: Vec<Progress> =
        write_with_progress(&lyricist(&server), &brief(), soon(5_000), &alice)
            .try_collect()
            .await
            .unwrap();
    assert!(matches!(streamed.last(), Some(Progress::Done(_))));

    let text = metrics.render();
    let labels = format!(r#"{{client="alice",model="{CHAT_MODEL}"}}"#);
    let (prompt, completion) = openai::STREAM_USAGE;
    for (metric, value) in [
        ("superstar_model_calls_total", 2),
        ("superstar_model_prompt_tokens_total", 50 + prompt),
        ("superstar_model_completion_tokens_total", 60 + completion),
    ] {
        assert!(
            text.contains(&format!("{metric}{labels} {value}\n")),
            "{metric} {value} in {text}"
        );
    }
}
