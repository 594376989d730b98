//! The storage layer against a real database: SQLite in a temporary file, and PostgreSQL when
//! `TEST_DATABASE_URL` names a server (scripts/test.sh starts one). Each test gets a fresh
//! database.

use app::tasks::Title;
use server::db::{tasks::ScopeKey, Database};

const ACME: &str = "ari:cloud:ecosystem::installation/acme";
const GLOBEX: &str = "ari:cloud:ecosystem::installation/globex";
/// The default `TASKS_PER_LIST_MAX`.
const MAX: u32 = 1000;

/// One fresh database per test and backend.
async fn databases() -> Vec<(String, Database, Option<tempfile::TempDir>)> {
    let mut out = Vec::new();
    let dir = tempfile::tempdir().expect("Failed to create a temp dir");
    let url = format!("sqlite://{}/tasks.db", dir.path().display());
    out.push((
        "sqlite".to_owned(),
        Database::connect(&url).await.expect("sqlite"),
        Some(dir),
    ));
    if let Ok(base) = std::env::var("TEST_DATABASE_URL") {
        let db = server_test_support::fresh_postgres(&base).await;
        out.push(("postgres".to_owned(), db, None));
    }
    out
}

mod server_test_support {
    use super::*;
    use sqlx::{Connection, Executor};

    /// Creates a uniquely named database on the server at `base` and connects to it.
    pub async fn fresh_postgres(base: &str) -> Database {
        Database::connect(&fresh_postgres_url(base).await)
            .await
            .expect("postgres")
    }

    /// Creates a uniquely named database on the server at `base`; returns its URL.
    pub async fn fresh_postgres_url(base: &str) -> String {
        let name = format!("tt_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(base)
            .await
            .expect("Failed to reach PostgreSQL");
        admin
            .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await
            .expect("create db");
        let (prefix, _) = base.rsplit_once('/').expect("URL with a database name");
        format!("{prefix}/{name}")
    }
}

#[tokio::test]
async fn created_tasks_are_listed_oldest_first_with_progress() {
    for (backend, db, _dir) in databases().await {
        let scope = ScopeKey::Issue("10001".into());
        let a = db
            .create_task(ACME, &scope, Title::parse("First").unwrap(), "alice", MAX)
            .await
            .unwrap()
            .expect("room in the list");
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        let b = db
            .create_task(ACME, &scope, Title::parse(" Second ").unwrap(), "bob", MAX)
            .await
            .unwrap()
            .expect("room in the list");
        db.update_task(ACME, &a.id, None, Some(true))
            .await
            .unwrap()
            .unwrap();

        let tasks = db.list_tasks(ACME, &scope, MAX).await.unwrap();
        let titles: Vec<_> = tasks.iter().map(|t| t.title.as_str()).collect();
        assert_eq!(titles, ["First", "Second"], "{backend}");
        assert!(tasks[0].done && !tasks[1].done, "{backend}");
        assert_eq!(tasks[1].id, b.id, "{backend}");
        let progress = db.progress(ACME, &scope).await.unwrap();
        assert_eq!((progress.done, progress.total), (1, 2), "{backend}");
    }
}

#[tokio::test]
async fn another_installation_can_neither_see_nor_change_a_task() {
    for (backend, db, _dir) in databases().await {
        let scope = ScopeKey::team("98305", "Forge");
        let task = db
            .create_task(ACME, &scope, Title::parse("Secret").unwrap(), "alice", MAX)
            .await
            .unwrap()
            .expect("room in the list");

        assert!(
            db.list_tasks(GLOBEX, &scope, MAX).await.unwrap().is_empty(),
            "{backend}"
        );
        assert!(
            db.find_task(GLOBEX, &task.id).await.unwrap().is_none(),
            "{backend}"
        );
        let renamed = db
            .update_task(GLOBEX, &task.id, Some(Title::parse("Pwned").unwrap()), None)
            .await
            .unwrap();
        assert!(renamed.is_none(), "{backend}");
        assert!(
            !db.delete_task(GLOBEX, &task.id).await.unwrap(),
            "{backend}"
        );

        let still = db.find_task(ACME, &task.id).await.unwrap().unwrap();
        assert_eq!(still.task.title, "Secret", "{backend}");
    }
}

#[tokio::test]
async fn a_patch_changes_only_the_fields_it_names() {
    for (backend, db, _dir) in databases().await {
        let scope = ScopeKey::Issue("7".into());
        let task = db
            .create_task(ACME, &scope, Title::parse("Draft").unwrap(), "alice", MAX)
            .await
            .unwrap()
            .expect("room in the list");
        let renamed = db
            .update_task(ACME, &task.id, Some(Title::parse("Final").unwrap()), None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (renamed.task.title.as_str(), renamed.task.done),
            ("Final", false),
            "{backend}"
        );
        let toggled = db
            .update_task(ACME, &task.id, None, Some(true))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (toggled.task.title.as_str(), toggled.task.done),
            ("Final", true),
            "{backend}"
        );
        assert!(toggled.task.updated_at >= task.updated_at, "{backend}");
        assert_eq!(toggled.scope, scope, "{backend}");
    }
}

