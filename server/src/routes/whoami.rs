//! `GET /whoami`: what the remote verified about the calling invocation. The panel uses it to
//! show who and where it is; tests use it to see the claims a token carried.

use app::{
    api::{
        ContentRef, EnvironmentRef, ExtensionContext, InvocationContext, IssueRef, ModuleRef,
        ProjectRef, SpaceRef, WhoAmI,
    },
    routes::{Operation, Whoami},
};
use axum::{routing::get, Json, Router};
use forge_fit::{ContextClaims, ExtensionClaims, Fit, FitClaims};

/// The route; it sits behind the FIT layer like every API route.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route(Whoami::PATH, get(whoami))
}

#[tracing::instrument(name = "Who am I", skip_all)]
async fn whoami(Fit(claims): Fit) -> Json<<Whoami as Operation>::Response> {
    Json(who_am_i(&claims))
}

fn who_am_i(claims: &FitClaims) -> WhoAmI {
    let app = &claims.app;
    WhoAmI {
        app_id: app.id.clone(),
        installation_id: app.installation_id.clone(),
        principal: claims.principal.clone(),
        module: ModuleRef {
            kind: app.module.kind.clone(),
            key: app.module.key.clone(),
        },
        environment: EnvironmentRef {
            kind: app.environment.kind.as_str().to_owned(),
            id: app.environment.id.clone(),
        },
        app_version: app.app_version.clone(),
        context: claims.context.as_ref().map(context),
    }
}

fn context(context: &ContextClaims) -> InvocationContext {
    InvocationContext {
        cloud_id: context.cloud_id.clone(),
        module_key: context.module_key.clone(),
        site_url: context.site_url.clone(),
        local_id: context.local_id.clone(),
        extension: context.extension.as_ref().map(extension),
    }
}

fn extension(extension: &ExtensionClaims) -> ExtensionContext {
    match extension {
        ExtensionClaims::IssuePanel { issue, project } => ExtensionContext::IssuePanel {
            issue: IssueRef {
                id: issue.id.clone(),
                key: issue.key.clone(),
            },
            project: ProjectRef {
                id: project.id.clone(),
                key: project.key.clone(),
            },
        },
        ExtensionClaims::Macro {
            content,
            space,
            config,
            ..
        } => ExtensionContext::Macro {
            content: content.as_ref().map(|c| ContentRef {
                id: c.id.clone(),
                kind: c.kind.clone(),
            }),
            space: space.as_ref().map(|s| SpaceRef {
                id: s.id.clone(),
                key: s.key.clone(),
            }),
            config: config.clone(),
        },
        ExtensionClaims::Other => ExtensionContext::Other,
    }
}
