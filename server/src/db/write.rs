//! Writes, written once for both engines.
//!
//! A store says what to write as [`Statement`]s (SQL with `$1`, `$2` … placeholders
//! and their values) inside a [`WriteTx`], and commits it. On PostgreSQL the
//! transaction is sqlx's, on its pool. On a SQLite file it runs on the service's one
//! writing connection, opened with `rusqlite` and taken in turn through a FIFO lock,
//! and each statement runs on the caller's own thread.
//!
//! Why not sqlx for SQLite writes too: sqlx gives each SQLite connection a thread of
//! its own and sends it every statement, `BEGIN` and `COMMIT` as a message, with a
//! wake-up there and another back. An album's writes in both services took about a
//! dozen such round trips, and on two cores those context switches were two thirds of
//! the CPU the services spent per album (see docs/benchmark-notes.md). A statement
//! that inserts a row into a file the process already has open takes microseconds;
//! the caller runs it itself. What could block a thread for longer is kept off it:
//! the writer never checkpoints on commit (a passive checkpoint runs on a reading
//! connection, on sqlx's thread, every [`CHECKPOINT_EVERY`] commits), and waiting
//! for a writer of another process (replicas sharing a file) is done in
//! `block_in_place`, where the runtime moves its other tasks to another thread.

use std::{
    borrow::Cow,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
    time::Duration,
};

use rusqlite::{
    ErrorCode,
    types::{ToSqlOutput, ValueRef},
};
use sqlx::{Any, AnyPool, error::ErrorKind};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// How long a writer waits for another process's write transaction to end.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Commits between two passive checkpoints of the write-ahead log.
const CHECKPOINT_EVERY: u32 = 256;

/// A value bound to a statement's placeholder. `NULL` is a text one: PostgreSQL takes
/// a parameter's type from its value, and the nullable columns hold text.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An integer (`BIGINT`).
    Int(i64),
    /// Text, or `NULL`.
    Text(Option<String>),
    /// Bytes (`BLOB`, `BYTEA`).
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<i32> for Value {
    fn from(value: i32) -> Self {
        Self::Int(value.into())
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Self::Text(Some(value.to_owned()))
    }
}

impl From<&String> for Value {
    fn from(value: &String) -> Self {
        Self::Text(Some(value.clone()))
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Self::Text(Some(value))
    }
}

impl From<Option<&str>> for Value {
    fn from(value: Option<&str>) -> Self {
        Self::Text(value.map(str::to_owned))
    }
}

impl From<Vec<u8>> for Value {
    fn from(value: Vec<u8>) -> Self {
        Self::Blob(value)
    }
}

impl From<&[u8]> for Value {
    fn from(value: &[u8]) -> Self {
        Self::Blob(value.to_vec())
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Self::Int(value) => ValueRef::Integer(*value),
            Self::Text(Some(value)) => ValueRef::Text(value.as_bytes()),
            Self::Text(None) => ValueRef::Null,
            Self::Blob(value) => ValueRef::Blob(value),
        }))
    }
}

/// One SQL statement that both engines accept, with its values: `$1` takes the first
/// value bound, `$2` the second, in whatever order they appear in the SQL.
#[derive(Debug, Clone)]
pub struct Statement {
    sql: Cow<'static, str>,
    values: Vec<Value>,
}

impl Statement {
    /// The statement `sql`, with no values bound yet.
    pub fn new(sql: impl Into<Cow<'static, str>>) -> Self {
        Self {
            sql: sql.into(),
            values: Vec::new(),
        }
    }

    /// Binds the next placeholder.
    pub fn bind(mut self, value: impl Into<Value>) -> Self {
        self.values.push(value.into());
        self
    }

    pub(super) fn sqlx(&self) -> sqlx::query::Query<'_, Any, sqlx::any::AnyArguments<'_>> {
        self.values
            .iter()
            .fold(sqlx::query(&self.sql), |query, value| match value {
                Value::Int(value) => query.bind(*value),
                Value::Text(value) => query.bind(value.as_deref()),
                Value::Blob(value) => query.bind(value.as_slice()),
            })
    }

