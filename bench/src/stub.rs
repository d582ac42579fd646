//! `stub`: an OpenAI-format server: chat that streams one song, a token per fixed delay,
//! and images.
//!
//! It answers as the song producer asks: under the song contract's JSON schema when
//! the request carries `response_format` (the default), else in the text format. Its
//! first token completes the title, so the first *line* a client can show is the stub's
//! first token; each later token (a word, or a line break) follows after another delay.
//! Non-streamed requests get the whole song at once. Every reply
//! reports its `usage`, as OpenAI does. An image request gets one small PNG (64×64, made
//! once at start) in base64 at once, so that an album measured against the stub costs
//! the services' own work, not a megabyte of base64.

use std::{convert::Infallible, sync::Arc, time::Duration};

use base64::Engine;

use axum::{
    Json, Router,
    body::Body,
    http::{Response, header},
    routing::post,
    serve::ListenerExt,
};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::args::Args;

/// The song the stub writes.
pub const SONG: &str = "Title: Benchmark Nights\n\n[Verse 1]\nNeon on the water, engines in the rain\nWe count every heartbeat, we never count the pain\n\n[Chorus]\nBenchmark nights, benchmark lights\nWe run until the morning, we run until it's right\n";

/// [`SONG`] as structured output under the song contract's schema.
fn song_json() -> String {
    let (title, lyrics) = SONG.split_once("\n\n").expect("a title line");
    let sections: Vec<Value> = lyrics
        .trim_end()
        .split("\n\n")
        .map(|section| {
            let mut lines = section.lines();
            let heading = lines.next().expect("a heading").trim_matches(['[', ']']);
            json!({"heading": heading, "lines": lines.collect::<Vec<_>>()})
        })
        .collect();
    json!({"title": title.trim_start_matches("Title: "), "sections": sections}).to_string()
}

/// The song as the stub streams it, as JSON or as text: a first token that completes the
/// title, then words and line breaks.
pub fn tokens(structured: bool) -> Vec<String> {
    let (text, head) = if structured {
        let json = song_json();
        let head = json.find("[{").expect("the sections") + 1;
        (json, head)
    } else {
        (SONG.to_owned(), SONG.find('\n').expect("a title line") + 1)
    };
    let mut tokens = vec![text[..head].to_owned()];
    let mut word = String::new();
    for character in text[head..].chars() {
        word.push(character);
        if character == ' ' || character == '\n' {
            tokens.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

/// Runs the `stub` subcommand with `args`.
pub async fn run(args: &Args) -> Result<(), String> {
    let addr = args.text("addr")?.to_owned();
    let delay = args.millis("token-delay-ms", 20)?;
    let image = Arc::new(image_reply());
    let app = Router::new()
        .route(
            "/v1/chat/completions",
            post(move |Json(request): Json<Value>| async move { reply(&request, delay) }),
        )
        .route(
            "/v1/images/generations",
            post(move || {
                let image = Arc::clone(&image);
                async move {
                    Response::builder()
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(Body::from(image.as_bytes().to_vec()))
                        .expect("a response")
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|error| format!("{addr}: {error}"))?
        // As real model servers do: without it, a token written while the client still
        // delays its ACK of the previous one waits for that ACK (Nagle), up to 40 ms.
        .tap_io(|socket| {
            let _ = socket.set_nodelay(true);
        });
    axum::serve(listener, app)
        .await
        .map_err(|error| error.to_string())
}

/// The images reply: a 64×64 PNG, base64 in `b64_json`.
fn image_reply() -> String {
    let image =
        image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8 * 4, y as u8 * 4, 128]));
    let mut png = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("a PNG is written to memory");
    json!({
        "created": 0,
        "data": [{"b64_json": base64::engine::general_purpose::STANDARD.encode(png.into_inner())}]
    })
    .to_string()
}

fn reply(request: &Value, delay: Duration) -> Response<Body> {
    let model = request["model"].as_str().unwrap_or("stub").to_owned();
    let structured = request.get("response_format").is_some();
    if request["stream"] != true {
        let song = if structured {
            song_json()
        } else {
            SONG.to_owned()
        };
        let body = json!({
            "id": "chatcmpl-stub", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": song}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 180, "completion_tokens": 70, "total_tokens": 250}
        });
        return Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("a response");
    }
    let chunk = move |content: Option<&str>| {
        let (delta, finish) = match content {
            Some(text) => (json!({"content": text}), Value::Null),
            None => (json!({}), json!("stop")),
        };
        let chunk = json!({
            "id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 0, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
        });
        Ok::<_, Infallible>(format!("data: {chunk}\n\n"))
    };
    let events = futures::stream::iter(tokens(structured))
        .then(move |token| async move {
            tokio::time::sleep(delay).await;
            token
        })
        .map({
            let chunk = chunk.clone();
            move |token| chunk(Some(&token))
        })
        .chain(futures::stream::iter([
            chunk(None),
            Ok("data: [DONE]\n\n".to_owned()),
        ]));
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(events))
        .expect("a response")
}
