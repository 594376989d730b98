//! Outbox queries: "this issue's `tasks-progress` property is due", one row per issue.
//!
//! A change marks its issue due in its own transaction ([`mark_due`]), so no committed change
//! can be forgotten. A sender first *leases* a due row (sets `leased_until`), which is how two
//! replicas never both write the same row: the lease is one conditional `UPDATE`, and on
//! PostgreSQL the batch lease skips rows another replica has locked (`FOR UPDATE SKIP LOCKED`);
//! SQLite has one writer at a time anyway. A crashed sender's lease simply runs out.
//!
//! Coalescing: a sender writes the issue's progress as it is when it sends, and deletes the row
//! only if no change bumped `generation` meanwhile. Otherwise the row stays due and is sent
//! again, so the last state always wins and an older write can never be the last one.

use sqlx::Row as _;

use super::{tasks::now_millis, Backend, Database};

/// A row a sender owns until its lease runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leased {
    pub installation_id: String,
    pub issue_id: String,
    pub generation: i64,
    pub first_due_at: i64,
    /// Attempts so far, this one included.
    pub attempts: i64,
    /// The `leased_until` this lease set: every later statement about the row checks it, so a
    /// sender whose lease ran out (and whose row another sender took) changes nothing.
    pub lease: i64,
}

/// Outbox depth and the age of its oldest row, in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Depth {
    pub rows: i64,
    pub oldest_ms: i64,
}

