-- Team Tasks. Portable SQL: the same migration runs on SQLite and PostgreSQL.
-- Every row belongs to one installation (the FIT's app.installationId), the tenant key.
CREATE TABLE tasks (
    id              TEXT    PRIMARY KEY,
    installation_id TEXT    NOT NULL,
    -- 'issue' (Jira issue panel, key = issue id) or 'team' (Confluence macro, key = team name)
    scope_kind      TEXT    NOT NULL CHECK (scope_kind IN ('issue', 'team')),
    scope_key       TEXT    NOT NULL,
    title           TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    done            BOOLEAN NOT NULL DEFAULT FALSE,
    created_by      TEXT    NOT NULL,
    -- milliseconds since the Unix epoch
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);

-- Every read is "the tasks of one scope in one installation, oldest first".
CREATE INDEX tasks_by_scope ON tasks (installation_id, scope_kind, scope_key, created_at, id);
