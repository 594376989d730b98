//! Task queries. Every one takes the installation id, so no query can reach another tenant's
//! rows; a task id from another installation is simply not found.

use crate::tasks::{Progress, Task, Title};
use sqlx::Row;

use super::{outbox::mark_due, Database};

/// Where a task lives inside its installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeKey {
    /// A Jira issue's list, by issue id.
    Issue(String),
    /// A team's list in one Confluence space (the FIT's `context.extension.space.id`). Rows from
    /// before lists had a space have `space` empty until a macro claims them.
    Team { space: String, team: String },
}

impl ScopeKey {
    /// A team's list in `space`.
    pub fn team(space: impl Into<String>, team: impl Into<String>) -> Self {
        ScopeKey::Team {
            space: space.into(),
            team: team.into(),
        }
    }

    /// `(scope_kind, space_id, scope_key)` as stored.
    fn parts(&self) -> (&'static str, &str, &str) {
        match self {
            ScopeKey::Issue(id) => ("issue", "", id),
            ScopeKey::Team { space, team } => ("team", space, team),
        }
    }

    fn from_parts(kind: &str, space: String, key: String) -> Self {
        if kind == "issue" {
            ScopeKey::Issue(key)
        } else {
            ScopeKey::Team { space, team: key }
        }
    }
}

/// A stored task with the scope it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTask {
    pub task: Task,
    pub scope: ScopeKey,
}

/// `done` is read as a 0/1 BIGINT: sqlx's `Any` driver cannot decode SQLite's BOOLEAN, and the
/// cast reads the same on both databases.
const COLUMNS: &str = "id, scope_kind, space_id, scope_key, title, \
    CAST(CASE WHEN done THEN 1 ELSE 0 END AS BIGINT) AS done, created_by, created_at, updated_at";

fn from_row(row: &sqlx::any::AnyRow) -> Result<StoredTask, sqlx::Error> {
    let kind: String = row.try_get("scope_kind")?;
    Ok(StoredTask {
        scope: ScopeKey::from_parts(&kind, row.try_get("space_id")?, row.try_get("scope_key")?),
        task: Task {
            id: row.try_get("id")?,
            title: row.try_get("title")?,
            done: row.try_get::<i64, _>("done")? != 0,
            created_by: row.try_get("created_by")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        },
    })
}

pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Database {
    /// The tasks of one scope, oldest first, at most `limit` of them.
    pub async fn list_tasks(
        &self,
        installation: &str,
        scope: &ScopeKey,
        limit: u32,
    ) -> Result<Vec<Task>, sqlx::Error> {
        let (kind, space, key) = scope.parts();
        let sql = format!(
            "SELECT {COLUMNS} FROM tasks WHERE installation_id = $1 AND scope_kind = $2 AND space_id = $3 \
             AND scope_key = $4 ORDER BY created_at, id LIMIT $5"
        );
        let rows = sqlx::query(&sql)
            .bind(installation)
            .bind(kind)
            .bind(space)
            .bind(key)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| from_row(r).map(|s| s.task)).collect()
    }

    pub async fn progress(
        &self,
        installation: &str,
        scope: &ScopeKey,
    ) -> Result<Progress, sqlx::Error> {
        let (kind, space, key) = scope.parts();
        // CASE instead of SUM(done): booleans sum differently on the two databases.
        let row = sqlx::query(
            "SELECT COUNT(*) AS total, CAST(COALESCE(SUM(CASE WHEN done THEN 1 ELSE 0 END), 0) AS BIGINT) AS done \
             FROM tasks WHERE installation_id = $1 AND scope_kind = $2 AND space_id = $3 AND scope_key = $4",
        )
        .bind(installation)
        .bind(kind)
        .bind(space)
        .bind(key)
        .fetch_one(self.pool())
        .await?;
        let total: i64 = row.try_get("total")?;
        let done: i64 = row.try_get("done")?;
        Ok(Progress {
            done: done as u32,
            total: total as u32,
        })
    }

    /// Adds a task unless the list already holds `max` tasks (`None` then, and nothing is
    /// written). The count and the insert are one statement; on PostgreSQL a transaction-scoped
    /// advisory lock on the list also serialises concurrent adds, which READ COMMITTED alone
    /// would let both see room for (SQLite has one writer at a time anyway).
    pub async fn create_task(
        &self,
        installation: &str,
        scope: &ScopeKey,
        title: Title,
        created_by: &str,
        max: u32,
    ) -> Result<Option<Task>, sqlx::Error> {
        let (kind, space, key) = scope.parts();
        let now = now_millis();
        let task = Task {
            id: uuid::Uuid::new_v4().to_string(),
            title: title.into_string(),
            done: false,
            created_by: created_by.to_owned(),
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.pool().begin().await?;
        if self.backend() == super::Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!(
                    "{installation}\u{1f}{kind}\u{1f}{space}\u{1f}{key}"
                ))
                .execute(&mut *tx)
                .await?;
        }
        let inserted = sqlx::query(
            "INSERT INTO tasks (id, installation_id, scope_kind, space_id, scope_key, title, done, created_by, created_at, updated_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 \
             WHERE (SELECT COUNT(*) FROM tasks WHERE installation_id = $2 AND scope_kind = $3 \
                    AND space_id = $4 AND scope_key = $5) < $11",
        )
        .bind(&task.id)
        .bind(installation)
        .bind(kind)
        .bind(space)
        .bind(key)
        .bind(&task.title)
        .bind(task.done)
        .bind(&task.created_by)
        .bind(task.created_at)
        .bind(task.updated_at)
        .bind(i64::from(max))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            if let ScopeKey::Issue(issue_id) = scope {
                mark_due(&mut tx, installation, issue_id).await?;
            }
        }
        tx.commit().await?;
        Ok((inserted == 1).then_some(task))
    }

    pub async fn find_task(
        &self,
        installation: &str,
        id: &str,
    ) -> Result<Option<StoredTask>, sqlx::Error> {
        let sql = format!("SELECT {COLUMNS} FROM tasks WHERE installation_id = $1 AND id = $2");
        let row = sqlx::query(&sql)
            .bind(installation)
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Applies the fields that are `Some`; `None` when there is no such task in the installation.
    pub async fn update_task(
        &self,
        installation: &str,
        id: &str,
        title: Option<Title>,
        done: Option<bool>,
    ) -> Result<Option<StoredTask>, sqlx::Error> {
        let now = now_millis();
        let title = title.map(Title::into_string);
        let mut tx = self.pool().begin().await?;
        // COALESCE keeps the stored value for an absent field, in one statement.
        let sql = format!(
            "UPDATE tasks SET title = COALESCE($1, title), done = COALESCE($2, done), updated_at = $3 \
             WHERE installation_id = $4 AND id = $5 RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(title)
            .bind(done)
            .bind(now)
            .bind(installation)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(stored) = row.as_ref().map(from_row).transpose()? else {
            return Ok(None);
        };
        if let ScopeKey::Issue(issue_id) = &stored.scope {
            mark_due(&mut tx, installation, issue_id).await?;
        }
        tx.commit().await?;
        Ok(Some(stored))
    }

    /// Moves a team's rows from before lists had a space (space `''`) into `space`, the first
    /// time a macro of that installation opens that team. Only teams that had such rows when the
    /// process started are ever looked at, so this costs nothing on the hot path once they are
    /// claimed; the `space_id = ''` condition makes a second claim, by another replica, a no-op.
    pub async fn claim_unscoped_team(
        &self,
        installation: &str,
        space: &str,
        team: &str,
    ) -> Result<(), sqlx::Error> {
        let key = (installation.to_owned(), team.to_owned());
        if !self.unscoped_teams().contains(&key) {
            return Ok(());
        }
        let claimed = sqlx::query(
            "UPDATE tasks SET space_id = $1 WHERE installation_id = $2 AND scope_kind = 'team' \
             AND scope_key = $3 AND space_id = ''",
        )
        .bind(space)
        .bind(installation)
        .bind(team)
        .execute(self.pool())
        .await?
        .rows_affected();
        self.unscoped_teams().remove(&key);
        if claimed > 0 {
            tracing::info!(
                installation,
                space,
                team,
                claimed,
                "claimed a team list from before lists had a space"
            );
        }
        Ok(())
    }

    /// `true` when a task was deleted.
    pub async fn delete_task(&self, installation: &str, id: &str) -> Result<bool, sqlx::Error> {
        let mut tx = self.pool().begin().await?;
        let row = sqlx::query(
            "DELETE FROM tasks WHERE installation_id = $1 AND id = $2 RETURNING scope_kind, scope_key",
        )
        .bind(installation)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(false) };
        if row.try_get::<String, _>("scope_kind")? == "issue" {
            let issue_id: String = row.try_get("scope_key")?;
            mark_due(&mut tx, installation, &issue_id).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
