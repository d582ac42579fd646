//! Creates that carry a `request_id` (AIP-155) are made once: a repeat gets the first
//! result back without a model being called, a repeat that arrives while the first
//! runs waits for it, the same id with another request is refused, and ids are scoped
//! per client.

use std::{num::NonZeroU32, time::Duration};

use superstar_proto::v1::{Album, DesignCoverRequest, MakeMeSuperstarRequest, SongIdea};
use superstar_system_tests::{Setup, TestSystem};
use tonic::{Code, Status};

use super::*;

const ID: &str = "0b6c1d6e-3a6f-4c8e-9f41-2d3c6f0e8a11";

fn album_with_id(theme: &str, id: &str) -> MakeMeSuperstarRequest {
    MakeMeSuperstarRequest {
        request_id: id.into(),
        ..album_request("synthwave", theme, 2)
    }
}

async fn make(
    client: &mut superstar_proto::v1::song_producer_client::SongProducerClient<
        tonic::transport::Channel,
    >,
    who: &str,
    request: MakeMeSuperstarRequest,
) -> Result<Album, Status> {
    client
        .make_me_superstar(as_client(who, request))
        .await
        .map(tonic::Response::into_inner)
}

on_both_backends! {
    async fn a_repeated_request_id_gets_the_first_album_back(backend: Backend) {
        let system = TestSystem::start_on(backend).await;
        let mut songs = system.songs.clone();
        let first = make(&mut songs, "alice", album_with_id("neon nights", ID)).await.unwrap();
        // In another spelling of the same UUID, too.
        let again = make(&mut songs, "alice", album_with_id("neon nights", &ID.to_uppercase())).await.unwrap();
        assert_eq!(again, first, "the repeat is answered with the first album");
        assert_eq!(system.song_producer_rows("albums").await, 1);
        assert_eq!(system.song_producer_rows("songs").await, 2);
        assert_eq!(system.cover_designer_rows("covers").await, 1, "one cover was painted");

        // Another client's id of the same spelling is its own.
        let bobs = make(&mut songs, "bob", album_with_id("neon nights", ID)).await.unwrap();
        assert_ne!(bobs.id, first.id);
        assert_eq!(system.song_producer_rows("albums").await, 2);

        // The same id with another request is the client's mistake, named.
        let refused = make(&mut songs, "alice", album_with_id("rainy days", ID)).await.unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
        assert!(refused.message().starts_with("request_id: "), "{}", refused.message());

        // Not a UUID.
        let refused = make(&mut songs, "alice", album_with_id("neon nights", "retry-1")).await.unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument);
        assert!(refused.message().starts_with("request_id: must be a UUID"), "{}", refused.message());
        assert_eq!(system.song_producer_rows("albums").await, 2, "nothing more was made");
    }
}

on_both_backends! {
    /// The first request is slowed down (the offline lyricist types); the repeat,
    /// sent while it runs, to another replica on the same database, waits and gets
    /// the same album. On SQLite both replicas open the same file, as replicas
    /// sharing a volume do.
    async fn a_repeat_while_the_first_runs_waits_for_it_on_any_replica(backend: Backend) {
        let system = TestSystem::start_with(Setup {
            backend,
            typing_delay: Duration::from_millis(2),
            ..Setup::default()
        })
        .await;
        let (_replica, other) = system.another_song_producer().await;
        let calls = [system.songs.clone(), other.clone(), system.songs.clone(), other]
            .into_iter()
            .map(|mut client| {
                tokio::spawn(async move { make(&mut client, "alice", album_with_id("neon nights", ID)).await })
            })
            .collect::<Vec<_>>();
        let mut albums = Vec::new();
        for call in calls {
            albums.push(call.await.unwrap().expect("every repeat gets the album"));
        }
        assert!(albums.iter().all(|album| *album == albums[0]), "one album for all four");
        assert_eq!(system.song_producer_rows("albums").await, 1);
        assert_eq!(system.cover_designer_rows("covers").await, 1);
    }
}

