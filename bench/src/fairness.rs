//! `fairness`: one client reading alone, then while another floods the gateway.
//!
//! Bob (`--api-key`) sends `--samples` `GetSong` calls one after another over one
//! connection, first alone, then while alice (`--flood-key`) sends as fast as the
//! gateway answers over `--flood-connections` connections, `--flood-streams` calls in
//! flight on each. `bin/bench` runs this with
//! the read limits at a real size, so alice's bucket runs dry at once and most of her
//! calls are refused (`RESOURCE_EXHAUSTED`): what the flood costs bob is then the CPU
//! the gateway spends refusing her, not his bucket. Each client has a runtime and an
//! OS thread of its own, as separate clients do: alice's client must not delay bob's
//! inside this process.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use serde_json::json;
use superstar_proto::v1::{GetSongRequest, song_producer_client::SongProducerClient};
use tokio::time::Instant;
use tonic::transport::Channel;

use crate::{
    args::Args,
    grpc_load::connect,
    stats::{ms, quantile},
};

/// Runs the `fairness` subcommand with `args`.
pub async fn run(args: &Args) -> Result<(), String> {
    let samples: usize = args.number("samples", 300)?;
    let flood_connections: usize = args.number("flood-connections", 2)?;
    let flood_streams: usize = args.number("flood-streams", 16)?;
    let song_id = args.text("song-id")?.to_owned();
    let bob_key = args.text("api-key")?.to_owned();
    let alice_key = args.text("flood-key")?.to_owned();

    let bob = connect(args).await?;
    // Warm the connection and Envoy's pool to the service.
    reads(&bob, &bob_key, &song_id, 20).await?;
    let mut alone = reads(&bob, &bob_key, &song_id, samples).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let refused = Arc::new(AtomicU64::new(0));
    let answered = Arc::new(AtomicU64::new(0));
    let mut flood_channels = Vec::with_capacity(flood_connections);
    for _ in 0..flood_connections {
        flood_channels.push(connect(args).await?);
    }
    let alice = {
        let (stop, refused, answered) = (stop.clone(), refused.clone(), answered.clone());
        let (key, song_id) = (alice_key, song_id.clone());
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the flood")
                .block_on(flood(
                    flood_channels,
                    flood_streams,
                    key,
                    song_id,
                    stop,
                    refused,
                    answered,
                ))
        })
    };
    // The flood is on once alice is being refused.
    let deadline = Instant::now() + Duration::from_secs(30);
    while refused.load(Ordering::Relaxed) < 100 {
        if alice.is_finished() || Instant::now() > deadline {
            stop.store(true, Ordering::Relaxed);
            return Err("alice's flood was never refused: are the read limits raised?".into());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let flooded = reads(&bob, &bob_key, &song_id, samples).await;
    stop.store(true, Ordering::Relaxed);
    alice.join().map_err(|_| "the flood panicked")??;
    let mut flooded = flooded?;

    println!(
        "{}",
        json!({
            "kind": "fairness",
            "samples": samples,
            "flood_connections": flood_connections,
            "flood_streams": flood_streams,
            "alone_p50_ms": ms(quantile(&mut alone, 0.50)),
            "alone_p99_ms": ms(quantile(&mut alone, 0.99)),
            "flood_p50_ms": ms(quantile(&mut flooded, 0.50)),
            "flood_p99_ms": ms(quantile(&mut flooded, 0.99)),
            "flood_refused": refused.load(Ordering::Relaxed),
            "flood_answered": answered.load(Ordering::Relaxed),
        })
    );
    Ok(())
}

fn get_song(key: &str, song_id: &str) -> tonic::Request<GetSongRequest> {
    let mut request = tonic::Request::new(GetSongRequest {
        id: song_id.to_owned(),
        read_mask: None,
    });
    request
        .metadata_mut()
        .insert("x-api-key", key.parse().expect("an ASCII key"));
    request
}

/// `count` reads one after another: each one's latency. Bob is never refused: one
/// refusal ends the measurement with an error.
async fn reads(
    channel: &Channel,
    key: &str,
    song_id: &str,
    count: usize,
) -> Result<Vec<Duration>, String> {
    let mut client = SongProducerClient::new(channel.clone());
    let mut latencies = Vec::with_capacity(count);
    for _ in 0..count {
        let sent = Instant::now();
        client
            .get_song(get_song(key, song_id))
            .await
            .map_err(|status| format!("bob's read failed: {status:?}"))?;
        latencies.push(sent.elapsed());
    }
    Ok(latencies)
}

/// Alice: `streams` callers on every connection, each sending as fast as the gateway
/// answers, until `stop`.
async fn flood(
    channels: Vec<Channel>,
    streams: usize,
    key: String,
    song_id: String,
    stop: Arc<AtomicBool>,
    refused: Arc<AtomicU64>,
    answered: Arc<AtomicU64>,
) -> Result<(), String> {
    let senders: Vec<_> = channels
        .iter()
        .flat_map(|channel| std::iter::repeat_n(channel.clone(), streams))
        .map(|channel| {
            let (key, song_id) = (key.clone(), song_id.clone());
            let (stop, refused, answered) = (stop.clone(), refused.clone(), answered.clone());
            tokio::spawn(async move {
                let mut client = SongProducerClient::new(channel);
                while !stop.load(Ordering::Relaxed) {
                    match client.get_song(get_song(&key, &song_id)).await {
                        Ok(_) => answered.fetch_add(1, Ordering::Relaxed),
                        Err(status) if status.code() == tonic::Code::ResourceExhausted => {
                            refused.fetch_add(1, Ordering::Relaxed)
                        }
                        Err(status) => return Err(format!("alice's read failed: {status:?}")),
                    };
                }
                Ok(())
            })
        })
        .collect();
    for sender in senders {
        sender.await.map_err(|error| error.to_string())??;
    }
    Ok(())
}
