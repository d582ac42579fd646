//! Two replicas of each service behind Envoy, on PostgreSQL, under a steady mixed load
//! (reads, `GenerateLyrics` streams, albums with a `request_id`), losing one song
//! producer and later one cover designer to `kill -9`: no read fails (but one whose reply
//! had begun on the replica killed, which Envoy cannot resend), no album is lost
//! or made twice, a stream cut by the kill ends in `UNAVAILABLE` rather than hanging,
//! and each dead replica leaves Envoy's rotation and rejoins it once `bin/up` has
//! started it again.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::{Connection, PgConnection};
use superstar_proto::v1::{
    GenerateLyricsRequest, GetCoverRequest, GetSongRequest, ListSongsRequest,
    MakeMeSuperstarRequest, cover_designer_client::CoverDesignerClient,
    song_producer_client::SongProducerClient,
};
use tonic::{Code, transport::Channel};

use super::up::{Up, gateway_channel, ok, with_key};

const KEY: &str = "replicas-key-0123456789abcdef";

/// Tasks reading all the while, one read in flight each.
const READERS: usize = 4;

/// How long the test waits for a replica to join, leave or rejoin Envoy's rotation
/// before calling it stuck: a deadline for a condition, not a performance bound (two
/// failed checks a second apart take a dead replica out; the times are printed).
const ROTATION_DEADLINE: Duration = Duration::from_secs(60);

/// Counts the load keeps, printed at the end.
#[derive(Default)]
struct Counts {
    reads: AtomicUsize,
    /// Reads whose reply had begun on the replica killed: Envoy cannot send them
    /// anywhere else once the reply started, so the client reads an RST_STREAM.
    reads_cut: AtomicUsize,
    failed_reads: Mutex<Vec<String>>,
    streams: AtomicUsize,
    streams_cut: AtomicUsize,
    stream_errors: Mutex<Vec<String>>,
    album_retries: AtomicUsize,
    /// Each album's request id and the album id it finally got.
    albums: Mutex<BTreeMap<String, String>>,
    album_errors: Mutex<Vec<String>>,
}

