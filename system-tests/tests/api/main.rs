//! Black-box tests of both services. Each test starts its own system (see
//! `superstar_system_tests::TestSystem`) and speaks to it over mTLS like a client.
//!
//! The storage tests run on SQLite and, with `--include-ignored` and a server named by
//! `SUPERSTAR_TEST_POSTGRES_URL` (as `bin/test` does), on PostgreSQL too.

mod album_progress;
mod albums;
mod covers;
mod errors;
mod jam;
mod limits;
mod openai;
mod operations;
mod orphans;
mod postgres_tls;
mod request_ids;
mod songs;
mod transport;

use superstar_proto::v1::{MakeMeSuperstarRequest, Song};

/// A `MakeMeSuperstar` request.
fn album_request(genre: &str, theme: &str, songs_count: i32) -> MakeMeSuperstarRequest {
    MakeMeSuperstarRequest {
        genre: genre.into(),
        theme: theme.into(),
        songs_count,
        cover_description: String::new(),
        ..Default::default()
    }
}

/// `message` as `client`, as the gateway forwards it.
fn as_client<T>(client: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("x-superstar-client", client.parse().unwrap());
    request
}

/// The song in the lyricists' text format, as Jam deltas spell it.
fn song_text(song: &Song) -> String {
    format!("Title: {}\n\n{}", song.title, song.lyrics)
}

/// Defines a test that runs on SQLite, and on PostgreSQL when asked for.
macro_rules! on_both_backends {
    ($(#[$meta:meta])* async fn $name:ident($backend:ident: Backend) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use superstar_system_tests::Backend;

            async fn test($backend: Backend) $body

            #[tokio::test]
            async fn sqlite() {
                test(Backend::Sqlite).await
            }

            #[tokio::test]
            #[ignore = "needs PostgreSQL: bin/test starts one and runs this"]
            async fn postgres() {
                test(Backend::Postgres).await
            }
        }
    };
}
pub(crate) use on_both_backends;
