//! Storage: sqlx over SQLite (the embedded default) or PostgreSQL (to scale out), chosen by
//! `DATABASE_URL`'s scheme.
//!
//! Both run the same portable SQL through sqlx's `Any` driver, so one set of queries and one
//! migration directory serve both, and the same test suite runs against each.

/// Installation queries: install, upgrade, uninstall, purge.
pub mod installations;
/// Outbox queries: Jira property writes that are due.
pub mod outbox;
/// Task queries.
pub mod tasks;

use std::{
    collections::HashSet,
    path::Path,
    str::FromStr,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use anyhow::Context as _;
use sqlx::{
    any::{install_default_drivers, AnyPoolOptions},
    AnyPool, Connection as _, Executor, Row as _,
};

/// Migrations embedded at compile time and run at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// SQLite serialises writers anyway; a few readers suffice with WAL. Each sqlx SQLite
/// connection is a thread of its own.
pub const DEFAULT_SQLITE_CONNECTIONS: u32 = 8;

/// Per server instance; PostgreSQL's own `max_connections` bounds all instances together.
pub const DEFAULT_POSTGRES_CONNECTIONS: u32 = 16;

/// A connection idle for this long is pinged before it is handed out again.
pub const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// A connection pool to either database.
#[derive(Clone, Debug)]
pub struct Database {
    pool: AnyPool,
    backend: Backend,
    /// (installation, team) pairs with rows from before team lists had a space, read at start;
    /// see [`Database::claim_unscoped_team`].
    unscoped_teams: Arc<Mutex<HashSet<(String, String)>>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Database {
    /// Connects, creating the SQLite file (and its directory) if needed, then migrates.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Self::connect_with(url, None).await
    }

    /// Like [`Database::connect`], with at most `max_connections` in the pool instead of the
    /// backend's default ([`DEFAULT_SQLITE_CONNECTIONS`], [`DEFAULT_POSTGRES_CONNECTIONS`]).
    pub async fn connect_with(url: &str, max_connections: Option<u32>) -> anyhow::Result<Self> {
        install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite: or postgres://");
        };

        let options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(5))
            // sqlx pings every connection it hands out by default: one more round trip per
            // query, to SQLite's worker thread or to PostgreSQL. Ping only a connection that has
            // been idle a while, as HikariCP does: one in use a moment ago is known to work, and
            // a failed ping drops the connection and acquires another, as before.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_WHEN_IDLE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            });
        let pool = match backend {
            Backend::Sqlite => {
                let url = sqlite_url(url)?;
                options
                    .max_connections(max_connections.unwrap_or(DEFAULT_SQLITE_CONNECTIONS))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // WAL: readers never wait for the writer. NORMAL is durable in WAL mode
                            // except for the last commits before a power cut.
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            conn.execute("PRAGMA busy_timeout = 5000").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await
            }
            Backend::Postgres => {
                options
                    .max_connections(max_connections.unwrap_or(DEFAULT_POSTGRES_CONNECTIONS))
                    .connect(url)
                    .await
            }
        }
        .with_context(|| format!("connecting to the {backend:?} database"))?;

        MIGRATOR
            .run(&pool)
            .await
            .context("running database migrations")?;
        let unscoped = sqlx::query(
            "SELECT DISTINCT installation_id, scope_key FROM tasks WHERE scope_kind = 'team' AND space_id = ''",
        )
        .fetch_all(&pool)
        .await
        .context("reading team lists without a space")?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<HashSet<(String, String)>, sqlx::Error>>()?;
        Ok(Self {
            pool,
            backend,
            unscoped_teams: Arc::new(Mutex::new(unscoped)),
        })
    }

    fn unscoped_teams(&self) -> MutexGuard<'_, HashSet<(String, String)>> {
        self.unscoped_teams
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// One round trip to the database (`SELECT 1`): what `/readyz` asks before saying ready.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        self.pool.execute("SELECT 1").await.map(drop)
    }

    /// Every connection the pool may open is open and in use: the database is answering, just
    /// busy. A failing database closes connections, so its pool is not full.
    pub fn is_saturated(&self) -> bool {
        self.pool.size() >= self.pool.options().get_max_connections() && self.pool.num_idle() == 0
    }
}

/// `sqlite://path` with the file created on first use, its directory too.
fn sqlite_url(url: &str) -> anyhow::Result<String> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path != ":memory:" && !path.is_empty() {
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the database directory {}", dir.display()))?;
        }
    }
    // Validate early with the SQLite driver's own parser, then hand the URL to `Any`.
    sqlx::sqlite::SqliteConnectOptions::from_str(url)?;
    Ok(if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}