#[tokio::test]
async fn deleting_removes_the_task_once() {
    for (backend, db, _dir) in databases().await {
        let scope = ScopeKey::team("98305", "Ops");
        let task = db
            .create_task(
                ACME,
                &scope,
                Title::parse("Gone soon").unwrap(),
                "alice",
                MAX,
            )
            .await
            .unwrap()
            .expect("room in the list");
        assert!(db.delete_task(ACME, &task.id).await.unwrap(), "{backend}");
        assert!(!db.delete_task(ACME, &task.id).await.unwrap(), "{backend}");
        assert!(
            db.list_tasks(ACME, &scope, MAX).await.unwrap().is_empty(),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn the_database_refuses_an_overlong_title_even_past_the_api() {
    for (backend, db, _dir) in databases().await {
        let long = "x".repeat(501);
        let result = sqlx::query(
            "INSERT INTO tasks (id, installation_id, scope_kind, scope_key, title, done, created_by, created_at, updated_at) \
             VALUES ('x', $1, 'team', 't', $2, FALSE, 'a', 0, 0)",
        )
        .bind(ACME)
        .bind(long)
        .execute(db.pool())
        .await;
        assert!(result.is_err(), "{backend}: the CHECK constraint must hold");
    }
}

#[tokio::test]
async fn data_survives_reopening_the_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested/dir/tasks.db", dir.path().display());
    let scope = ScopeKey::team("98305", "Forge");
    {
        let db = Database::connect(&url).await.unwrap();
        db.create_task(
            ACME,
            &scope,
            Title::parse("Persist me").unwrap(),
            "alice",
            MAX,
        )
        .await
        .unwrap()
        .expect("room in the list");
        db.pool().close().await;
    }
    let db = Database::connect(&url).await.unwrap();
    let tasks = db.list_tasks(ACME, &scope, MAX).await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].title, "Persist me");
}

#[tokio::test]
async fn a_pool_of_one_connection_serves_concurrent_reads_and_writes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/tasks.db", dir.path().display());
    let db = Database::connect_with(&url, Some(1)).await.unwrap();
    assert_eq!(db.pool().options().get_max_connections(), 1);
    let scope = ScopeKey::team("98305", "Forge");

    let writes = (0..10).map(|i| {
        let (db, scope) = (db.clone(), scope.clone());
        tokio::spawn(async move {
            let title = Title::parse(&format!("Task {i}")).unwrap();
            db.create_task(ACME, &scope, title, "alice", MAX)
                .await
                .map(|_| ())
        })
    });
    let reads = (0..10).map(|_| {
        let (db, scope) = (db.clone(), scope.clone());
        tokio::spawn(async move { db.list_tasks(ACME, &scope, MAX).await.map(|_| ()) })
    });
    for handle in writes.chain(reads).collect::<Vec<_>>() {
        handle.await.unwrap().unwrap();
    }
    assert_eq!(db.list_tasks(ACME, &scope, MAX).await.unwrap().len(), 10);
}

#[tokio::test]
async fn a_postgres_connection_closed_while_idle_is_replaced_not_handed_out() {
    use sqlx::{Connection, PgConnection};
    let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
        return;
    };
    // Arrange: a pool of one connection, which the server then closes (a restart, a failover,
    // an idle timeout on the way).
    let url = server_test_support::fresh_postgres_url(&base).await;
    let db = Database::connect_with(&url, Some(1)).await.unwrap();
    let backend_pid = || async {
        sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()")
            .fetch_one(db.pool())
            .await
    };
    let pid = backend_pid().await.unwrap();
    let mut admin = PgConnection::connect(&base).await.unwrap();
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&mut admin)
        .await
        .unwrap();
    tokio::time::sleep(server::db::PING_WHEN_IDLE_FOR + std::time::Duration::from_millis(200))
        .await;

    // Act: the next query finds the connection idle long enough to be pinged first.
    let tasks = db
        .list_tasks(ACME, &ScopeKey::team("98305", "Forge"), MAX)
        .await;

    // Assert: the dead connection was dropped and a new one served the query.
    assert!(tasks.unwrap().is_empty());
    assert_ne!(backend_pid().await.unwrap(), pid);
}

