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
    now: &'static str,
}

/// The database's clock in SQL, as microseconds since the Unix epoch, for each engine.
/// Replicas' clocks disagree (an NTP step, a paused VM, a misconfigured host); the
/// database's is the one they share, so whatever replicas compare across (leases, the
/// model budget) is written and compared in it. One value per statement on both
/// engines: PostgreSQL's statement timestamp, SQLite's `'now'` (fixed for a statement).
/// SQLite's is the clock of the process running the statement, which on one machine
/// is the clock every process sharing the file reads.
const POSTGRES_NOW: &str = "CAST(EXTRACT(EPOCH FROM statement_timestamp()) * 1000000 AS BIGINT)";
const SQLITE_NOW: &str = "CAST(unixepoch('subsec') * 1000000 AS INTEGER)";

impl Database {
    /// The database's "now" as a SQL expression (see [`POSTGRES_NOW`]), to put in a
    /// statement's text wherever it compares or writes a time other replicas read.
    pub fn now(&self) -> &'static str {
        self.now
    }

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
            now: SQLITE_NOW,
        }
    } else if is_sqlite {
        Database {
            reads: pool(&options, SQLITE_READERS, true).await?,
            writes: pool(&options, 1, true).await?,
            now: SQLITE_NOW,
        }
    } else {
        let pool = pool(&options, POSTGRES_CONNECTIONS, false).await?;
        Database {
            reads: pool.clone(),
            writes: pool,
            now: POSTGRES_NOW,
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

/// Microseconds since the Unix epoch on this process's clock, as the stores keep time:
/// for times only shown (a resource's `create_time`); see [`Database::now`] for times
/// replicas compare.
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
