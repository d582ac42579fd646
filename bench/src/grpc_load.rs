//! `grpc-load`: `GetSong` from N concurrent callers for a fixed time.
//!
//! The callers share `min(N, 16)` HTTP/2 connections, as h2load's `-c`/`-m` do for the
//! JSON measurement, so both put the same shape of load on the gateway. Requests that
//! start during the warm-up are not counted.

use std::time::Duration;

use superstar_proto::v1::{GetSongRequest, song_producer_client::SongProducerClient};
use tokio::time::Instant;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::{
    args::Args,
    stats::{Load, quantile},
};

/// The most connections the callers share.
const MAX_CONNECTIONS: usize = 16;

pub async fn run(args: &Args) -> Result<(), String> {
    let concurrency: usize = args.number("concurrency", 1)?;
    let duration = args.millis("duration-ms", 8_000)?;
    let warmup = args.millis("warmup-ms", 1_000)?;
    let song_id = args.text("song-id")?.to_owned();
    let api_key = args.optional("api-key").map(str::to_owned);
    let connections = concurrency.clamp(1, MAX_CONNECTIONS);
    let mut channels = Vec::with_capacity(connections);
    for _ in 0..connections {
        channels.push(connect(args).await?);
    }

    let started = Instant::now();
    let counted_from = started + warmup;
    let end = counted_from + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let mut client = SongProducerClient::new(channels[worker % connections].clone());
            let song_id = song_id.clone();
            let api_key = api_key.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                while Instant::now() < end {
                    let mut request = tonic::Request::new(GetSongRequest {
                        id: song_id.clone(),
                        read_mask: None,
                    });
                    if let Some(key) = &api_key {
                        request
                            .metadata_mut()
                            .insert("x-api-key", key.parse().expect("an ASCII key"));
                    }
                    let sent = Instant::now();
                    let outcome = client.get_song(request).await;
                    if sent < counted_from || sent >= end {
                        continue;
                    }
                    match outcome {
                        Ok(_) => latencies.push(sent.elapsed()),
                        Err(_) => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (mine, failed) = worker.await.map_err(|error| error.to_string())?;
        latencies.extend(mine);
        errors += failed;
    }
    Load {
        label: args.text("label")?,
        concurrency: concurrency as u64,
        requests: latencies.len() as u64,
        errors,
        rps: latencies.len() as f64 / duration.as_secs_f64(),
        p50: quantile(&mut latencies, 0.50),
        p99: quantile(&mut latencies, 0.99),
    }
    .print();
    Ok(())
}

/// A TLS channel to `--target`, with the client certificate `--cert`/`--key` if given.
pub async fn connect(args: &Args) -> Result<Channel, String> {
    let read = |flag: &str| -> Result<Vec<u8>, String> {
        let path = args.text(flag)?;
        std::fs::read(path).map_err(|error| format!("{path}: {error}"))
    };
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read("ca")?))
        .domain_name("localhost");
    if args.optional("cert").is_some() {
        tls = tls.identity(Identity::from_pem(read("cert")?, read("key")?));
    }
    Endpoint::from_shared(args.text("target")?.to_owned())
        .map_err(|error| error.to_string())?
        .tls_config(tls)
        .map_err(|error| error.to_string())?
        .connect()
        .await
        .map_err(|error| format!("{}: {error}", args.text("target").unwrap_or_default()))
}