/// A repeat is not charged: the budget holds one largest album, made once; its
/// repeat passes while a new album is refused, and another client's budget is whole.
#[tokio::test]
async fn a_repeat_costs_no_model_calls() {
    let one_album = NonZeroU32::new(song_producer::budget::LARGEST_REQUEST).unwrap();
    let system = TestSystem::start_with(Setup {
        budget: song_producer::budget::BudgetSettings {
            per_second: NonZeroU32::new(1).unwrap(),
            burst: one_album,
        },
        ..Setup::default()
    })
    .await;
    let mut songs = system.songs.clone();
    let largest = |id: &str| MakeMeSuperstarRequest {
        request_id: id.into(),
        ..album_request("synthwave", "neon nights", 10)
    };
    let first = make(&mut songs, "alice", largest(ID)).await.unwrap();
    let again = make(&mut songs, "alice", largest(ID)).await.unwrap();
    assert_eq!(again, first);
    let refused = make(
        &mut songs,
        "alice",
        largest("6f1c6a5e-8a3b-4f57-9d0e-1b2c3d4e5f60"),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    let bobs = make(&mut songs, "bob", largest(ID)).await.unwrap();
    assert_ne!(
        bobs.id, first.id,
        "bob's id is his own, and so is his budget"
    );
}

#[tokio::test]
async fn compile_album_takes_the_first_ideas_request_id() {
    let system = TestSystem::start().await;
    let idea = |theme: &str, id: &str| SongIdea {
        genre: "jazz".into(),
        theme: theme.into(),
        request_id: id.into(),
    };
    let compile = |ideas: Vec<SongIdea>| {
        let mut songs = system.songs.clone();
        async move {
            songs
                .compile_album(as_client("alice", tokio_stream::iter(ideas)))
                .await
                .map(tonic::Response::into_inner)
        }
    };
    let first = compile(vec![idea("rain", ID), idea("sun", "")])
        .await
        .unwrap();
    let again = compile(vec![idea("rain", ID), idea("sun", ID)])
        .await
        .unwrap();
    assert_eq!(
        again, first,
        "later ideas may repeat the id or leave it out"
    );
    let refused = compile(vec![idea("rain", ID), idea("snow", "")])
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        Code::InvalidArgument,
        "other ideas, same id"
    );
    assert!(refused.message().starts_with("request_id: "));
    let refused = compile(vec![
        idea("rain", ID),
        idea("sun", "6f1c6a5e-8a3b-4f57-9d0e-1b2c3d4e5f60"),
    ])
    .await
    .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("idea 2"),
        "{}",
        refused.message()
    );
    assert_eq!(system.song_producer_rows("albums").await, 1);
}

on_both_backends! {
    async fn design_cover_takes_a_request_id(backend: Backend) {
        let system = TestSystem::start_on(backend).await;
        let design = |description: &str, id: &str| {
            let mut covers = system.covers.clone();
            let request = DesignCoverRequest {
                description: description.into(),
                request_id: id.into(),
                ..Default::default()
            };
            async move { covers.design_cover(as_client("alice", request)).await.map(tonic::Response::into_inner) }
        };
        let first = design("a neon skyline", ID).await.unwrap();
        let again = design("a neon skyline", ID).await.unwrap();
        assert_eq!(again, first);
        assert_eq!(system.cover_designer_rows("covers").await, 1);
        let refused = design("a rainy street", ID).await.unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument);
        assert!(refused.message().starts_with("request_id: "));
        let without = design("a neon skyline", "").await.unwrap();
        assert_ne!(without.id, first.id, "without an id every request is new");
        assert_eq!(system.cover_designer_rows("covers").await, 2);
    }
}

on_both_backends! {
    /// Ids older than a day are swept in the background (at start, then every ten
    /// minutes), in batches, off every request's path: more than one batch here. A
    /// running attempt's id is kept while its lease holds, and so is a young one.
    async fn old_request_ids_are_swept_in_the_background(backend: Backend) {
        use sqlx::Connection;
        use superstar_server::storage::{db::now_micros, idempotency::KEPT_FOR};

        let system = TestSystem::start_on(backend).await;
        let now = now_micros();
        let day_ago = now - KEPT_FOR.as_micros() as i64 - 1_000_000;
        let mut connection = system.song_producer_connection().await;
        let mut tx = connection.begin().await.unwrap();
        let rows = (0..1_201)
            .map(|i| (format!("old-{i}"), "done", day_ago))
            .chain([("leased".to_owned(), "running", day_ago), (ID.to_owned(), "done", now)]);
        for (id, state, created) in rows {
            sqlx::query(
                "INSERT INTO request_ids (client, request_id, fingerprint, state, owner, lease_until, response, create_time) \
                 VALUES ('alice', $1, $2, $3, 'someone', $4, NULL, $5)",
            )
            .bind(id)
            .bind(Vec::<u8>::new())
            .bind(state)
            .bind(now + 3_600_000_000)
            .bind(created)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        drop(connection);

        let system = system.restart().await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while system.song_producer_rows("request_ids").await > 2 {
            assert!(tokio::time::Instant::now() < deadline, "never swept");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut connection = system.song_producer_connection().await;
        let mut kept: Vec<String> = sqlx::query_scalar("SELECT request_id FROM request_ids")
            .fetch_all(&mut connection)
            .await
            .unwrap();
        kept.sort();
        assert_eq!(kept, [ID, "leased"]);
    }
}
