//! Lyrics from a real local model, as a user with no OpenAI key runs Superstar: llama.cpp's
//! own OpenAI-compatible server with SmolLM2-135M-Instruct (98 MB, on the CPU), `bin/up`
//! pointed at it as docs/local-models.md says, and every kind of lyrics RPC through
//! Envoy: an album as JSON, a GenerateLyrics stream and a Jam with a revision over
//! gRPC, then 20 one-song albums, of which at least 19 must be whole songs.

use std::time::Instant;

use futures::StreamExt;
use song_producer::domain::WrittenSong;
use superstar_proto::v1::{
    GenerateLyricsRequest, JamRequest, JamRevise, JamStart, Song, jam_reply::Event,
    jam_request::Action, song_producer_client::SongProducerClient,
};
use superstar_testkit::{LLAMA_MODEL, LlamaServer};

use super::up::{ALICE, Up, gateway_channel, ok, with_key};

/// Where the model server listens (the gateway tests run one at a time).
const PORT: u16 = 18080;

/// The settings docs/local-models.md gives for llama.cpp's server, and budgets that 20
/// albums in a row stay within. The gateway waits as long as it does for users (180 s):
/// the model computes on a CPU the other tests share, and how fast it writes is
/// `bin/bench`'s to say, not a test's.
fn settings(base_url: &str) -> Vec<(&'static str, &str)> {
    vec![
        ("SUPERSTAR_PROVIDER", "openai"),
        ("OPENAI_API_KEY", ""),
        ("OPENAI_BASE_URL", base_url),
        ("OPENAI_CHAT_MODEL", LLAMA_MODEL),
        ("OPENAI_IMAGE_MODEL", "offline"),
        ("MODEL_RATE_PER_SECOND", "100"),
        ("MODEL_BURST", "100"),
        // The model shares two cores with the rest of the suite (a bench, a cargo
        // install, schemathesis): its album took over the gateway's 180 s once. This
        // test checks the songs, not the speed (bin/bench measures that), so the
        // gateway waits as long as the model needs.
        ("GATEWAY_MODEL_TIMEOUT_SECS", "900"),
    ]
}

/// A song as stored: a title, sectioned lyrics that parse back, no placeholder, and
/// the local model's name.
#[track_caller]
fn assert_a_song(title: &str, lyrics: &str, model: &str) {
    let text = format!("Title: {title}\n\n{lyrics}");
    let song = WrittenSong::parse(&text).unwrap_or_else(|why| panic!("{why}: {text}"));
    assert!(
        !song.title.is_empty() && song.lyrics.lines().count() >= 4,
        "{text}"
    );
    assert_eq!(model, LLAMA_MODEL);
}