#[test]
#[ignore = "needs Envoy, PostgreSQL and release binaries: bin/test runs this"]
fn losing_a_replica_loses_nothing() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (songs_db, covers_db) = runtime.block_on(async {
        (
            superstar_testkit::scratch_postgres().await,
            superstar_testkit::scratch_postgres().await,
        )
    });
    let data = tempfile::tempdir().unwrap();
    let keys = format!("replicas:{KEY}");
    let up = Up::start_with(
        data.path(),
        &[
            ("SUPERSTAR_API_KEYS", &keys),
            ("SONG_PRODUCER_REPLICAS", "2"),
            ("COVER_DESIGNER_REPLICAS", "2"),
            ("SONG_PRODUCER_DATABASE_URL", &songs_db),
            ("COVER_DESIGNER_DATABASE_URL", &covers_db),
            ("MODEL_RATE_PER_SECOND", "1000"),
            ("MODEL_BURST", "1000"),
            ("READ_RATE_PER_SECOND", "10000"),
            ("READ_BURST", "10000"),
        ],
    );
    // The second replica of each: its first port + 10, as bin/up numbers them.
    let ports = up.system.ports;
    let (second_song_producer, second_cover_designer) =
        (ports.song_producer + 10, ports.cover_designer + 10);
    for (cluster, port) in [
        ("song_producer", second_song_producer),
        ("cover_designer", second_cover_designer),
    ] {
        assert!(
            wait_for(|| in_rotation(cluster, port), ROTATION_DEADLINE).is_some(),
            "{cluster} replica on {port} never joined"
        );
    }

    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));
    let report = runtime.block_on(async {
        let channel = gateway_channel().await;
        let mut songs = SongProducerClient::new(channel.clone());
        let first = songs
            .make_me_superstar(with_key(
                KEY,
                album_request(uuid::Uuid::new_v4().to_string()),
            ))
            .await
            .expect("a first album")
            .into_inner();
        let song_id = first.songs[0].id.clone();
        let cover_id = first.cover.expect("the album's cover").id;

        let mut load = Vec::new();
        for _ in 0..READERS {
            load.push(tokio::spawn(reads(
                channel.clone(),
                [song_id.clone(), cover_id.clone()],
                counts.clone(),
                stop.clone(),
            )));
        }
        for _ in 0..2 {
            load.push(tokio::spawn(streams(
                channel.clone(),
                counts.clone(),
                stop.clone(),
            )));
            load.push(tokio::spawn(albums(
                channel.clone(),
                counts.clone(),
                stop.clone(),
            )));
        }

        let mut report = String::new();
        tokio::time::sleep(Duration::from_secs(2)).await; // the load running
        for (name, cluster, port) in [
            ("song-producer-2", "song_producer", second_song_producer),
            ("cover-designer-2", "cover_designer", second_cover_designer),
        ] {
            let (left, rejoined) =
                tokio::task::spawn_blocking(move || kill_and_watch(name, cluster, port))
                    .await
                    .unwrap();
            report += &format!(
                "{name} (kill -9): out of rotation after {} ms, back after {} ms\n",
                left.as_millis(),
                rejoined.as_millis()
            );
            tokio::time::sleep(Duration::from_secs(2)).await; // load on the whole set again
        }
        stop.store(true, Ordering::Relaxed);
        for task in load {
            tokio::time::timeout(Duration::from_secs(90), task)
                .await
                .expect("the load ends: no call hangs")
                .unwrap();
        }
        report
    });

    let albums = counts.albums.lock().unwrap().clone();
    let (stored_albums, stored_covers) = runtime.block_on(async {
        let mut songs = PgConnection::connect(&songs_db).await.unwrap();
        let mut covers = PgConnection::connect(&covers_db).await.unwrap();
        let albums: i64 = sqlx::query_scalar("SELECT count(*) FROM albums")
            .fetch_one(&mut songs)
            .await
            .unwrap();
        let covers: i64 = sqlx::query_scalar("SELECT count(*) FROM covers")
            .fetch_one(&mut covers)
            .await
            .unwrap();
        (albums, covers)
    });
    up.stop();

    println!(
        "{report}reads: {} ({} cut by a kill mid-reply, {} failed); GenerateLyrics streams: \
         {} whole, {} cut by a kill; albums: {} made ({} retries by the client), {} stored, \
         {} covers stored",
        counts.reads.load(Ordering::Relaxed),
        counts.reads_cut.load(Ordering::Relaxed),
        counts.failed_reads.lock().unwrap().len(),
        counts.streams.load(Ordering::Relaxed),
        counts.streams_cut.load(Ordering::Relaxed),
        albums.len(),
        counts.album_retries.load(Ordering::Relaxed),
        stored_albums,
        stored_covers,
    );
    assert_eq!(
        *counts.failed_reads.lock().unwrap(),
        Vec::<String>::new(),
        "failed reads"
    );
    // A kill cuts at most the reads in flight on that replica: one per reader.
    assert!(
        counts.reads_cut.load(Ordering::Relaxed) <= 2 * READERS,
        "more reads cut than were in flight at the kills"
    );
    assert_eq!(
        *counts.stream_errors.lock().unwrap(),
        Vec::<String>::new(),
        "streams that failed otherwise than cut"
    );
    assert_eq!(
        *counts.album_errors.lock().unwrap(),
        Vec::<String>::new(),
        "albums given up on"
    );
    assert!(counts.reads.load(Ordering::Relaxed) > 100, "the reads ran");
    assert!(albums.len() >= 4, "albums were made: {}", albums.len());
    // One album per request id (plus the first), each with its one cover: none lost,
    // none made twice, no cover left over from an attempt that failed.
    let distinct: std::collections::BTreeSet<&String> = albums.values().collect();
    assert_eq!(
        distinct.len(),
        albums.len(),
        "two request ids share an album"
    );
    assert_eq!(stored_albums, albums.len() as i64 + 1, "albums stored");
    assert_eq!(stored_covers, stored_albums, "covers stored");
}

/// `kill -9`s bin/up's replica `name`, then times how long Envoy keeps it in the
/// cluster's rotation, and how long until the restarted process is back in it.
fn kill_and_watch(name: &str, cluster: &str, port: u16) -> (Duration, Duration) {
    let pid_file = super::up::system().pid_file(name);
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let killed = Instant::now();
    // The README's command.
    ok(&format!("kill -9 $(cat data/run/{name}.pid)"));
    let left = wait_for(|| !in_rotation(cluster, port), ROTATION_DEADLINE)
        .unwrap_or_else(|| panic!("{name} never left rotation"));
    wait_for(
        || {
            std::fs::read_to_string(&pid_file).is_ok_and(|now| now != pid)
                && in_rotation(cluster, port)
        },
        ROTATION_DEADLINE,
    )
    .unwrap_or_else(|| panic!("{name} never rejoined"));
    (left, killed.elapsed())
}

