//! The services' databases over TLS: `postgres://…?sslmode=verify-full` against the
//! test server `bin/test` starts with a certificate of its own CA
//! (`SUPERSTAR_TEST_POSTGRES_CA`), through the same `db::connect` the services use.

use superstar_server::storage::db::{self, Database, DbError};
use superstar_testkit::{TestCa, scratch_postgres};

/// The CA that signed the test server's certificate.
fn server_ca() -> String {
    std::env::var("SUPERSTAR_TEST_POSTGRES_CA")
        .expect("SUPERSTAR_TEST_POSTGRES_CA is not set: run bin/test, which starts PostgreSQL")
}

/// `url` (on 127.0.0.1) by the name the server's certificate carries, with `query`.
fn by_name(url: &str, query: &str) -> String {
    format!("{}?{query}", url.replacen("@127.0.0.1:", "@localhost:", 1))
}

async fn connect(url: &str) -> Result<Database, DbError> {
    db::connect(url, &song_producer::store::MIGRATIONS).await
}

/// Whether this connection to the server is encrypted, as the server sees it.
async fn encrypted(database: &Database) -> bool {
    sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(database.reads())
        .await
        .unwrap()
}

#[tokio::test]
#[ignore = "needs PostgreSQL: bin/test starts one and runs this"]
async fn verify_full_checks_the_servers_certificate() {
    let url = scratch_postgres().await;

    let verified = connect(&by_name(
        &url,
        &format!("sslmode=verify-full&sslrootcert={}", server_ca()),
    ))
    .await
    .expect("the server's certificate verifies against its CA");
    assert!(encrypted(&verified).await);
    // The schema was migrated over it.
    let songs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM songs")
        .fetch_one(verified.reads())
        .await
        .unwrap();
    assert_eq!(songs, 0);

    // A root that did not sign the server's certificate is refused.
    let stranger = TestCa::new("not the server's CA");
    let refused = connect(&by_name(
        &url,
        &format!(
            "sslmode=verify-full&sslrootcert={}",
            stranger.ca_path().display()
        ),
    ))
    .await;
    assert!(
        matches!(refused, Err(DbError::Connect(_))),
        "{:?}",
        refused.map(|_| ())
    );

    // Plaintext stays possible, for local development.
    let plain = connect(&by_name(&url, "sslmode=disable")).await.unwrap();
    assert!(!encrypted(&plain).await);
}
