//! The database as the stores use it: SQLite's writers queued on one connection while
//! reads run beside them, replicas sharing a file, migrations run once.

use std::{path::Path, time::Duration};

use sqlx::migrate::Migrator;
use superstar_server::storage::db::{Database, Migrations, connect, timestamp};

/// Replicas that start together on one fresh SQLite file (compose's
/// `--scale song-producer=2`) must not both apply the first migration.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_starting_together_migrate_once() {
    let dir = std::env::temp_dir().join(format!("superstar-db-{}", uuid::Uuid::new_v4()));
    let migrations = one_migration(
        &dir,
        "CREATE TABLE songs (id TEXT PRIMARY KEY);\nCREATE TABLE albums (id TEXT PRIMARY KEY);",
    )
    .await;
    for round in 0..5 {
        let url = format!("sqlite://{}/round-{round}.db", dir.display());
        let replicas: Vec<_> = (0..6)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { connect(&url, migrations).await.map(|_| ()) })
            })
            .collect();
        for replica in replicas {
            replica.await.unwrap().expect("every replica starts");
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// A SQLite URL creates its file, and the folders it is in, read-write unless it says
/// otherwise; an in-memory one keeps its mode.
#[tokio::test]
async fn a_sqlite_url_creates_its_file_and_folders() {
    let dir = std::env::temp_dir().join(format!("superstar-db-{}", uuid::Uuid::new_v4()));
    let migrations = one_migration(&dir, "CREATE TABLE notes (id INTEGER PRIMARY KEY);").await;
    let file = dir.join("nested/deeper/songs.db");
    connect(&format!("sqlite://{}", file.display()), migrations)
        .await
        .expect("the folders are made");
    assert!(file.is_file());
    connect("sqlite::memory:?mode=memory", migrations)
        .await
        .expect("memory stays memory");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Migrations of one step, `sql`, kept in `dir/migrations` (leaked: `connect` wants
/// them for the life of the program, as the services' are).
async fn one_migration(dir: &Path, sql: &str) -> &'static Migrations {
    let folder = dir.join("migrations");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("20260101000001_first.sql"), sql).unwrap();
    let migrator: &'static Migrator = Box::leak(Box::new(Migrator::new(folder).await.unwrap()));
    Box::leak(Box::new(Migrations {
        sqlite: migrator,
        postgres: migrator,
    }))
}

/// A fresh SQLite database with one table, `notes`.
async fn notes_database(dir: &Path) -> Database {
    let migrations = one_migration(
        dir,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);",
    )
    .await;
    connect(&format!("sqlite://{}/notes.db", dir.display()), migrations)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_writes_queue_on_one_connection_while_reads_run_beside_them() {
    let dir = tempfile::tempdir().unwrap();
    let database = notes_database(dir.path()).await;
    assert_eq!(database.writes().options().get_max_connections(), 1);
    assert!(database.reads().options().get_max_connections() > 1);
    for pool in [database.reads(), database.writes()] {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        // 1 is NORMAL (FULL, SQLite's default, is 2).
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(synchronous, 1);
        let limit: i64 = sqlx::query_scalar("PRAGMA journal_size_limit")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(limit, 64 << 20, "the WAL is cut back after a checkpoint");
    }

    // A write transaction holds the one writer: reads go on, the next write waits.
    let mut open = database.writes().begin().await.unwrap();
    sqlx::query("INSERT INTO notes (body) VALUES ('first')")
        .execute(&mut *open)
        .await
        .unwrap();
    let read = tokio::time::timeout(
        Duration::from_secs(2),
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM notes").fetch_one(database.reads()),
    )
    .await
    .expect("a read does not wait for the writer")
    .unwrap();
    assert_eq!(read, 0, "the open transaction is not visible");
    let queued = {
        let writes = database.writes().clone();
        tokio::spawn(async move {
            sqlx::query("INSERT INTO notes (body) VALUES ('second')")
                .execute(&writes)
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!queued.is_finished(), "the second write waits its turn");
    open.commit().await.unwrap();
    queued.await.unwrap().unwrap();

    // Many writers at once all commit, one after another, none refused as busy.
    let writers: Vec<_> = (0..64)
        .map(|n| {
            let writes = database.writes().clone();
            tokio::spawn(async move {
                let mut tx = writes.begin().await?;
                sqlx::query("INSERT INTO notes (body) VALUES ($1)")
                    .bind(format!("note {n}"))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap().expect("every writer commits");
    }
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notes")
        .fetch_one(database.reads())
        .await
        .unwrap();
    assert_eq!(count, 66);
}

/// Two processes on one file (replicas sharing a volume): a writer finding the file
/// locked by the other's transaction waits for it, off the runtime's threads, and
/// then writes; nothing is refused as busy. One worker: were the wait done on it,
/// no other task would run meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_writer_waits_for_another_process_writing_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let first = notes_database(dir.path()).await;
    let second = notes_database(dir.path()).await;
    let insert = "INSERT INTO notes (body) VALUES ('note')";
    let mut holding = first.writes().begin().await.unwrap();
    sqlx::query(insert).execute(&mut *holding).await.unwrap();
    let waiting = tokio::spawn(async move {
        sqlx::query(insert)
            .execute(second.writes())
            .await
            .map(|done| done.rows_affected())
    });
    // Meanwhile the runtime still runs other tasks.
    let ticks = tokio::spawn(async {
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    tokio::time::timeout(Duration::from_secs(2), ticks)
        .await
        .expect("the runtime keeps running tasks while a writer waits")
        .unwrap();
    assert!(!waiting.is_finished(), "the file is still locked");
    holding.commit().await.unwrap();
    assert_eq!(waiting.await.unwrap().unwrap(), 1);
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notes")
        .fetch_one(first.reads())
        .await
        .unwrap();
    assert_eq!(count, 2);
}

#[test]
fn timestamps_keep_microseconds() {
    let stamp = timestamp(1_700_000_000_123_456);
    assert_eq!((stamp.seconds, stamp.nanos), (1_700_000_000, 123_456_000));
}