/// POSTs an album as JSON; the HTTP status and the body.
fn album(body: &str) -> (u16, serde_json::Value) {
    let output = ok(&format!(
        "curl -sS --cacert certs/ca.pem -H 'x-api-key: {ALICE}' https://localhost:8443/v1/albums -d '{body}' -w '\\n%{{http_code}}'"
    ));
    let (body, status) = output.trim_end().rsplit_once('\n').expect("a status");
    (
        status.parse().unwrap(),
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

#[test]
#[ignore = "needs Envoy, release binaries and llama-server: bin/test runs this"]
fn a_local_model_writes_every_kind_of_lyrics_through_envoy() {
    let llama = LlamaServer::start(PORT);
    let data = tempfile::tempdir().unwrap();
    let _up = Up::with_alice_and_bob(data.path(), &settings(&llama.base_url));
    let runtime = tokio::runtime::Runtime::new().unwrap();

    // A 2-song album, as JSON.
    let (status, made) =
        album(r#"{"genre": "folk", "theme": "a lighthouse keeper", "songsCount": 2}"#);
    assert_eq!(status, 200, "{made}");
    let songs = made["songs"].as_array().unwrap();
    assert_eq!(songs.len(), 2, "{made}");
    for song in songs {
        let text = |field: &str| song[field].as_str().unwrap().to_owned();
        assert_a_song(&text("title"), &text("lyrics"), &text("model"));
    }

    runtime.block_on(async {
        let mut songs = SongProducerClient::new(gateway_channel().await);

        // GenerateLyrics: two songs, streamed as each is finished.
        let mut stream = songs
            .generate_lyrics(with_key(
                ALICE,
                GenerateLyricsRequest {
                    genre: "blues".into(),
                    theme: "a broken radio".into(),
                    songs_count: 2,
                },
            ))
            .await
            .unwrap()
            .into_inner();
        let mut generated: Vec<Song> = Vec::new();
        while let Some(song) = stream.next().await {
            generated.push(song.unwrap());
        }
        assert_eq!(generated.len(), 2);
        for song in &generated {
            assert_a_song(&song.title, &song.lyrics, &song.model);
        }

        // Jam: a take, then a revision, each streamed line by line.
        let (requests, outbound) = tokio::sync::mpsc::channel(2);
        let mut replies = songs
            .jam(with_key(
                ALICE,
                tokio_stream::wrappers::ReceiverStream::new(outbound),
            ))
            .await
            .unwrap()
            .into_inner();
        let actions = [
            Action::Start(JamStart {
                genre: "pop".into(),
                theme: "summer rain".into(),
            }),
            Action::Revise(JamRevise {
                instruction: "make the chorus about dancing".into(),
            }),
        ];
        for (take, action) in (1..).zip(actions) {
            requests
                .send(JamRequest {
                    action: Some(action),
                })
                .await
                .unwrap();
            let mut deltas = String::new();
            let song = loop {
                let reply = replies.next().await.expect("a reply").unwrap();
                assert_eq!(reply.take, take);
                match reply.event.unwrap() {
                    Event::Delta(delta) => deltas.push_str(&delta),
                    Event::Song(song) => break song,
                }
            };
            assert_a_song(&song.title, &song.lyrics, &song.model);
            // What was streamed is the song that was stored.
            assert_eq!(
                WrittenSong::parse(&deltas).unwrap().lyrics,
                song.lyrics,
                "take {take}"
            );
        }
    });

    // Twenty one-song albums in a row: how often the model writes a whole song, and how
    // long one takes.
    let themes = [
        "dragons over the city",
        "rain on a tin roof",
        "a robot learning to dance",
        "summer by the lake",
        "lost keys",
        "the last train home",
        "a letter never sent",
        "neon nights",
        "a kitchen full of bread",
        "the first snow",
        "a dog named Biscuit",
        "running late again",
        "stars over the desert",
        "an old guitar",
        "Monday morning coffee",
        "the tide coming in",
        "a city that never sleeps",
        "paper airplanes",
        "the road to nowhere",
        "midnight in the garden",
    ];
    let (mut valid, mut seconds, mut slowest) = (0, 0.0, 0.0_f64);
    for theme in themes {
        assert!(
            !theme.contains('\''),
            "{theme}: the curl line quotes with '"
        );
        let started = Instant::now();
        let (status, made) = album(&format!(
            r#"{{"genre": "pop", "theme": "{theme}", "songsCount": 1}}"#
        ));
        let took = started.elapsed().as_secs_f64();
        seconds += took;
        slowest = slowest.max(took);
        if status == 200 {
            let song = &made["songs"][0];
            let text = |field: &str| song[field].as_str().unwrap().to_owned();
            assert_a_song(&text("title"), &text("lyrics"), &text("model"));
            valid += 1;
        } else {
            println!("local model: {theme:?} failed: {status} {made}");
        }
    }
    println!(
        "local model ({LLAMA_MODEL}, llama-server): {valid} of {} one-song albums whole, {:.1} s per song, the slowest {slowest:.1} s",
        themes.len(),
        seconds / themes.len() as f64,
    );
    assert!(valid >= 19, "{valid} of 20 songs");
}
