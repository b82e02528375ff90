//! Storage: the SQLite | PostgreSQL connection enum, its pool, embedded migrations, and one module
//! per aggregate. Backend differences live here and in `bulk`, as `match` arms, nowhere else.

/// Runs one diesel statement on whichever backend `conn` is, for what diesel's multi-backend
/// cannot express itself (multi-row INSERTs, ON CONFLICT). The body is compiled once per backend.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::AnyConnection::Postgresql($c) => $body,
            $crate::db::AnyConnection::Sqlite($c) => $body,
        }
    };
}

pub mod activity;
pub mod audit;
pub mod batches;
pub mod bulk;
pub mod calendar;
pub mod claims;
pub mod followup;
pub mod orgs;
pub mod outbox;
pub mod packages;
pub mod partition;
pub mod read_log;
pub mod records;
pub mod reference;
pub mod schema;
pub mod summary;
pub mod unemployment;
pub mod users;
pub mod words;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::time::Duration;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend; diesel's DSL queries run on it unchanged.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// Which backend a database URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://` and `postgresql://` are PostgreSQL; anything else is a SQLite file path
    /// (an optional `sqlite://` prefix is removed).
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl AnyConnection {
    pub fn backend(&self) -> Backend {
        match self {
            AnyConnection::Postgresql(_) => Backend::Postgres,
            AnyConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Storage failures, with the backend's own message kept (a wrong password must read as one).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("database migration failed: {0}")]
    Migrate(String),
    #[error("database pool: {0}")]
    Pool(String),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// Opens one connection of the backend the URL names, calling that backend's own `establish`
/// so that its real error reaches the operator.
pub fn establish(url: &str, sqlite_busy_timeout: Duration) -> Result<AnyConnection, DbError> {
    match Backend::of_url(url) {
        Backend::Postgres => PgConnection::establish(url)
            .map(AnyConnection::Postgresql)
            .map_err(|e| DbError::Connect(e.to_string())),
        Backend::Sqlite => {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            let mut conn =
                SqliteConnection::establish(path).map_err(|e| DbError::Connect(e.to_string()))?;
            // WAL lets readers go on while a batch is written; NORMAL sync is safe with WAL
            // (a crash loses at most the last commit, never corrupts); the busy timeout makes a
            // second writer wait for the first instead of failing, and goes first because
            // switching to WAL needs a lock another connection may hold for a moment.
            conn.batch_execute(&format!(
                "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536;",
                sqlite_busy_timeout.as_millis()
            ))
            .map_err(|e| DbError::Connect(e.to_string()))?;
            Ok(AnyConnection::Sqlite(conn))
        }
    }
}

/// Applies the embedded migrations of the connection's backend; returns how many ran.
pub fn migrate(conn: &mut AnyConnection) -> Result<usize, DbError> {
    let applied = match conn {
        AnyConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
    }
    .map_err(|e| DbError::Migrate(e.to_string()))?;
    Ok(applied.len())
}

/// Whether this binary carries migrations the database has not applied (readiness: a node must
/// not take traffic against a schema older than its code).
pub fn has_pending_migrations(conn: &mut AnyConnection) -> Result<bool, DbError> {
    match conn {
        AnyConnection::Postgresql(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
        AnyConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
    }
    .map_err(|e| DbError::Migrate(e.to_string()))
}

/// Runs `f` in a transaction that holds the write lock from its first statement. On SQLite a
/// transaction that reads and then writes can fail to upgrade its lock (SQLITE_BUSY, without
/// waiting) when another writer got in between; taking the lock first makes it wait instead.
/// PostgreSQL needs nothing: its row locks do the work.
pub fn write_transaction<T, E>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    conn.transaction(|conn| {
        if conn.backend() == Backend::Sqlite {
            diesel::sql_query("UPDATE write_lock SET n = n + 1 WHERE id = 1").execute(conn)?;
        }
        f(conn)
    })
}

/// r2d2 manager that establishes by URL scheme (see [`establish`]).
#[derive(Clone, Debug)]
pub struct Manager {
    url: String,
    busy_timeout: Duration,
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = DbError;

    fn connect(&self) -> Result<AnyConnection, DbError> {
        establish(&self.url, self.busy_timeout)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), DbError> {
        conn.batch_execute("SELECT 1").map_err(DbError::Query)
    }

    fn has_broken(&self, _conn: &mut AnyConnection) -> bool {
        false
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConnection = r2d2::PooledConnection<Manager>;

/// The database handle the services use: a pool, and the backend it speaks.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    backend: Backend,
    url: String,
    reads: std::sync::Arc<read_log::ReadLog>,
}

impl Db {
    /// Connects, migrates, and loads the reference fixtures on first start.
    pub fn open(url: &str, pool_size: u32, busy_timeout: Duration) -> Result<Db, DbError> {
        let backend = Backend::of_url(url);
        // One SQLite writer at a time anyway; a big pool only adds lock waits.
        let size = match backend {
            Backend::Sqlite => pool_size.clamp(1, 8),
            Backend::Postgres => pool_size.max(1),
        };
        let manager = Manager {
            url: url.to_string(),
            busy_timeout,
        };
        // Fail fast with the backend's own message instead of r2d2's generic timeout.
        let mut first = manager.connect()?;
        migrate(&mut first)?;
        reference::seed_if_empty(&mut first)?;
        calendar::seed_if_empty(&mut first)?;
        let table = reference::load_table(&mut first)?;
        orgs::sync_with_divisions(&mut first, &table)?;
        drop(first);
        let pool = r2d2::Pool::builder()
            .max_size(size)
            // Connections open on demand only. r2d2 opens every connection in its own threads;
            // with a minimum of idle ones it keeps refilling there, and a short command would
            // often end while one was inside libpq (19 crashes at exit in 60 runs). The few
            // still opened on demand at a command's end are cut off by `cli::exit`.
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(30))
            .build(manager)
            .map_err(|e| DbError::Pool(e.to_string()))?;
        Ok(Db {
            pool,
            backend,
            url: url.to_string(),
            reads: Default::default(),
        })
    }

    pub fn conn(&self) -> Result<PooledConnection, DbError> {
        self.pool.get().map_err(|e| DbError::Pool(e.to_string()))
    }

    /// A connection, or an error once `timeout` has passed (a health probe must answer before
    /// its prober gives up, not after the pool's 30 seconds).
    pub fn conn_within(&self, timeout: Duration) -> Result<PooledConnection, DbError> {
        self.pool
            .get_timeout(timeout)
            .map_err(|e| DbError::Pool(e.to_string()))
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Where the audit events of reads are written (by group commit; see [`read_log`]).
    pub fn read_log(&self) -> &read_log::ReadLog {
        &self.reads
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}
