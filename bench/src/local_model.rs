//! `local-model`: a one-song album through Envoy against a local model server, beside
//! the server's own time for the same song asked for directly.
//!
//! The direct side is the song producer's own lyricist, called in this process: the
//! same request, the same reading of the reply, nothing else. The server runs at
//! temperature 0, so both sides should write the same song; the result line counts the
//! samples whose lyrics agree. Which side goes first alternates from sample to sample:
//! the server's prompt cache makes the second of two identical requests a little
//! faster, and alternating lets that favour neither side.

use std::time::Duration;

use serde_json::json;
use song_producer::{
    domain::{AlbumPlan, SongBrief},
    lyricist::{Lyricist, OpenAiLyricist, SongRequest},
};
use superstar_openai::OpenAiSettings;
use superstar_proto::v1::{MakeMeSuperstarRequest, song_producer_client::SongProducerClient};
use superstar_server::serve::usage::{Meter, Usage};
use tokio::time::Instant;
use tonic::transport::Channel;

use crate::{
    args::Args,
    grpc_load::connect,
    stats::{ms, quantile},
};

/// The albums' themes, one per sample (cycled).
const THEMES: [&str; 6] = [
    "rain on a tin roof",
    "the last train home",
    "a kitchen full of bread",
    "stars over the desert",
    "paper airplanes",
    "the first snow",
];

/// Runs the `local-model` subcommand with `args`: `--server` (the model server's base
/// URL), `--model`, `--samples` and the gateway's `--target`, `--ca`, `--api-key`.
pub async fn run(args: &Args) -> Result<(), String> {
    let samples: usize = args.number("samples", THEMES.len())?;
    let (server, model) = (args.text("server")?, args.text("model")?);
    let api_key = args.text("api-key")?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let lyricist = OpenAiLyricist::new(
        OpenAiSettings::new("", server, model),
        SongRequest::for_server(server),
    );
    let meter = Usage::unwatched();
    let mut songs = SongProducerClient::new(connect(args).await?);

    // The server's first request is slower than the rest (its caches are cold): one
    // on a theme of its own, not measured, whatever it writes.
    let _ = ask_directly(&lyricist, &album("warming up").1, &meter).await;

    let (mut direct, mut through) = (Vec::new(), Vec::new());
    let (mut same, mut errors) = (0, 0);
    for sample in 0..samples {
        let (request, brief) = album(THEMES[sample % THEMES.len()]);
        let (asked, made) = if sample % 2 == 0 {
            let asked = ask_directly(&lyricist, &brief, &meter).await;
            (asked, make_album(&mut songs, api_key, request).await)
        } else {
            let made = make_album(&mut songs, api_key, request).await;
            (ask_directly(&lyricist, &brief, &meter).await, made)
        };
        match (asked, made) {
            (Ok((asked_in, written)), Ok((made_in, lyrics))) => {
                eprintln!(
                    "local-model: sample {sample}: server {} ms, album {} ms",
                    ms(asked_in),
                    ms(made_in)
                );
                direct.push(asked_in);
                through.push(made_in);
                same += usize::from(written == lyrics);
            }
            (asked, made) => {
                errors += 1;
                for error in [asked.err(), made.err()].into_iter().flatten() {
                    eprintln!("local-model: sample {sample}: {error}");
                }
            }
        }
    }
    let mean = |times: &[Duration]| ms(times.iter().sum::<Duration>() / times.len().max(1) as u32);
    println!(
        "{}",
        json!({
            "kind": "local_model",
            "model": model,
            "samples": samples,
            "errors": errors,
            "same_lyrics": same,
            "direct_mean_ms": mean(&direct),
            "album_mean_ms": mean(&through),
            "direct_p50_ms": ms(quantile(&mut direct, 0.50)),
            "album_p50_ms": ms(quantile(&mut through, 0.50)),
        })
    );
    Ok(())
}

/// A one-song pop album on `theme`, and its song's brief as the song producer makes it.
fn album(theme: &str) -> (MakeMeSuperstarRequest, SongBrief) {
    let request = MakeMeSuperstarRequest {
        genre: "pop".into(),
        theme: theme.into(),
        songs_count: 1,
        ..Default::default()
    };
    let plan = AlbumPlan::parse(&request).expect("a valid album");
    let brief = plan.tracks()[0].clone();
    (request, brief)
}

/// The server's own time for the song of `brief`, and its lyrics.
async fn ask_directly(
    lyricist: &OpenAiLyricist,
    brief: &SongBrief,
    meter: &Meter,
) -> Result<(Duration, String), String> {
    let started = Instant::now();
    let song = lyricist.write_whole(brief, None, meter).await;
    let song = song.map_err(|error| format!("the model server: {error}"))?;
    Ok((started.elapsed(), song.lyrics))
}

/// The time to a stored one-song album through the gateway, and its song's lyrics.
async fn make_album(
    songs: &mut SongProducerClient<Channel>,
    api_key: &str,
    message: MakeMeSuperstarRequest,
) -> Result<(Duration, String), String> {
    let mut request = tonic::Request::new(message);
    let key = api_key.parse().map_err(|_| "the API key is not ASCII")?;
    request.metadata_mut().insert("x-api-key", key);
    let started = Instant::now();
    let album = songs
        .make_me_superstar(request)
        .await
        .map_err(|status| format!("MakeMeSuperstar: {status}"))?
        .into_inner();
    let took = started.elapsed();
    let song = album
        .songs
        .into_iter()
        .next()
        .ok_or("an album without songs")?;
    Ok((took, song.lyrics))
}
