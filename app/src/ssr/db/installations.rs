//! Installation queries: one row per installation, its life from install to purge.
//!
//! Every statement is conditional on the state it moves from, so a retried event, a second
//! replica doing the same thing, or a purge racing a reinstall each changes nothing it should
//! not: the second of two identical calls reports [`Change::Unchanged`].

use sqlx::Row as _;

use super::{tasks::now_millis, Database};

/// What the remote knows of a site, from a verified FIT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// `app.installationId`: the tenant key.
    pub installation_id: String,
    pub cloud_id: String,
    /// `app.apiBaseUrl`, where the outbox writes with the system token.
    pub api_base_url: String,
    pub app_version: String,
    pub environment_id: String,
    pub environment_type: String,
}

impl Site {
    pub fn from_claims(claims: &forge_fit::FitClaims) -> Self {
        let api_base_url = claims.app.api_base_url.clone();
        // A trigger's FIT may carry no context; apiBaseUrl ends in the cloud id either way.
        let cloud_id = claims
            .context
            .as_ref()
            .map(|c| c.cloud_id.clone())
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| {
                api_base_url
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            });
        Self {
            installation_id: claims.app.installation_id.clone(),
            cloud_id,
            api_base_url,
            app_version: claims.app.app_version.clone().unwrap_or_default(),
            environment_id: claims.app.environment.id.clone(),
            environment_type: claims.app.environment.kind.as_str().to_owned(),
        }
    }
}

/// Where an installation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Active,
    /// `preUninstall` arrived: every request is refused; the data waits for the retention job.
    Uninstalled,
    /// The retention job deleted its data.
    Purged,
}

impl Change {
    /// `Updated` when a conditional statement changed a row, else `Unchanged`.
    fn updated_if(rows: u64) -> Self {
        if rows > 0 {
            Self::Updated
        } else {
            Self::Unchanged
        }
    }
}

impl State {
    fn parse(raw: &str) -> Self {
        match raw {
            "active" => Self::Active,
            "uninstalled" => Self::Uninstalled,
            _ => Self::Purged,
        }
    }
}

/// Whether a lifecycle call changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A row was created.
    Created,
    /// An uninstalled or purged installation is active again.
    Revived,
    /// The row changed (an upgrade, an uninstall, new site details).
    Updated,
    /// Nothing to do: a retry, or a second replica.
    Unchanged,
}

/// A stored installation, as the outbox and the lifecycle need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    pub site: Site,
    pub state: State,
}

/// What purging one installation removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Purged {
    pub tasks: u64,
    pub tokens: u64,
    pub outbox: u64,
}

/// `site` as a new active row, installed `now`, with `ON CONFLICT (installation_id)` and then
/// `$conflict`.
macro_rules! insert_active_sql {
    ($conflict:literal) => {
        concat!(
            "INSERT INTO installations (installation_id, cloud_id, api_base_url, app_version, \
             environment_id, environment_type, state, installed_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $7) ON CONFLICT (installation_id) ",
            $conflict
        )
    };
}
fn insert_active<'q>(
    sql: &'q str,
    site: &'q Site,
    now: i64,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    sqlx::query(sql)
        .bind(&site.installation_id)
        .bind(&site.cloud_id)
        .bind(&site.api_base_url)
        .bind(&site.app_version)
        .bind(&site.environment_id)
        .bind(&site.environment_type)
        .bind(now)
}

const COLUMNS: &str =
    "installation_id, cloud_id, api_base_url, app_version, environment_id, environment_type, state";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Installation, sqlx::Error> {
    let state: String = row.try_get("state")?;
    Ok(Installation {
        site: Site {
            installation_id: row.try_get("installation_id")?,
            cloud_id: row.try_get("cloud_id")?,
            api_base_url: row.try_get("api_base_url")?,
            app_version: row.try_get("app_version")?,
            environment_id: row.try_get("environment_id")?,
            environment_type: row.try_get("environment_type")?,
        },
        state: State::parse(&state),
    })
}