    /// Prepares it on `connection` (from its cache of prepared statements) with its
    /// values bound, by number: SQLite reads `$1` as a parameter named "$1".
    fn rusqlite<'c>(
        &self,
        connection: &'c rusqlite::Connection,
    ) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
        let mut prepared = connection.prepare_cached(&self.sql)?;
        if prepared.parameter_count() != self.values.len() {
            return Err(rusqlite::Error::InvalidParameterCount(
                self.values.len(),
                prepared.parameter_count(),
            ));
        }
        for (number, value) in self.values.iter().enumerate() {
            let name = format!("${}", number + 1);
            let index = prepared
                .parameter_index(&name)?
                .ok_or_else(|| rusqlite::Error::InvalidParameterName(name))?;
            prepared.raw_bind_parameter(index, value)?;
        }
        Ok(prepared)
    }
}

/// The one writing connection of a SQLite file.
#[derive(Debug)]
pub(super) struct SqliteWriter {
    connection: Arc<Mutex<rusqlite::Connection>>,
    /// Where passive checkpoints run: a reading connection, on sqlx's thread.
    reads: AnyPool,
    commits: AtomicU32,
    checkpointing: Arc<AtomicBool>,
}

impl SqliteWriter {
    /// Opens `path` for writing (the schema is already migrated).
    pub(super) fn open(path: &std::path::Path, reads: AnyPool) -> rusqlite::Result<Self> {
        let connection = rusqlite::Connection::open(path)?;
        // As sqlx's connections are, but for checkpoints (see above).
        connection.execute_batch(&format!(
            "{} PRAGMA wal_autocheckpoint = 0;",
            super::SQLITE_PRAGMAS
        ))?;
        connection.busy_timeout(Duration::ZERO)?;
        connection.set_prepared_statement_cache_capacity(64);
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
            reads,
            commits: AtomicU32::new(0),
            checkpointing: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Waits for the connection (writers take it in the order they asked) and begins
    /// a write transaction on it.
    pub(super) async fn begin(self: &Arc<Self>) -> Result<WriteTx, sqlx::Error> {
        let connection = self.connection.clone().lock_owned().await;
        begin_immediate(&connection).map_err(sqlite_error)?;
        Ok(WriteTx(Inner::Sqlite(SqliteTx {
            connection,
            writer: self.clone(),
            open: true,
        })))
    }

    /// Counts a commit, and starts a passive checkpoint every [`CHECKPOINT_EVERY`].
    fn committed(&self) {
        if self.commits.fetch_add(1, Ordering::Relaxed) + 1 < CHECKPOINT_EVERY
            || self.checkpointing.swap(true, Ordering::AcqRel)
        {
            return;
        }
        self.commits.store(0, Ordering::Relaxed);
        let (reads, checkpointing) = (self.reads.clone(), self.checkpointing.clone());
        tokio::spawn(async move {
            if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&reads)
                .await
            {
                tracing::warn!(%error, "checkpointing the write-ahead log failed");
            }
            checkpointing.store(false, Ordering::Release);
        });
    }
}

/// `BEGIN IMMEDIATE`, which takes the file's write lock at once. It is free unless
/// another process writes to the same file; then the wait is done where the runtime
/// can spare the thread.
fn begin_immediate(connection: &rusqlite::Connection) -> rusqlite::Result<()> {
    match connection.execute_batch("BEGIN IMMEDIATE") {
        Err(error) if error.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) => {
            blocking(|| {
                connection.busy_timeout(BUSY_TIMEOUT)?;
                let begun = connection.execute_batch("BEGIN IMMEDIATE");
                connection.busy_timeout(Duration::ZERO)?;
                begun
            })
        }
        begun => begun,
    }
}

/// Runs `work`, which may block, telling a multi-threaded runtime first.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|runtime| runtime.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

/// A write transaction. Dropped without [`WriteTx::commit`], it rolls back.
#[derive(Debug)]
pub struct WriteTx(Inner);

