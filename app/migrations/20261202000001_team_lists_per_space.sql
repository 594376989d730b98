-- A macro's team list belongs to a Confluence space: its key becomes
-- (installation, space, team) instead of (installation, team), so the same team name in two
-- spaces is two lists. Portable SQL: runs on SQLite and PostgreSQL alike.
--
-- Issue rows get the empty space. Team rows written before this change do not know their
-- space either: they keep the empty space ("unclaimed"), and the first macro that opens that
-- team in that installation claims them for its own space (db::tasks, `claim_unscoped_team`).
-- Nothing is dropped, and a site whose team lists live in one space sees them unchanged.
ALTER TABLE tasks ADD COLUMN space_id TEXT NOT NULL DEFAULT '';

DROP INDEX tasks_by_scope;
CREATE INDEX tasks_by_scope ON tasks (installation_id, scope_kind, space_id, scope_key, created_at, id);
