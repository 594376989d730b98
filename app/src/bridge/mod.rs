//! The app's side of the Forge bridge: the generic shim, re-exported whole from
//! [`forge_bridge`] (crates/forge-bridge), and the typed client of this app's remote, which
//! knows its operations.

pub use forge_bridge::*;

mod client;

pub use client::{decode_answer, ApiError, Call, RemoteClient};

#[cfg(test)]
mod tests {
    use super::*;
    use forge_bridge::testing::{run, ScriptedHost as Scripted};

    #[test]
    fn the_client_picks_the_transport_of_the_operation() {
        let host = Scripted::replying([Ok(
            r#"{"status":200,"statusText":"OK","headers":{"content-type":"application/json"},"body":"{\"status\":\"ok\",\"version\":\"0.1.0\"}"}"#.into(),
        )]);
        let api = RemoteClient::new(Bridge::new(&host), "team-tasks");
        let health = run(api.healthz()).unwrap();
        assert_eq!(health.version, "0.1.0");
        let calls = host.calls.borrow();
        assert_eq!(calls[0].0, "fetchRemote");
        assert_eq!(
            calls[0].1.as_deref(),
            Some(
                r#"{"remoteKey":"team-tasks","fetchRequestInit":{"path":"/healthz","method":"GET","body":null,"headers":[]},"isMultipartFormData":false}"#
            )
        );
    }

    #[test]
    fn the_client_reports_remote_errors_with_their_body() {
        let host = Scripted::replying([Ok(
            r#"{"status":403,"headers":{"content-type":"application/json"},"body":"{\"code\":\"forbidden\",\"message\":\"no\"}"}"#.into(),
        )]);
        let api = RemoteClient::new(Bridge::new(&host), "team-tasks");
        match run(api.whoami()).unwrap_err() {
            ApiError::Remote { status, error } => {
                assert_eq!(status, 403);
                assert_eq!(error.code, "forbidden");
            }
            e => panic!("{e:?}"),
        }
    }
}