/// Marks `issue_id`'s property due, inside the transaction of the change that made it so.
pub(crate) async fn mark_due(
    conn: &mut sqlx::AnyConnection,
    installation: &str,
    issue_id: &str,
) -> Result<(), sqlx::Error> {
    let now = now_millis();
    // A row already waiting keeps its schedule (a Retry-After still holds) and its give-up
    // clock; it only learns that there is a newer state to send.
    sqlx::query(
        "INSERT INTO progress_outbox (installation_id, issue_id, generation, first_due_at, due_at) \
         VALUES ($1, $2, 1, $3, $3) ON CONFLICT (installation_id, issue_id) DO UPDATE SET \
         generation = progress_outbox.generation + 1",
    )
    .bind(installation)
    .bind(issue_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

fn leased(row: &sqlx::any::AnyRow) -> Result<Leased, sqlx::Error> {
    Ok(Leased {
        installation_id: row.try_get("installation_id")?,
        issue_id: row.try_get("issue_id")?,
        generation: row.try_get("generation")?,
        first_due_at: row.try_get("first_due_at")?,
        attempts: row.try_get("attempts")?,
        lease: row.try_get("leased_until")?,
    })
}

const RETURNING: &str =
    "RETURNING installation_id, issue_id, generation, first_due_at, attempts, leased_until";

impl Database {
    /// Leases this one issue's row unless another sender holds it or Jira's `Retry-After` still
    /// runs: the request's own attempt. A backoff does not stop it: a new change is a reason to
    /// try again now.
    pub async fn lease_outbox_row(
        &self,
        installation: &str,
        issue_id: &str,
        lease_ms: i64,
    ) -> Result<Option<Leased>, sqlx::Error> {
        let now = now_millis();
        let sql = format!(
            "UPDATE progress_outbox SET leased_until = $3, attempts = attempts + 1 \
             WHERE installation_id = $1 AND issue_id = $2 AND hold_until <= $4 AND leased_until <= $4 {RETURNING}"
        );
        let row = sqlx::query(&sql)
            .bind(installation)
            .bind(issue_id)
            .bind(now + lease_ms)
            .bind(now)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(leased).transpose()
    }

    /// How many rows wait to be sent, and for how long the oldest has: `/metrics`.
    pub async fn outbox_depth(&self) -> Result<Depth, sqlx::Error> {
        let row =
            sqlx::query("SELECT COUNT(*), COALESCE(MIN(first_due_at), 0) FROM progress_outbox")
                .fetch_one(self.pool())
                .await?;
        let (rows, oldest): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        Ok(Depth {
            rows,
            oldest_ms: if rows == 0 {
                0
            } else {
                (now_millis() - oldest).max(0)
            },
        })
    }

    /// Leases up to `limit` due rows nobody holds, oldest first: the worker's batch.
    pub async fn lease_due_outbox_rows(
        &self,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<Leased>, sqlx::Error> {
        let now = now_millis();
        // Usually nothing is due: find that out with a read, not a write transaction (on
        // SQLite, the one writer's lock), twice a second on every replica.
        let due = sqlx::query(
            "SELECT 1 FROM progress_outbox WHERE due_at <= $1 AND leased_until <= $1 LIMIT 1",
        )
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        // PostgreSQL: rows another replica has locked are skipped, and the batch is
        // materialised first, so the planner cannot rescan the locking subquery and lease more
        // than `limit`. SQLite: one writer at a time, so the plain subquery is enough.
        let sql = match self.backend() {
            Backend::Postgres => format!(
                "WITH due AS MATERIALIZED (SELECT installation_id, issue_id FROM progress_outbox \
                 WHERE due_at <= $2 AND leased_until <= $2 ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
                 UPDATE progress_outbox SET leased_until = $1, attempts = attempts + 1 \
                 WHERE (installation_id, issue_id) IN (SELECT installation_id, issue_id FROM due) {RETURNING}"
            ),
            Backend::Sqlite => format!(
                "UPDATE progress_outbox SET leased_until = $1, attempts = attempts + 1 \
                 WHERE (installation_id, issue_id) IN (SELECT installation_id, issue_id FROM progress_outbox \
                 WHERE due_at <= $2 AND leased_until <= $2 ORDER BY due_at LIMIT $3) {RETURNING}"
            ),
        };
        sqlx::query(&sql)
            .bind(now + lease_ms)
            .bind(now)
            .bind(limit)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(leased)
            .collect()
    }

    /// Done with the state of `row.generation`, written or given up: the row goes, unless a
    /// newer change came meanwhile, which is then due at once with a fresh backoff and give-up
    /// clock. `true` when the row is gone; nothing happens if the lease is no longer ours.
    pub async fn finish_outbox_row(&self, row: &Leased) -> Result<bool, sqlx::Error> {
        let deleted = sqlx::query(
            "DELETE FROM progress_outbox WHERE installation_id = $1 AND issue_id = $2 \
             AND generation = $3 AND leased_until = $4",
        )
        .bind(&row.installation_id)
        .bind(&row.issue_id)
        .bind(row.generation)
        .bind(row.lease)
        .execute(self.pool())
        .await?
        .rows_affected();
        if deleted == 0 {
            let now = now_millis();
            sqlx::query(
                "UPDATE progress_outbox SET due_at = $3, first_due_at = $3, leased_until = 0, \
                 attempts = 0, hold_until = 0 WHERE installation_id = $1 AND issue_id = $2 \
                 AND leased_until = $4",
            )
            .bind(&row.installation_id)
            .bind(&row.issue_id)
            .bind(now)
            .bind(row.lease)
            .execute(self.pool())
            .await?;
        }
        Ok(deleted > 0)
    }

    /// Releases the lease; the row is due again at `due_at`, and with `hold` (Jira's
    /// `Retry-After`) not a moment before, even for a new change.
    pub async fn retry_outbox_row(
        &self,
        row: &Leased,
        due_at: i64,
        error: Option<&str>,
        hold: bool,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE progress_outbox SET due_at = $3, hold_until = $5, leased_until = 0, \
             last_error = COALESCE($4, last_error) WHERE installation_id = $1 AND issue_id = $2 \
             AND leased_until = $6",
        )
        .bind(&row.installation_id)
        .bind(&row.issue_id)
        .bind(due_at)
        .bind(error)
        .bind(if hold { due_at } else { 0 })
        .bind(row.lease)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