impl Database {
    pub async fn installation(&self, id: &str) -> Result<Option<Installation>, sqlx::Error> {
        let sql = format!("SELECT {COLUMNS} FROM installations WHERE installation_id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The state of the installation a request comes from, creating its row (active) if this
    /// is the first the remote hears of it: its install event may have been lost.
    pub async fn installation_on_sight(&self, site: &Site) -> Result<State, sqlx::Error> {
        let now = now_millis();
        // The no-op update makes RETURNING answer for an existing row too.
        let row = insert_active(
            insert_active_sql!("DO UPDATE SET state = installations.state RETURNING state"),
            site,
            now,
        )
        .fetch_one(self.pool())
        .await?;
        Ok(State::parse(&row.try_get::<String, _>("state")?))
    }

    /// `avi:forge:installed:app`: creates the row, revives an uninstalled or purged one, or
    /// (a retry) only refreshes site details that changed.
    pub async fn record_installed(&self, site: &Site) -> Result<Change, sqlx::Error> {
        // A retry (the common case: Forge retries, and replicas share the work) is a read: no
        // write transaction, so it never waits for SQLite's single writer.
        if let Some(known) = self.installation(&site.installation_id).await? {
            let same = Site {
                app_version: known.site.app_version.clone(),
                ..site.clone()
            };
            if known.state == State::Active
                && known.site == same
                && !known.site.app_version.is_empty()
            {
                return Ok(Change::Unchanged);
            }
        }
        let now = now_millis();
        let mut tx = self.pool().begin().await?;
        let created = insert_active(insert_active_sql!("DO NOTHING"), site, now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let change = if created == 1 {
            Change::Created
        } else {
            let revived = sqlx::query(
                "UPDATE installations SET state = 'active', installed_at = $2, uninstalled_at = NULL, \
                 purged_at = NULL, updated_at = $2 WHERE installation_id = $1 AND state <> 'active'",
            )
            .bind(&site.installation_id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let refreshed = self.refresh_site(&mut tx, site, now).await?;
            match (revived, refreshed) {
                (1.., _) => Change::Revived,
                (0, 1..) => Change::Updated,
                _ => Change::Unchanged,
            }
        };
        tx.commit().await?;
        Ok(change)
    }

    /// `avi:forge:upgraded:app`: records the new version. The same version twice is a retry.
    pub async fn record_upgraded(&self, site: &Site) -> Result<Change, sqlx::Error> {
        if self.installation_on_sight(site).await? != State::Active {
            // An upgrade does not revive an uninstalled installation: only an install does.
            return Ok(Change::Unchanged);
        }
        let now = now_millis();
        let mut tx = self.pool().begin().await?;
        let upgraded = sqlx::query(
            "UPDATE installations SET upgraded_at = $2, app_version = $3, updated_at = $2 \
             WHERE installation_id = $1 AND app_version <> $3",
        )
        .bind(&site.installation_id)
        .bind(now)
        .bind(&site.app_version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let refreshed = self.refresh_site(&mut tx, site, now).await?;
        tx.commit().await?;
        Ok(Change::updated_if(upgraded + refreshed))
    }

    /// `preUninstall`: refuses the installation's requests from now on. Its data stays until
    /// the retention job purges it.
    pub async fn record_uninstalled(&self, site: &Site) -> Result<Change, sqlx::Error> {
        self.installation_on_sight(site).await?;
        let now = now_millis();
        let changed = sqlx::query(
            "UPDATE installations SET state = 'uninstalled', uninstalled_at = $2, updated_at = $2 \
             WHERE installation_id = $1 AND state = 'active'",
        )
        .bind(&site.installation_id)
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(Change::updated_if(changed))
    }

    /// Site details (`apiBaseUrl` and the like) that differ from the stored ones; the version
    /// only moves with an upgrade event or a fresh install.
    async fn refresh_site(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        site: &Site,
        now: i64,
    ) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "UPDATE installations SET cloud_id = $2, api_base_url = $3, environment_id = $4, \
             environment_type = $5, app_version = CASE WHEN app_version = '' THEN $6 ELSE app_version END, \
             updated_at = $7 WHERE installation_id = $1 AND (cloud_id <> $2 OR api_base_url <> $3 \
             OR environment_id <> $4 OR environment_type <> $5 OR (app_version = '' AND $6 <> ''))",
        )
        .bind(&site.installation_id)
        .bind(&site.cloud_id)
        .bind(&site.api_base_url)
        .bind(&site.environment_id)
        .bind(&site.environment_type)
        .bind(&site.app_version)
        .bind(now)
        .execute(&mut **tx)
        .await?
        .rows_affected())
    }

    /// Installations uninstalled at or before `cutoff` whose data is still here, and those
    /// purged since `sweep_since`: a replica that had not yet seen the uninstall (it trusts
    /// what it read for a few seconds) may have written after the purge.
    pub async fn installations_to_purge(
        &self,
        cutoff: i64,
        sweep_since: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query(
            "SELECT installation_id FROM installations WHERE (state = 'uninstalled' \
             AND uninstalled_at <= $1) OR (state = 'purged' AND purged_at >= $2) \
             ORDER BY uninstalled_at LIMIT 100",
        )
        .bind(cutoff)
        .bind(sweep_since)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect()
    }

    /// Deletes the installation's tasks, token and outbox rows in one transaction, if it is
    /// still uninstalled since `cutoff` or before (a reinstall in the meantime wins). `None`
    /// when there was nothing to purge (another replica did it, or it was reinstalled).
    pub async fn purge_installation(
        &self,
        id: &str,
        cutoff: i64,
    ) -> Result<Option<Purged>, sqlx::Error> {
        let mut tx = self.pool().begin().await?;
        // First, so a concurrent reinstall (or a second purger) waits for this row's lock. A
        // purged row is swept again (keeping its purge time) for what a late write left.
        let claimed = sqlx::query(
            "UPDATE installations SET state = 'purged', \
             purged_at = CASE WHEN state = 'purged' THEN purged_at ELSE $2 END, updated_at = $2 \
             WHERE installation_id = $1 AND (state = 'purged' OR (state = 'uninstalled' AND uninstalled_at <= $3))",
        )
        .bind(id)
        .bind(now_millis())
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(None);
        }
        let mut delete = async |table: &str| -> Result<u64, sqlx::Error> {
            Ok(
                sqlx::query(&format!("DELETE FROM {table} WHERE installation_id = $1"))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected(),
            )
        };
        let purged = Purged {
            tasks: delete("tasks").await?,
            tokens: delete("installation_tokens").await?,
            outbox: delete("progress_outbox").await?,
        };
        tx.commit().await?;
        Ok(Some(purged))
    }
}
