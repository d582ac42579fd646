//! `superstar lyrics` (GenerateLyrics) and `superstar jam` (Jam): text streamed to
//! stdout as it is written.

use std::io::{IsTerminal, Write};

use superstar_proto::v1::{
    GenerateLyricsRequest, JamRequest, JamRevise, JamStart, jam_reply::Event, jam_request::Action,
    song_producer_client::SongProducerClient,
};
use tokio::io::AsyncBufReadExt;

use crate::{
    client::Client,
    failure::{Failure, Kind},
    json::to_json,
    reads::print_song,
};

/// Each song printed (and flushed) as soon as it arrives. Not retried: these songs are
/// stored as they are written, and GenerateLyrics takes no request id.
pub async fn lyrics(
    client: &Client,
    genre: String,
    theme: String,
    songs: i32,
    json: bool,
) -> Result<(), Failure> {
    let mut producer = SongProducerClient::new(client.channel());
    let request = GenerateLyricsRequest {
        genre,
        theme,
        songs_count: songs.max(1),
    };
    let failure = |status: tonic::Status| client.failure("lyrics", &status);
    let mut stream = producer
        .generate_lyrics(client.request(request))
        .await
        .map_err(failure)?
        .into_inner();
    while let Some(song) = stream.message().await.map_err(failure)? {
        if json {
            println!("{}", to_json(&song, "superstar.v1.Song"));
        } else {
            print_song(&song);
        }
        flush();
    }
    Ok(())
}

/// An interactive session: the take streams as it is written; each line typed at the
/// prompt asks for a revision; end of input (Ctrl-D) ends the session. The session's
/// deadline is `--timeout` as for every call.
pub async fn jam(client: &Client, genre: String, theme: String) -> Result<(), Failure> {
    let mut producer = SongProducerClient::new(client.channel());
    let (sender, requests) = tokio::sync::mpsc::channel(4);
    let start = JamRequest {
        action: Some(Action::Start(JamStart { genre, theme })),
    };
    sender.send(start).await.expect("the channel is open");
    let failure = |status: tonic::Status| client.failure("jam", &status);
    let mut replies = producer
        .jam(client.request(tokio_stream::wrappers::ReceiverStream::new(requests)))
        .await
        .map_err(failure)?
        .into_inner();
    let interactive = std::io::stdin().is_terminal();
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    // Each turn: the take, as it is written, until its stored song; then the prompt.
    loop {
        let mut stored = false;
        while let Some(reply) = replies.message().await.map_err(failure)? {
            match reply.event {
                Some(Event::Delta(delta)) => {
                    print!("{delta}");
                    flush();
                }
                Some(Event::Song(song)) => {
                    println!("\n(take {} stored as {})", reply.take, song.id);
                    stored = true;
                    break;
                }
                None => {}
            }
        }
        if !stored {
            return Ok(()); // the server ended the session
        }
        let Some(instruction) = next_instruction(&mut lines, interactive).await? else {
            println!();
            drop(sender); // half-close: the server ends the session
            while replies.message().await.map_err(failure)?.is_some() {}
            return Ok(());
        };
        let revise = JamRequest {
            action: Some(Action::Revise(JamRevise { instruction })),
        };
        if sender.send(revise).await.is_err() {
            return Ok(());
        }
    }
}

/// The next non-empty line typed at the prompt, or `None` at the end of input.
async fn next_instruction(
    lines: &mut tokio::io::Lines<tokio::io::BufReader<tokio::io::Stdin>>,
    interactive: bool,
) -> Result<Option<String>, Failure> {
    loop {
        print!(
            "{}",
            if interactive {
                "revise (Ctrl-D ends)> "
            } else {
                "revise> "
            }
        );
        flush();
        let line = lines
            .next_line()
            .await
            .map_err(|error| Failure::new(Kind::Other, format!("stdin: {error}")))?;
        match line.map(|line| line.trim().to_owned()) {
            None => return Ok(None),
            Some(line) if line.is_empty() => continue,
            Some(line) => return Ok(Some(line)),
        }
    }
}

fn flush() {
    let _ = std::io::stdout().flush();
}
