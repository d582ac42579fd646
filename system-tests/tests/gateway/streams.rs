//! What every client shares, held by one: alice opens 600 health watches and 200 idle
//! `Jam`s through the real Envoy; she keeps her share of open streams (the services'
//! `MAX_STREAMS_PER_CLIENT`), the rest are refused at once, and bob's `StreamAlbum`,
//! `GenerateLyrics` and `Jam` work as if she were not there.

use futures::StreamExt;
use superstar_proto::v1::{
    GenerateLyricsRequest, JamRequest, JamStart, MakeMeSuperstarRequest, jam_reply::Event,
    jam_request::Action, song_producer_client::SongProducerClient,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, transport::Channel};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use super::up::{ALICE, BOB, Up, gateway_channel, with_key};

/// Connections alice spreads her streams over: Envoy takes 100 streams on one.
const CONNECTIONS: usize = 10;

/// The share of open streams a client holds at most (MAX_STREAMS_PER_CLIENT's default).
const SHARE: usize = 64;

/// What became of one of alice's streams.
enum Opened {
    /// Open: the stream, kept until the end of the test.
    Held {
        _stream: Box<dyn std::any::Any + Send>,
    },
    /// Refused by the service: over her share.
    Refused,
    /// Refused by Envoy: the cluster's budget was full at that moment (her own streams
    /// filling it while the service refused them).
    Overflow,
}

impl Opened {
    /// What a refused stream's status says, or a panic for anything else.
    fn refused(status: &tonic::Status) -> Self {
        if status.code() == Code::ResourceExhausted
            && superstar_proto::errors::reason(status).as_deref() == Some("TOO_MANY_OPEN_STREAMS")
        {
            Self::Refused
        } else if status.code() == Code::Unavailable && status.message().contains("overflow") {
            Self::Overflow
        } else {
            panic!("a stream neither held nor refused: {status:?}")
        }
    }
}

async fn watch(channel: Channel) -> Opened {
    let mut health = HealthClient::new(channel);
    match health
        .watch(with_key(ALICE, HealthCheckRequest::default()))
        .await
    {
        Ok(watch) => {
            let mut watch = watch.into_inner();
            match watch.message().await {
                Ok(Some(_)) => Opened::Held {
                    _stream: Box::new(watch),
                },
                Ok(None) => panic!("a watch ended without a status"),
                Err(status) => Opened::refused(&status),
            }
        }
        Err(status) => Opened::refused(&status),
    }
}

/// A Jam session that never starts: open, costing its model token, and idle.
async fn idle_jam(channel: Channel) -> Opened {
    let (requests, outbound) = mpsc::channel::<JamRequest>(1);
    let jam = SongProducerClient::new(channel)
        .jam(with_key(ALICE, ReceiverStream::new(outbound)))
        .await;
    match jam {
        Ok(replies) => {
            let mut replies = replies.into_inner();
            // A refusal comes as the stream's status; an open session stays silent.
            let next =
                tokio::time::timeout(std::time::Duration::from_millis(50), replies.message()).await;
            match next {
                Err(_) => Opened::Held {
                    _stream: Box::new((requests, replies)),
                },
                Ok(Err(status)) => Opened::refused(&status),
                Ok(other) => panic!("an idle Jam neither held nor refused: {other:?}"),
            }
        }
        Err(status) => Opened::refused(&status),
    }
}

#[test]
#[ignore = "needs Envoy and the system's binaries: bin/test runs this"]
fn one_client_holding_streams_leaves_the_api_to_others() {
    let data = tempfile::tempdir().unwrap();
    let up = Up::with_alice_and_bob(
        data.path(),
        &[
            ("MODEL_RATE_PER_SECOND", "1000"),
            ("MODEL_BURST", "1000"),
            ("READ_RATE_PER_SECOND", "1000"),
            ("READ_BURST", "10000"),
        ],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut channels = Vec::new();
        for _ in 0..CONNECTIONS {
            channels.push(gateway_channel().await);
        }
        let opening = (0..800).map(|n| {
            let channel = channels[n % CONNECTIONS].clone();
            async move {
                if n < 600 {
                    watch(channel).await
                } else {
                    idle_jam(channel).await
                }
            }
        });
        let opened: Vec<Opened> = futures::stream::iter(opening)
            .buffer_unordered(200)
            .collect()
            .await;
        let count = |kind: fn(&Opened) -> bool| opened.iter().filter(|o| kind(o)).count();
        let held = count(|opened| matches!(opened, Opened::Held { .. }));
        let refused = count(|opened| matches!(opened, Opened::Refused));
        let overflow = count(|opened| matches!(opened, Opened::Overflow));
        println!(
            "alice: {held} streams held, {refused} refused for her share, {overflow} by Envoy's budget"
        );
        assert!(held <= SHARE, "alice holds {held} streams");
        assert!(refused > 0, "the service refused none of alice's streams");

        // Bob, meanwhile: an album streamed, lyrics streamed, a Jam take.
        let mut bob = SongProducerClient::new(gateway_channel().await);
        let mut album = bob
            .stream_album(with_key(
                BOB,
                MakeMeSuperstarRequest {
                    genre: "jazz".into(),
                    theme: "a full house".into(),
                    songs_count: 2,
                    ..Default::default()
                },
            ))
            .await
            .expect("bob's StreamAlbum")
            .into_inner();
        let mut steps = 0;
        while album
            .message()
            .await
            .expect("bob's album streams")
            .is_some()
        {
            steps += 1;
        }
        assert!(steps >= 3, "bob's album: {steps} steps");
        let mut lyrics = bob
            .generate_lyrics(with_key(
                BOB,
                GenerateLyricsRequest {
                    genre: "jazz".into(),
                    theme: "room for one more".into(),
                    songs_count: 1,
                },
            ))
            .await
            .expect("bob's GenerateLyrics")
            .into_inner();
        assert!(lyrics.message().await.expect("bob's lyrics").is_some());
        let (requests, outbound) = mpsc::channel(1);
        let mut jam = bob
            .jam(with_key(BOB, ReceiverStream::new(outbound)))
            .await
            .expect("bob's Jam")
            .into_inner();
        requests
            .send(JamRequest {
                action: Some(Action::Start(JamStart {
                    genre: "jazz".into(),
                    theme: "a seat at the bar".into(),
                })),
            })
            .await
            .unwrap();
        loop {
            let reply = jam.message().await.expect("bob's take").expect("open");
            if matches!(reply.event, Some(Event::Song(_))) {
                break;
            }
        }
        drop(opened);
    });
    up.stop();
}