#[tokio::test]
async fn the_same_team_in_two_spaces_is_two_lists() {
    for (backend, db, _dir) in databases().await {
        let eng = ScopeKey::team("98305", "Forge");
        let ops = ScopeKey::team("196609", "Forge");
        db.create_task(ACME, &eng, Title::parse("ENG's").unwrap(), "alice", MAX)
            .await
            .unwrap()
            .expect("room in the list");
        let theirs = db.list_tasks(ACME, &ops, MAX).await.unwrap();
        assert!(theirs.is_empty(), "{backend}: {theirs:?}");
        assert_eq!(
            db.list_tasks(ACME, &eng, MAX).await.unwrap().len(),
            1,
            "{backend}"
        );
        assert_eq!(db.progress(ACME, &ops).await.unwrap().total, 0, "{backend}");
    }
}

/// A database as the previous release left it: migrated up to the first migration, with team
/// rows that have no space. Returns its URL.
async fn database_from_before_spaces(backend: &str) -> (String, Option<tempfile::TempDir>) {
    use sqlx::{any::install_default_drivers, AnyPool};
    let (url, dir) = match backend {
        "sqlite" => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}/tasks.db?mode=rwc", dir.path().display());
            (url, Some(dir))
        }
        _ => {
            let base = std::env::var("TEST_DATABASE_URL").unwrap();
            (server_test_support::fresh_postgres_url(&base).await, None)
        }
    };
    install_default_drivers();
    let pool = AnyPool::connect(&url).await.unwrap();
    let first = server::db::MIGRATOR.iter().next().unwrap();
    sqlx::raw_sql(&first.sql).execute(&pool).await.unwrap();
    for (id, inst, team, title) in [
        ("old-1", ACME, "Forge", "From before spaces"),
        ("old-2", ACME, "Forge", "Also old"),
        ("old-3", GLOBEX, "Forge", "Another tenant's"),
    ] {
        sqlx::query(
            "INSERT INTO tasks (id, installation_id, scope_kind, scope_key, title, done, created_by, created_at, updated_at) \
             VALUES ($1, $2, 'team', $3, $4, FALSE, 'alice', 1, 1)",
        )
        .bind(id)
        .bind(inst)
        .bind(team)
        .bind(title)
        .execute(&pool)
        .await
        .unwrap();
    }
    // Record the first migration as applied, as sqlx would have.
    sqlx::raw_sql(
        "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
         installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, \
         checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)"
            .replace("BLOB", if backend == "sqlite" { "BLOB" } else { "BYTEA" })
            .as_str(),
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ($1, $2, TRUE, $3, 0)",
    )
    .bind(first.version)
    .bind(first.description.to_string())
    .bind(first.checksum.to_vec())
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    (url, dir)
}

#[tokio::test]
async fn team_rows_from_before_spaces_are_kept_and_claimed_by_the_first_space_to_open_them() {
    let mut backends = vec!["sqlite"];
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        backends.push("postgres");
    }
    for backend in backends {
        let (url, _dir) = database_from_before_spaces(backend).await;
        // Arrange: the upgrade runs the new migration on the old rows.
        let db = Database::connect(&url).await.expect("migrate");
        // A second replica, started before any claim.
        let replica = Database::connect(&url).await.unwrap();
        let eng = ScopeKey::team("98305", "Forge");
        let ops = ScopeKey::team("196609", "Forge");

        // Act: a macro in ENG opens team Forge first, then one in OPS.
        db.claim_unscoped_team(ACME, "98305", "Forge")
            .await
            .unwrap();
        db.claim_unscoped_team(ACME, "196609", "Forge")
            .await
            .unwrap();

        // Assert: ENG has both old rows, OPS none, and the other tenant's row is untouched.
        let titles: Vec<String> = db
            .list_tasks(ACME, &eng, MAX)
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.title)
            .collect();
        assert_eq!(titles, ["From before spaces", "Also old"], "{backend}");
        assert!(
            db.list_tasks(ACME, &ops, MAX).await.unwrap().is_empty(),
            "{backend}"
        );
        let globex = db.find_task(GLOBEX, "old-3").await.unwrap().unwrap();
        assert_eq!(globex.scope, ScopeKey::team("", "Forge"), "{backend}");

        // The other replica's claim for OPS comes too late: a no-op.
        replica
            .claim_unscoped_team(ACME, "196609", "Forge")
            .await
            .unwrap();
        assert_eq!(
            db.list_tasks(ACME, &eng, MAX).await.unwrap().len(),
            2,
            "{backend}"
        );
    }
}
