//! `grpc-load`: one RPC from N concurrent callers for a fixed time: `GetSong` of
//! `--song-id` (the default), `ListSongs`' first page (`--rpc list-songs`), or
//! `MakeMeSuperstar` of a two-song album (`--rpc album`, each call a new album).
//!
//! The callers share `min(N, 16)` HTTP/2 connections, as h2load's `-c`/`-m` do for the
//! JSON measurement, so both put the same shape of load on the gateway. Requests that
//! start during the warm-up are not counted.

use std::time::Duration;

use superstar_proto::v1::{
    GetSongRequest, ListSongsRequest, MakeMeSuperstarRequest,
    song_producer_client::SongProducerClient,
};
use tokio::time::Instant;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::{
    args::Args,
    stats::{Load, quantile},
};

/// The most connections the callers share.
const MAX_CONNECTIONS: usize = 16;

/// Runs the `grpc-load` subcommand with `args`.
pub async fn run(args: &Args) -> Result<(), String> {
    let concurrency: usize = args.number("concurrency", 1)?;
    let duration = args.millis("duration-ms", 8_000)?;
    let warmup = args.millis("warmup-ms", 1_000)?;
    let rpc = Rpc::parse(args)?;
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
            let rpc = rpc.clone();
            let api_key = api_key.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                while Instant::now() < end {
                    let with_key = |request: &mut tonic::metadata::MetadataMap| {
                        if let Some(key) = &api_key {
                            request.insert("x-api-key", key.parse().expect("an ASCII key"));
                        }
                    };
                    let sent = Instant::now();
                    let outcome = rpc.call(&mut client, with_key).await;
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

/// The RPC a load step calls.
#[derive(Debug, Clone)]
enum Rpc {
    GetSong(String),
    ListSongs,
    Album,
}

impl Rpc {
    fn parse(args: &Args) -> Result<Self, String> {
        match args.optional("rpc").unwrap_or("get-song") {
            "get-song" => Ok(Self::GetSong(args.text("song-id")?.to_owned())),
            "list-songs" => Ok(Self::ListSongs),
            "album" => Ok(Self::Album),
            other => Err(format!("--rpc {other}: get-song, list-songs or album")),
        }
    }

    /// Calls it once; `stamp` adds the caller's headers.
    async fn call(
        &self,
        client: &mut SongProducerClient<Channel>,
        stamp: impl Fn(&mut tonic::metadata::MetadataMap),
    ) -> Result<(), tonic::Status> {
        fn request<T>(
            message: T,
            stamp: impl Fn(&mut tonic::metadata::MetadataMap),
        ) -> tonic::Request<T> {
            let mut request = tonic::Request::new(message);
            stamp(request.metadata_mut());
            request
        }
        match self {
            Self::GetSong(id) => {
                let message = GetSongRequest {
                    id: id.clone(),
                    read_mask: None,
                };
                client.get_song(request(message, stamp)).await.map(drop)
            }
            Self::ListSongs => {
                let message = ListSongsRequest {
                    page_size: 20,
                    ..Default::default()
                };
                client.list_songs(request(message, stamp)).await.map(drop)
            }
            Self::Album => {
                let message = MakeMeSuperstarRequest {
                    genre: "synthwave".into(),
                    theme: "benchmark nights".into(),
                    songs_count: 2,
                    ..Default::default()
                };
                client
                    .make_me_superstar(request(message, stamp))
                    .await
                    .map(drop)
            }
        }
    }
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
