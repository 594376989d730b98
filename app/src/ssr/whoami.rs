//! What the remote verified about the calling invocation, as the panel reads it.

use crate::api::{
    ContentRef, EnvironmentRef, ExtensionContext, InvocationContext, IssueRef, ModuleRef,
    ProjectRef, SpaceRef, WhoAmI,
};
use forge_fit::{ContextClaims, ExtensionClaims, FitClaims};

/// The claims of a verified FIT, in the shape of `GET /whoami`'s answer.
pub fn who_am_i(claims: &FitClaims) -> WhoAmI {
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
