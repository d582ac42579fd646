//! OpenAI's wire format, for wiremock servers that stand in for the provider.
//!
//! Replies are built as OpenAI sends them (chat completions, streamed as server-sent
//! events ending in `[DONE]`, images as base64, errors as `{"error": {…}}`), so the
//! providers are tested against the shapes they will meet, through async-openai's own
//! parsing.

use std::{io::Cursor, time::Duration};

use base64::Engine;
use serde_json::{Value, json};
use superstar_openai::{OpenAiSettings, RetryPolicy};
use wiremock::{Request, ResponseTemplate};

/// The model name the test servers answer as.
pub const CHAT_MODEL: &str = "test-chat-model";

/// The image model name the tests configure.
pub const IMAGE_MODEL: &str = "test-image-model";

/// Settings for a provider at `base_url` (a test server's `/v1`) with `api_key` and
/// `model`, retrying quickly: `attempts` in all, 10 ms apart at first.
pub fn settings(base_url: &str, api_key: &str, model: &str, attempts: u32) -> OpenAiSettings {
    let mut settings = OpenAiSettings::new(api_key, base_url, model);
    settings.retry = RetryPolicy {
        attempts,
        first_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
    };
    settings
}

/// A song in the format the lyricists are asked for.
pub const SONG: &str = "Title: Neon Nights\n\n[Verse 1]\nCity lights are burning bright\nWe ride the neon through the night\n\n[Chorus]\nNeon nights, neon nights\nHold me close in neon lights\n";

/// [`SONG`] as a model writes it under the song contract's JSON schema (structured
/// output): what the stand-ins answer a request that asks for it.
pub const SONG_JSON: &str = r#"{"title": "Neon Nights", "sections": [{"heading": "Verse 1", "lines": ["City lights are burning bright", "We ride the neon through the night"]}, {"heading": "Chorus", "lines": ["Neon nights, neon nights", "Hold me close in neon lights"]}]}"#;

/// Whether `request` asks for a song as strict structured output: `response_format`
/// of type `json_schema`, strict, with a schema whose object requires a title and
/// sections.
pub fn asks_for_a_song(request: &Request) -> bool {
    let format = &body(request)["response_format"];
    format["type"] == "json_schema"
        && format["json_schema"]["strict"] == true
        && format["json_schema"]["schema"]["required"] == json!(["title", "sections"])
        && format["json_schema"]["schema"]["additionalProperties"] == false
}

/// A whole (non-streamed) chat completion whose message is `text`.
pub fn chat_reply(text: &str) -> ResponseTemplate {
    chat_reply_ending(text, "stop")
}

/// A whole chat completion that stopped at the token limit (`finish_reason:
/// "length"`) after `text`.
pub fn chat_reply_cut(text: &str) -> ResponseTemplate {
    chat_reply_ending(text, "length")
}

fn chat_reply_ending(text: &str, finish_reason: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": CHAT_MODEL,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text, "refusal": null},
            "finish_reason": finish_reason,
            "logprobs": null
        }],
        "usage": {"prompt_tokens": 50, "completion_tokens": 60, "total_tokens": 110}
    }))
}

/// The prompt and completion tokens every streamed reply reports in its usage chunk
/// (whole replies report 50 and 60).
pub const STREAM_USAGE: (u32, u32) = (40, 70);

/// A streamed chat completion: one SSE chunk per piece, in order, the usage chunk, then
/// `[DONE]`.
pub fn chat_stream(pieces: &[impl AsRef<str>]) -> ResponseTemplate {
    chat_stream_ending(pieces, "stop")
}

/// A streamed chat completion that stops at the token limit after `pieces`.
pub fn chat_stream_cut(pieces: &[impl AsRef<str>]) -> ResponseTemplate {
    chat_stream_ending(pieces, "length")
}

fn chat_stream_ending(pieces: &[impl AsRef<str>], finish_reason: &str) -> ResponseTemplate {
    let mut body = sse_event(&chunk(json!({"role": "assistant", "content": ""}), None));
    for piece in pieces {
        body.push_str(&sse_event(&chunk(json!({"content": piece.as_ref()}), None)));
    }
    body.push_str(&sse_event(&chunk(json!({}), Some(finish_reason))));
    // The usage chunk OpenAI sends last when asked (`stream_options.include_usage`).
    let (prompt, completion) = STREAM_USAGE;
    body.push_str(&sse_event(&json!({
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": CHAT_MODEL,
        "choices": [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    })));
    body.push_str("data: [DONE]\n\n");
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/event-stream")
        .set_body_string(body)
}

/// `text` cut into pieces of about `size` characters, as a model streams it.
pub fn pieces(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(size)
        .map(|piece| piece.iter().collect())
        .collect()
}

/// One streamed chunk (`chat.completion.chunk`).
fn chunk(delta: Value, finish_reason: Option<&str>) -> Value {
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": CHAT_MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": null}]
    })
}

fn sse_event(data: &Value) -> String {
    format!("data: {data}\n\n")
}

/// An images reply holding `png` as base64, with the prompt the provider used.
pub fn image_reply(png: &[u8], revised_prompt: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(image_reply_body(png, revised_prompt))
}

/// The body of [`image_reply`].
pub fn image_reply_body(png: &[u8], revised_prompt: &str) -> Value {
    json!({
        "created": 1_700_000_000,
        "data": [{
            "b64_json": base64::engine::general_purpose::STANDARD.encode(png),
            "revised_prompt": revised_prompt
        }],
        "output_format": "png",
        "size": "1024x1024"
    })
}

/// A PNG of `width`×`height` in one colour.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(width, height, image::Rgb([200, 40, 120]));
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .expect("a PNG");
    bytes
}

/// An error reply as OpenAI sends it.
pub fn error(status: u16, kind: &str, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": {"message": message, "type": kind, "param": null, "code": code}
    }))
}

/// 429, rate limited, asking to wait `retry_after_secs` seconds.
pub fn rate_limited(retry_after_secs: u32) -> ResponseTemplate {
    error(
        429,
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for requests",
    )
    .insert_header("retry-after", retry_after_secs.to_string().as_str())
}

/// 429, the account is out of credit.
pub fn quota_exhausted() -> ResponseTemplate {
    error(
        429,
        "insufficient_quota",
        "insufficient_quota",
        "You exceeded your current quota, please check your plan and billing details.",
    )
}

/// 400, the safety system refused the prompt.
pub fn content_policy() -> ResponseTemplate {
    error(
        400,
        "invalid_request_error",
        "content_policy_violation",
        "Your request was rejected as a result of our safety system.",
    )
}

/// 401, as OpenAI words it: the message quotes the ends of the key it was sent.
pub fn bad_key(key: &str) -> ResponseTemplate {
    let shown = format!(
        "{}***{}",
        &key[..key.len().min(6)],
        &key[key.len().saturating_sub(4)..]
    );
    error(
        401,
        "invalid_request_error",
        "invalid_api_key",
        &format!(
            "Incorrect API key provided: {shown}. You can find your API key at https://platform.openai.com/account/api-keys."
        ),
    )
}

/// The JSON body of a request the test server received.
pub fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap_or(Value::Null)
}