#[derive(Debug)]
enum Inner {
    Sqlite(SqliteTx),
    Pool(sqlx::Transaction<'static, Any>),
}

/// A transaction on the SQLite writer, holding it until committed or dropped.
#[derive(Debug)]
struct SqliteTx {
    connection: OwnedMutexGuard<rusqlite::Connection>,
    writer: Arc<SqliteWriter>,
    open: bool,
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        // Before the next writer takes the connection. (sqlx's transactions roll
        // themselves back.)
        if self.open
            && !self.connection.is_autocommit()
            && let Err(error) = self.connection.execute_batch("ROLLBACK")
        {
            tracing::warn!(%error, "rolling back a write failed");
        }
    }
}

impl WriteTx {
    /// Begins a transaction on `pool` (PostgreSQL, or an in-memory SQLite database).
    pub(super) async fn on_pool(pool: &AnyPool) -> Result<Self, sqlx::Error> {
        Ok(Self(Inner::Pool(pool.begin().await?)))
    }

    /// Runs `statement`; returns how many rows it changed.
    pub async fn execute(&mut self, statement: &Statement) -> Result<u64, sqlx::Error> {
        match &mut self.0 {
            Inner::Sqlite(tx) => statement
                .rusqlite(&tx.connection)
                .and_then(|mut prepared| prepared.raw_execute())
                .map(|changed| changed as u64)
                .map_err(sqlite_error),
            Inner::Pool(tx) => Ok(statement.sqlx().execute(&mut **tx).await?.rows_affected()),
        }
    }

    /// Runs `statement` (one `RETURNING` a `BLOB` column) and returns the first row's
    /// first column: `None` when no row came back.
    pub async fn fetch_blob(
        &mut self,
        statement: &Statement,
    ) -> Result<Option<Option<Vec<u8>>>, sqlx::Error> {
        match &mut self.0 {
            Inner::Sqlite(tx) => {
                let mut prepared = statement.rusqlite(&tx.connection).map_err(sqlite_error)?;
                let mut rows = prepared.raw_query();
                let first = match rows.next().map_err(sqlite_error)? {
                    Some(row) => Some(row.get(0).map_err(sqlite_error)?),
                    None => None,
                };
                // To the end: SQLite applies a statement as it is stepped through.
                while rows.next().map_err(sqlite_error)?.is_some() {}
                Ok(first)
            }
            Inner::Pool(tx) => {
                use sqlx::Row;
                let row = statement.sqlx().fetch_optional(&mut **tx).await?;
                row.map(|row| row.try_get(0)).transpose()
            }
        }
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.0 {
            Inner::Sqlite(mut tx) => {
                if let Err(error) = tx.connection.execute_batch("COMMIT") {
                    // The drop rolls back what a failed COMMIT may leave open.
                    return Err(sqlite_error(error));
                }
                tx.open = false;
                tx.writer.committed();
                Ok(())
            }
            Inner::Pool(tx) => tx.commit().await,
        }
    }
}

/// A SQLite error, as the stores' sqlx errors are.
fn sqlite_error(error: rusqlite::Error) -> sqlx::Error {
    sqlx::Error::Database(Box::new(SqliteError {
        message: match &error {
            rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
            other => other.to_string(),
        },
        source: error,
    }))
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct SqliteError {
    message: String,
    #[source]
    source: rusqlite::Error,
}

impl sqlx::error::DatabaseError for SqliteError {
    fn message(&self) -> &str {
        &self.message
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        use rusqlite::ffi;
        match self
            .source
            .sqlite_error()
            .map(|failure| failure.extended_code)
        {
            Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => {
                ErrorKind::UniqueViolation
            }
            Some(ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => ErrorKind::ForeignKeyViolation,
            Some(ffi::SQLITE_CONSTRAINT_NOTNULL) => ErrorKind::NotNullViolation,
            Some(ffi::SQLITE_CONSTRAINT_CHECK) => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}
