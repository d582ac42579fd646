//! Connecting to the database and migrating it.
//!
//! A service's `DATABASE_URL` names SQLite (`sqlite://data/songs.db`, the default, a
//! file created on first start) or PostgreSQL (`postgres://…`, for several replicas).
//! The stores use sqlx's `Any` driver with SQL both engines accept (`$1` placeholders,
//! `BIGINT` microsecond timestamps), so each query is written once. Only the schema
//! differs (`BLOB` against `BYTEA`), so each service keeps one migration folder per
//! engine and [`connect`] runs the one that matches.
//!
//! Replicas may start together on one database (`docker compose up --scale`), so
//! migrating takes a lock: on PostgreSQL sqlx's own advisory lock, on SQLite (whose
//! migrator takes none) an exclusive file lock beside the database file.
//!
//! SQLite lets one writer in at a time. Left to SQLite, concurrent writers each begin a
//! transaction and then sleep in its busy handler (1, 2, 5 … 100 ms steps) until the
//! file is free: the slow tail of every write. So a [`Database`] on SQLite has two
//! pools: writes queue for its one connection, in the order they came, while reads run
//! beside them on the others (WAL: readers never wait for the writer). The busy timeout
//! stays for writers of other processes on the same file (replicas sharing a volume).
//! `synchronous=NORMAL`, SQLite's advice for WAL: a commit survives the process
//! crashing; only the last commits may be lost if the machine loses power. PostgreSQL
//! queues writers itself: both pools are one.

use std::{path::Path, str::FromStr, time::Duration};

use sqlx::{
    AnyPool, Executor,
    any::{AnyConnectOptions, AnyPoolOptions},
    migrate::Migrator,
};

/// The two schemas of a service.
pub struct Migrations {
    /// For SQLite.
    pub sqlite: &'static Migrator,
    /// For PostgreSQL.
    pub postgres: &'static Migrator,
}

