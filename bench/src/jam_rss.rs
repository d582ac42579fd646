//! `jam-rss`: the services' resident memory with N `Jam` streams open on the song
//! producer (each has written its first take and waits for the next instruction).

use futures::StreamExt;
use serde_json::json;
use superstar_proto::v1::{
    JamRequest, JamStart, jam_reply::Event, jam_request::Action,
    song_producer_client::SongProducerClient,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::{args::Args, grpc_load::connect};

/// Streams per HTTP/2 connection, well under the servers' limits.
const STREAMS_PER_CONNECTION: usize = 50;

/// Runs the `jam-rss` subcommand with `args`.
pub async fn run(args: &Args) -> Result<(), String> {
    let streams: usize = args.number("streams", 0)?;
    let mut held = Vec::with_capacity(streams);
    let mut channels = Vec::new();
    for stream in 0..streams {
        if stream % STREAMS_PER_CONNECTION == 0 {
            channels.push(connect(args).await?);
        }
        let mut songs = SongProducerClient::new(channels[channels.len() - 1].clone());
        let (requests, outgoing) = mpsc::channel(1);
        requests
            .send(JamRequest {
                action: Some(Action::Start(JamStart {
                    genre: "synthwave".into(),
                    theme: format!("open stream {stream}"),
                })),
            })
            .await
            .map_err(|error| error.to_string())?;
        let mut replies = songs
            .jam(ReceiverStream::new(outgoing))
            .await
            .map_err(|status| status.to_string())?
            .into_inner();
        // Read the first take to its stored song; the stream then stays open.
        loop {
            match replies.next().await {
                Some(Ok(reply)) if matches!(reply.event, Some(Event::Song(_))) => break,
                Some(Ok(_)) => continue,
                Some(Err(status)) => return Err(status.to_string()),
                None => return Err("a Jam stream closed early".into()),
            }
        }
        held.push((requests, replies));
    }
    let mut measured = serde_json::Map::new();
    for pair in args.text("pids")?.split(',') {
        let (name, pid) = pair.split_once(':').ok_or("--pids is name:pid,name:pid")?;
        measured.insert(name.to_owned(), json!(rss_mib(pid)?));
    }
    println!(
        "{}",
        json!({"kind": "rss", "streams": streams, "open": held.len(), "mib": measured})
    );
    Ok(())
}

/// `VmRSS` of a process, in MiB.
fn rss_mib(pid: &str) -> Result<f64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|error| format!("process {pid}: {error}"))?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .ok_or_else(|| format!("process {pid} has no VmRSS"))?;
    Ok((kib / 1024.0 * 10.0).round() / 10.0)
}
