//! `first-line`: how long until a client sees the first line of a streamed song.
//!
//! Two times, sample by sample: the stub's own first token, asked for directly over
//! HTTP, and the first `Jam` delta through Envoy (TLS, API key, routing) and the song
//! producer, whose lyricist streams from the stub.

use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use superstar_proto::v1::{
    JamRequest, JamStart, jam_reply::Event, jam_request::Action,
    song_producer_client::SongProducerClient,
};
use tokio::time::Instant;

use crate::{
    args::Args,
    grpc_load::connect,
    stats::{ms, quantile},
};

/// Runs the `first-line` subcommand with `args`.
pub async fn run(args: &Args) -> Result<(), String> {
    let samples: usize = args.number("samples", 20)?;
    let stub = args.text("stub")?.to_owned();
    let api_key = args.optional("api-key").map(str::to_owned);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let mut songs = SongProducerClient::new(connect(args).await?);

    let mut direct = Vec::with_capacity(samples);
    let mut through = Vec::with_capacity(samples);
    for sample in 0..samples {
        direct.push(stub_first_token(&http, &stub).await?);
        through.push(jam_first_delta(&mut songs, api_key.as_deref(), sample).await?);
    }
    println!(
        "{}",
        json!({
            "kind": "first_line",
            "samples": samples,
            "token_delay_ms": args.number::<u64>("token-delay-ms", 20)?,
            "stub_p50_ms": ms(quantile(&mut direct, 0.50)),
            "stub_p99_ms": ms(quantile(&mut direct, 0.99)),
            "jam_p50_ms": ms(quantile(&mut through, 0.50)),
            "jam_p99_ms": ms(quantile(&mut through, 0.99)),
        })
    );
    Ok(())
}

async fn stub_first_token(http: &reqwest::Client, stub: &str) -> Result<Duration, String> {
    let body =
        json!({"model": "stub", "stream": true, "messages": [{"role": "user", "content": "go"}]});
    let started = Instant::now();
    let mut response = http
        .post(format!("{stub}/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|error| error.to_string())?;
    while let Some(chunk) = response.chunk().await.map_err(|error| error.to_string())? {
        if String::from_utf8_lossy(&chunk).contains("Title:") {
            return Ok(started.elapsed());
        }
    }
    Err("the stub's stream ended without a title".into())
}

async fn jam_first_delta(
    songs: &mut SongProducerClient<tonic::transport::Channel>,
    api_key: Option<&str>,
    sample: usize,
) -> Result<Duration, String> {
    let start = JamRequest {
        action: Some(Action::Start(JamStart {
            genre: "synthwave".into(),
            theme: format!("benchmark night {sample}"),
        })),
    };
    let mut request = tonic::Request::new(futures::stream::iter([start]));
    if let Some(key) = api_key {
        request
            .metadata_mut()
            .insert("x-api-key", key.parse().map_err(|_| "a bad API key")?);
    }
    let started = Instant::now();
    let mut replies = songs
        .jam(request)
        .await
        .map_err(|status| status.to_string())?
        .into_inner();
    let mut first = None;
    while let Some(reply) = replies.next().await {
        let reply = reply.map_err(|status| status.to_string())?;
        match reply.event {
            Some(Event::Delta(_)) if first.is_none() => first = Some(started.elapsed()),
            Some(Event::Song(_)) => break,
            _ => {}
        }
    }
    first.ok_or_else(|| "Jam sent no delta".into())
}