/// Why the database cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL names neither SQLite nor PostgreSQL.
    #[error("DATABASE_URL: unsupported scheme (use sqlite:// or postgres://)")]
    Scheme,
    /// The folder for a SQLite file cannot be made.
    #[error("DATABASE_URL: cannot create {folder}: {source}")]
    Folder {
        /// The folder.
        folder: String,
        /// Why.
        source: std::io::Error,
    },
    /// Connecting failed.
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// A migration failed.
    #[error("cannot migrate the database: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// The SQLite migration lock cannot be taken.
    #[error("DATABASE_URL: cannot lock {path} to migrate: {source}")]
    Lock {
        /// The lock file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A service's database: the pool reads use, and the one writes queue on.
#[derive(Debug, Clone)]
pub struct Database {
    reads: AnyPool,
    writes: AnyPool,
}

impl Database {
    /// Where reads go: several connections.
    pub fn reads(&self) -> &AnyPool {
        &self.reads
    }

    /// Where writes and transactions that write go: on SQLite one connection, so
    /// writers wait their turn in the application instead of in SQLite's busy handler.
    pub fn writes(&self) -> &AnyPool {
        &self.writes
    }
}

/// Connections for reads on SQLite (and for everything on PostgreSQL).
const SQLITE_READERS: u32 = 8;
const POSTGRES_CONNECTIONS: u32 = 16;

/// Opens the database at `url` and brings its schema up to date.
pub async fn connect(url: &str, migrations: &Migrations) -> Result<Database, DbError> {
    sqlx::any::install_default_drivers();
    let is_sqlite = url.starts_with("sqlite:");
    let sqlite_file = is_sqlite.then(|| sqlite_path(url)).flatten();
    let (url, migrator) = if is_sqlite {
        (sqlite_url(url)?, migrations.sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        (url.to_owned(), migrations.postgres)
    } else {
        return Err(DbError::Scheme);
    };
    let options = AnyConnectOptions::from_str(&url).map_err(DbError::Connect)?;
    let database = if is_sqlite && sqlite_file.is_none() {
        // In memory, each connection would be a database of its own: one for all.
        let pool = pool(&options, 1, true).await?;
        Database {
            reads: pool.clone(),
            writes: pool,
        }
    } else if is_sqlite {
        Database {
            reads: pool(&options, SQLITE_READERS, true).await?,
            writes: pool(&options, 1, true).await?,
        }
    } else {
        let pool = pool(&options, POSTGRES_CONNECTIONS, false).await?;
        Database {
            reads: pool.clone(),
            writes: pool,
        }
    };
    let _lock = match sqlite_file {
        Some(file) => Some(lock_for_migrating(file).await?),
        None => None,
    };
    migrator
        .run(database.writes())
        .await
        .map_err(DbError::Migrate)?;
    Ok(database)
}

/// How every SQLite connection is set up:
/// - WAL lets readers run while a writer commits; NORMAL is durable in WAL but for a
///   power loss (see the module).
/// - The WAL is checkpointed into the database every 1,000 pages (SQLite's default, said
///   out loud) and cut back to 64 MiB after a checkpoint: cover images are MBs each, and
///   without a limit the file keeps its largest size for ever.
/// - The busy timeout makes a writer of another process (replicas sharing a volume) wait
///   up to 5 s instead of failing. sqlx runs each SQLite connection on a thread of its
///   own, so that wait never holds a runtime thread, and a caller whose deadline passes
///   stops waiting for it.
/// - SQLite leaves foreign keys off unless asked.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
    PRAGMA wal_autocheckpoint = 1000; PRAGMA journal_size_limit = 67108864; \
    PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;";

/// A pool of up to `connections`, set up for SQLite when `is_sqlite`.
async fn pool(
    options: &AnyConnectOptions,
    connections: u32,
    is_sqlite: bool,
) -> Result<AnyPool, DbError> {
    AnyPoolOptions::new()
        .max_connections(connections)
        // sqlx pings a connection before lending it out. A SQLite connection is a file
        // handle in this process that cannot go away, and each ping is a round trip to
        // its worker thread (two context switches): a quarter of an album's database
        // work. PostgreSQL connections cross a network and may be cut: they are tested.
        .test_before_acquire(!is_sqlite)
        // A write waits behind the writes queued before it; at the stores' speed that
        // is milliseconds, so this bound is only reached when the database is stuck.
        .acquire_timeout(Duration::from_secs(5))
        .after_connect(move |connection, _| {
            Box::pin(async move {
                if is_sqlite {
                    connection.execute(SQLITE_PRAGMAS).await?;
                }
                Ok(())
            })
        })
        .connect_with(options.clone())
        .await
        .map_err(DbError::Connect)
}

/// The file a SQLite URL names, or `None` for an in-memory database.
fn sqlite_path(url: &str) -> Option<&Path> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:" && !url.contains("mode=memory"))
        .then(|| Path::new(path))
}

/// Waits for an exclusive lock on `<database>.migrations.lock` and returns it; the lock
/// is released when the file is dropped. sqlx's SQLite migrator takes no lock, so two
/// processes starting on a fresh file would both apply the first migration and one
/// would fail ("table already exists"). An advisory file lock (flock) is held by the
/// kernel, so it also works between containers that mount the same folder, and it is
/// released if the process dies.
async fn lock_for_migrating(database: &Path) -> Result<std::fs::File, DbError> {
    let mut path = database.as_os_str().to_owned();
    path.push(".migrations.lock");
    let path = std::path::PathBuf::from(path);
    let fail = |source| DbError::Lock {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(fail)?;
    tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .expect("the lock task does not panic")
        .map_err(fail)
}

/// Makes sure the SQLite file can be created: its folder exists, and the URL asks for
/// read-write-create unless it says otherwise.
fn sqlite_url(url: &str) -> Result<String, DbError> {
    let folder = sqlite_path(url)
        .and_then(Path::parent)
        .filter(|folder| !folder.as_os_str().is_empty());
    if let Some(folder) = folder {
        std::fs::create_dir_all(folder).map_err(|source| DbError::Folder {
            folder: folder.display().to_string(),
            source,
        })?;
    }
    Ok(if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

/// Microseconds since the Unix epoch, as the stores keep time.
pub fn now_micros() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(now.as_micros()).expect("microseconds fit in i64 until the year 294247")
}

/// A stored time as a protobuf timestamp.
pub fn timestamp(micros: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1000) as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_create_their_file() {
        let dir = std::env::temp_dir().join(format!("superstar-db-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}/nested/songs.db", dir.display());
        assert_eq!(sqlite_url(&url).unwrap(), format!("{url}?mode=rwc"));
        assert!(dir.join("nested").is_dir());
        std::fs::remove_dir_all(dir).unwrap();
        assert_eq!(
            sqlite_url("sqlite::memory:?mode=memory").unwrap(),
            "sqlite::memory:?mode=memory"
        );
    }

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
        assert_eq!(
            database.reads().options().get_max_connections(),
            SQLITE_READERS
        );
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
}
