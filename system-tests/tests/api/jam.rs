//! Jam: bidirectional streaming, deltas as the song is written, revisions.

use superstar_proto::v1::{
    JamReply, JamRequest, JamRevise, JamStart, Song, jam_reply::Event, jam_request::Action,
};
use superstar_system_tests::TestSystem;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Streaming;

use super::*;

fn start(genre: &str, theme: &str) -> JamRequest {
    JamRequest {
        action: Some(Action::Start(JamStart {
            genre: genre.into(),
            theme: theme.into(),
        })),
    }
}

fn revise(instruction: &str) -> JamRequest {
    JamRequest {
        action: Some(Action::Revise(JamRevise {
            instruction: instruction.into(),
        })),
    }
}

/// Reads one take: its deltas, then its song.
async fn read_take(replies: &mut Streaming<JamReply>, take: i32) -> (Vec<String>, Song) {
    let mut deltas = Vec::new();
    loop {
        let reply = replies
            .message()
            .await
            .expect("a reply")
            .expect("the session is open");
        assert_eq!(reply.take, take);
        match reply.event.expect("an event") {
            Event::Delta(delta) => deltas.push(delta),
            Event::Song(song) => return (deltas, song),
        }
    }
}

#[tokio::test]
async fn a_jam_streams_deltas_and_revises_on_request() {
    let mut system = TestSystem::start().await;
    let (requests, outbound) = mpsc::channel(4);
    let mut replies = system
        .songs
        .jam(ReceiverStream::new(outbound))
        .await
        .expect("a session")
        .into_inner();

    // The replies of a take arrive while the client still holds the stream open.
    requests
        .send(start("heavy metal", "the last dragon"))
        .await
        .unwrap();
    let (deltas, first) = read_take(&mut replies, 1).await;
    assert!(deltas.len() > 10, "the take arrives in pieces");
    assert_eq!(deltas.concat().trim_end(), song_text(&first));
    assert_eq!(first.genre, "heavy metal");

    requests.send(revise("make it shorter")).await.unwrap();
    let (deltas, shorter) = read_take(&mut replies, 2).await;
    assert_eq!(deltas.concat().trim_end(), song_text(&shorter));
    assert!(shorter.lyrics.lines().count() < first.lyrics.lines().count());
    assert_ne!(shorter.id, first.id);

    requests.send(revise("add a bridge")).await.unwrap();
    let (_, bridged) = read_take(&mut replies, 3).await;
    let bridges = |song: &Song| {
        song.lyrics
            .lines()
            .filter(|l| l.starts_with("[Bridge"))
            .count()
    };
    assert_eq!(bridges(&bridged), bridges(&shorter) + 1);

    drop(requests);
    assert!(
        replies.message().await.expect("a clean end").is_none(),
        "half-closing ends the session"
    );
}

#[tokio::test]
async fn a_jam_must_start_before_it_revises() {
    let mut system = TestSystem::start().await;
    let mut replies = system
        .songs
        .jam(tokio_stream::iter([revise("shorter")]))
        .await
        .unwrap()
        .into_inner();
    let error = replies.message().await.expect_err("revise before start");
    assert_eq!(error.code(), tonic::Code::InvalidArgument);
    assert!(
        error.message().starts_with("revise:"),
        "{}",
        error.message()
    );

    let mut replies = system
        .songs
        .jam(tokio_stream::iter([start("jazz", "")]))
        .await
        .unwrap()
        .into_inner();
    let error = replies.message().await.expect_err("an empty theme");
    assert_eq!(error.code(), tonic::Code::InvalidArgument);
    assert!(error.message().starts_with("theme:"), "{}", error.message());
}
