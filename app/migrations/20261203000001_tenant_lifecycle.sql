-- Tenant lifecycle: installations, the app's system token per installation, and the outbox of
-- Jira writes. Portable SQL: runs on SQLite and PostgreSQL alike. Times are milliseconds since
-- the Unix epoch, as in `tasks`.

-- One row per installation (the FIT's app.installationId), from the lifecycle events and, since
-- an install event can be lost, from the first request of an installation without a row.
CREATE TABLE installations (
    installation_id TEXT   PRIMARY KEY,
    cloud_id        TEXT   NOT NULL DEFAULT '',
    api_base_url    TEXT   NOT NULL DEFAULT '',
    app_version     TEXT   NOT NULL DEFAULT '',
    environment_id  TEXT   NOT NULL DEFAULT '',
    environment_type TEXT  NOT NULL DEFAULT '',
    -- 'active'; 'uninstalled' after preUninstall (requests refused, data kept for the retention
    -- period); 'purged' once the retention job has deleted its data.
    state           TEXT   NOT NULL CHECK (state IN ('active', 'uninstalled', 'purged')),
    installed_at    BIGINT NOT NULL,
    upgraded_at     BIGINT,
    uninstalled_at  BIGINT,
    purged_at       BIGINT,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX installations_to_purge ON installations (state, uninstalled_at);

-- The newest app system token Forge delivered for each installation, AES-256-GCM encrypted
-- with TOKEN_ENCRYPTION_KEY; `sealed` is base64(nonce || ciphertext || tag).
CREATE TABLE installation_tokens (
    installation_id TEXT   PRIMARY KEY,
    sealed          TEXT   NOT NULL,
    expires_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- "This issue's tasks-progress property is due": one row per issue, written in the same
-- transaction as the change. A newer change bumps `generation`, so a write that started before
-- it cannot delete the row: the property is written again with the newest state.
CREATE TABLE progress_outbox (
    installation_id TEXT   NOT NULL,
    issue_id        TEXT   NOT NULL,
    generation      BIGINT NOT NULL,
    -- when the first unsent change of this streak was made; the give-up clock starts here
    first_due_at    BIGINT NOT NULL,
    due_at          BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    -- a replica that claims the row owns it until then (0: unclaimed)
    leased_until    BIGINT NOT NULL DEFAULT 0,
    -- Jira's Retry-After: not even a user's new change sends before then
    hold_until      BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    PRIMARY KEY (installation_id, issue_id)
);
CREATE INDEX progress_outbox_due ON progress_outbox (due_at);