/// Polls `condition` every 50 ms for up to `limit`: how long it took, if it came true.
fn wait_for(mut condition: impl FnMut() -> bool, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if condition() {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// Whether Envoy's admin interface lists the endpoint on `port` in `cluster` as healthy.
fn in_rotation(cluster: &str, port: u16) -> bool {
    // The README's command.
    let clusters = ok("curl -s http://127.0.0.1:9901/clusters | grep health_flags");
    clusters
        .lines()
        .any(|line| line == format!("{cluster}::127.0.0.1:{port}::health_flags::healthy"))
}

fn album_request(request_id: String) -> MakeMeSuperstarRequest {
    MakeMeSuperstarRequest {
        genre: "synthwave".into(),
        theme: "a replica lost at night".into(),
        songs_count: 1,
        cover_description: String::new(),
        request_id,
    }
}

/// Reads in turn: a song, the first page of songs, a cover (from the cover designers).
async fn reads(
    channel: Channel,
    [song_id, cover_id]: [String; 2],
    counts: Arc<Counts>,
    stop: Arc<AtomicBool>,
) {
    let mut songs = SongProducerClient::new(channel.clone());
    let mut covers = CoverDesignerClient::new(channel);
    let mut turn = 0u64;
    while !stop.load(Ordering::Relaxed) {
        turn += 1;
        let outcome = if turn.is_multiple_of(3) {
            covers
                .get_cover(with_key(
                    KEY,
                    GetCoverRequest {
                        id: cover_id.clone(),
                    },
                ))
                .await
                .map(drop)
        } else if turn % 3 == 1 {
            songs
                .get_song(with_key(
                    KEY,
                    GetSongRequest {
                        id: song_id.clone(),
                        ..Default::default()
                    },
                ))
                .await
                .map(drop)
        } else {
            songs
                .list_songs(with_key(
                    KEY,
                    ListSongsRequest {
                        page_size: 5,
                        ..Default::default()
                    },
                ))
                .await
                .map(drop)
        };
        match outcome {
            Ok(()) => {
                counts.reads.fetch_add(1, Ordering::Relaxed);
            }
            // Cut by the kill after its reply began (the client would read it again).
            Err(status) if reset(&status) => {
                counts.reads_cut.fetch_add(1, Ordering::Relaxed);
            }
            Err(status) => counts
                .failed_reads
                .lock()
                .unwrap()
                .push(format!("{status:?}")),
        }
    }
}

/// `GenerateLyrics` streams one after another: each ends whole, or cut by a kill; a
/// stream may not hang. A stream cut before its response began ends in `UNAVAILABLE`;
/// one cut after reaches the client as Envoy resets it, an HTTP/2 `RST_STREAM`, which
/// gRPC reports as `INTERNAL` (Envoy cannot send a status once the response has
/// begun). Either is a cut; any other error fails the test.
async fn streams(channel: Channel, counts: Arc<Counts>, stop: Arc<AtomicBool>) {
    let mut songs = SongProducerClient::new(channel);
    while !stop.load(Ordering::Relaxed) {
        let request = GenerateLyricsRequest {
            genre: "synthwave".into(),
            theme: "streams across replicas".into(),
            songs_count: 2,
        };
        let outcome = tokio::time::timeout(Duration::from_secs(30), async {
            let mut stream = songs
                .generate_lyrics(with_key(KEY, request))
                .await?
                .into_inner();
            while stream.message().await?.is_some() {}
            Ok::<(), tonic::Status>(())
        })
        .await;
        match outcome {
            Ok(Ok(())) => {
                counts.streams.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Err(status)) if status.code() == Code::Unavailable || reset(&status) => {
                counts.streams_cut.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Err(status)) => counts
                .stream_errors
                .lock()
                .unwrap()
                .push(format!("{status:?}")),
            Err(_) => counts
                .stream_errors
                .lock()
                .unwrap()
                .push("a stream hung for 30 s".into()),
        }
    }
}

/// Whether the call ended in an HTTP/2 reset of its stream.
fn reset(status: &tonic::Status) -> bool {
    let mut source = std::error::Error::source(status);
    while let Some(error) = source {
        if error
            .downcast_ref::<h2::Error>()
            .is_some_and(h2::Error::is_reset)
        {
            return true;
        }
        source = error.source();
    }
    false
}

/// Albums, each under a fresh request id, sent again with the same id after any
/// failure (as a careful client does) until it is made.
async fn albums(channel: Channel, counts: Arc<Counts>, stop: Arc<AtomicBool>) {
    let mut songs = SongProducerClient::new(channel);
    while !stop.load(Ordering::Relaxed) {
        let request_id = uuid::Uuid::new_v4().to_string();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let mut request = with_key(KEY, album_request(request_id.clone()));
            request.set_timeout(Duration::from_secs(8));
            match songs.make_me_superstar(request).await {
                Ok(album) => {
                    counts
                        .albums
                        .lock()
                        .unwrap()
                        .insert(request_id.clone(), album.into_inner().id);
                    break;
                }
                Err(status) if attempts < 8 => {
                    println!(
                        "album attempt failed, sending it again: {:?} {}",
                        status.code(),
                        status.message()
                    );
                    counts.album_retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(status) => {
                    counts
                        .album_errors
                        .lock()
                        .unwrap()
                        .push(format!("{request_id}: {status:?}"));
                    break;
                }
            }
        }
    }
}
