//! Where Forge delivers a tenant's life: lifecycle events, the uninstall hook and the hourly
//! trigger. Each is the `route.path` of its own `endpoint` in manifest.yml (system token only:
//! Forge refuses `appUserToken` on a trigger's endpoint).
//!
//! | route | manifest module | does |
//! |---|---|---|
//! | `POST /forge/lifecycle` | `trigger` on `avi:forge:installed:app`, `avi:forge:upgraded:app` | records the install (reviving an uninstalled one) or the upgrade |
//! | `POST /forge/uninstall` | `preUninstall` | marks the installation uninstalled: every request is then a 403 |
//! | `POST /forge/scheduled` | `scheduledTrigger`, hourly | keeps the fresh system token ("tokens anytime") |
//!
//! They sit behind the FIT layer like every route. Forge answers them within 5 s and retries,
//! so each is idempotent, and each answers after one or two short statements.
//!
//! A UI module's FIT is refused here: the panel can `invokeRemote` any path of the remote, and
//! a user must not be able to uninstall a site. Forge's backend invocations carry no
//! `principal` and no `context.extension`; a UI module's always carry both.

use app::ssr::{
    db::installations::Change,
    installations::{self, Lifecycle},
};
use axum::{body::Bytes, extract::State, routing::post, Json, Router};
use forge_fit::{Fit, FitClaims, ForgeOAuth};
use serde::Serialize;
use serde_json::Value;

use crate::{error::ApiError, startup::AppState};

pub const LIFECYCLE: &str = "/forge/lifecycle";
pub const UNINSTALL: &str = "/forge/uninstall";
pub const SCHEDULED: &str = "/forge/scheduled";

/// The installed and upgraded events' `eventType`s.
pub const INSTALLED_EVENT: &str = "avi:forge:installed:app";
pub const UPGRADED_EVENT: &str = "avi:forge:upgraded:app";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(LIFECYCLE, post(lifecycle))
        .route(UNINSTALL, post(uninstall))
        .route(SCHEDULED, post(scheduled))
}

/// What each handler answers: what happened, for Forge's invocation logs and for tests.
#[derive(Debug, Serialize)]
pub struct Answer {
    pub event: &'static str,
    /// `created`, `revived`, `updated`, `unchanged`, or `ignored` for an unknown event.
    pub change: &'static str,
}

fn change_name(change: Change) -> &'static str {
    match change {
        Change::Created => "created",
        Change::Revived => "revived",
        Change::Updated => "updated",
        Change::Unchanged => "unchanged",
    }
}

/// Only Forge's own backend invocations (no user, no UI module) may drive the lifecycle.
/// `xen:macro` is the module type Forge documents for frontend invocations; a trigger's was
/// `core:trigger` in a real token.
fn from_forge_backend(claims: &FitClaims) -> Result<(), ApiError> {
    let from_ui = claims.principal.is_some()
        || claims.app.module.kind == "xen:macro"
        || claims
            .context
            .as_ref()
            .is_some_and(|c| c.extension.is_some());
    if from_ui {
        return Err(ApiError::Forbidden(
            "Lifecycle routes take Forge's trigger invocations only, not a UI module's.".into(),
        ));
    }
    Ok(())
}

/// The event's type, from the flat body Forge documents for remotes or from a `payload`
/// wrapper (the docs' retry example nests it; which one Forge sends is not certain).
fn event_type(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let find = |v: &Value| {
        v.get("eventType")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    find(&value).or_else(|| value.get("payload").and_then(find))
}

async fn lifecycle(
    State(state): State<AppState>,
    Fit(claims): Fit,
    oauth: ForgeOAuth,
    body: Bytes,
) -> Result<Json<Answer>, ApiError> {
    from_forge_backend(&claims)?;
    let (event, name) = match event_type(&body).as_deref() {
        Some(INSTALLED_EVENT) => (Lifecycle::Installed, "installed"),
        Some(UPGRADED_EVENT) => (Lifecycle::Upgraded, "upgraded"),
        other => {
            // 2xx, or Forge would retry an event this remote will never act on.
            tracing::warn!(event = ?other, "ignoring a lifecycle event of an unknown type");
            return Ok(Json(Answer {
                event: "unknown",
                change: "ignored",
            }));
        }
    };
    let change = installations::record(&state.services, &claims, &oauth, event).await?;
    Ok(Json(Answer {
        event: name,
        change: change_name(change),
    }))
}

async fn uninstall(
    State(state): State<AppState>,
    Fit(claims): Fit,
    oauth: ForgeOAuth,
) -> Result<Json<Answer>, ApiError> {
    from_forge_backend(&claims)?;
    let change =
        installations::record(&state.services, &claims, &oauth, Lifecycle::Uninstalling).await?;
    Ok(Json(Answer {
        event: "uninstalling",
        change: change_name(change),
    }))
}

async fn scheduled(
    State(state): State<AppState>,
    Fit(claims): Fit,
    oauth: ForgeOAuth,
) -> Result<Json<Answer>, ApiError> {
    from_forge_backend(&claims)?;
    let refreshed = installations::scheduled(&state.services, &claims, &oauth).await?;
    Ok(Json(Answer {
        event: "scheduled",
        change: if refreshed { "updated" } else { "unchanged" },
    }))
}
