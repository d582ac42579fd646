//! Connecting to the database and migrating it.
//!
//! A service's `DATABASE_URL` names SQLite (`sqlite://data/songs.db`, the default, a
//! file created on first start) or PostgreSQL (`postgres://…`, for several replicas).
//! The stores use sqlx's `Any` driver with SQL both engines accept (`$1` placeholders,
//! `BIGINT` microsecond timestamps), so each query is written once. Only the schema
//! differs (`BLOB` against `BYTEA`), so each service keeps one migration folder per
//! engine and [`connect`] runs the one that matches.

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
}

/// Opens a pool on `url` and brings its schema up to date.
pub async fn connect(url: &str, migrations: &Migrations) -> Result<AnyPool, DbError> {
    sqlx::any::install_default_drivers();
    let is_sqlite = url.starts_with("sqlite:");
    let (url, migrator) = if is_sqlite {
        (sqlite_url(url)?, migrations.sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        (url.to_owned(), migrations.postgres)
    } else {
        return Err(DbError::Scheme);
    };
    let options = AnyConnectOptions::from_str(&url).map_err(DbError::Connect)?;
    let pool = AnyPoolOptions::new()
        .max_connections(if is_sqlite { 8 } else { 16 })
        .acquire_timeout(Duration::from_secs(5))
        .after_connect(move |connection, _| {
            Box::pin(async move {
                if is_sqlite {
                    // WAL lets readers run while a writer commits; the busy timeout makes a
                    // second writer wait instead of failing; SQLite leaves foreign keys off
                    // unless asked.
                    connection
                        .execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
                        .await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .map_err(DbError::Connect)?;
    migrator.run(&pool).await.map_err(DbError::Migrate)?;
    Ok(pool)
}

/// Makes sure the SQLite file can be created: its folder exists, and the URL asks for
/// read-write-create unless it says otherwise.
fn sqlite_url(url: &str) -> Result<String, DbError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or_default();
    let folder = Path::new(path)
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty());
    if let Some(folder) = folder.filter(|_| path != ":memory:") {
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

    #[test]
    fn timestamps_keep_microseconds() {
        let stamp = timestamp(1_700_000_000_123_456);
        assert_eq!((stamp.seconds, stamp.nanos), (1_700_000_000, 123_456_000));
    }
}
