//! Traces over OTLP, from the real `server` binary to a receiver this test runs and decodes:
//! the request's span is in Forge's trace (its `x-b3-traceid`, parented on its `x-b3-spanid`),
//! carries the installation, and never a token; the Jira call it makes carries the context.

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;
#[path = "common/server_process.rs"]
mod server_process;

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{body::Bytes, http::HeaderMap, routing, Router};
use opentelemetry_proto::tonic::{
    collector::trace::v1::ExportTraceServiceRequest,
    common::v1::any_value::Value,
    trace::v1::{span::SpanKind, Span},
};
use prost::Message as _;

use helpers::{claims, JwksServer, KEY};
use server_process::ServerProcess;

const TRACE_ID: &str = "6b8f4f3c2a1d0e9f8a7b6c5d4e3f2a1b";
const PARENT_SPAN_ID: &str = "a1b2c3d4e5f60718";
const SYSTEM_TOKEN: &str = "system-token-never-in-a-trace-7f3e";
const USER_TOKEN: &str = "user-token-never-in-a-trace-1c9d";

async fn listen(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
        .map(|v| match v {
            Value::StringValue(s) => s.clone(),
            other => format!("{other:?}"),
        })
}

#[tokio::test]
async fn a_requests_span_is_in_forges_trace_with_its_installation_and_no_token() {
    // A receiver for OTLP/HTTP protobuf, which keeps every span it is sent.
    let spans: Arc<Mutex<Vec<Span>>> = Arc::default();
    let otlp = listen(Router::new().route(
        "/v1/traces",
        routing::post({
            let spans = spans.clone();
            move |body: Bytes| async move {
                let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                let mut spans = spans.lock().unwrap();
                for resource in request.resource_spans {
                    for scope in resource.scope_spans {
                        spans.extend(scope.spans);
                    }
                }
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }
        }),
    ))
    .await;
    // Jira's property endpoint, keeping the headers of each call.
    let jira_calls: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
    let jira = listen(Router::new().route(
        "/ex/jira/{cloud}/rest/api/3/issue/{issue}/properties/{key}",
        routing::put({
            let calls = jira_calls.clone();
            move |headers: HeaderMap| async move {
                calls.lock().unwrap().push(headers);
                axum::http::StatusCode::OK
            }
        }),
    ))
    .await;
    let jwks = JwksServer::start(&[&KEY]).await;

    let mut server = ServerProcess::start(
        &jwks.url,
        &[
            ("FORGE_API_HOSTS", "127.0.0.1"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &otlp),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("SHUTDOWN_GRACE_SECS", "0"),
            // Quiet logs (the default here); the spans are exported all the same, since
            // TRACES_FILTER defaults to info.
            ("RUST_LOG", "warn"),
        ],
    )
    .await;
    let base = server.base();
    let client = reqwest::Client::new();

    let mut claims = claims();
    let cloud = claims.context.as_ref().unwrap().cloud_id.clone();
    claims.app.api_base_url = format!("{jira}/ex/jira/{cloud}");
    let fit = KEY.sign(&claims);
    let response = client
        // The trailing-slash twin: still the route `/tasks` below.
        .post(format!("{base}/tasks/"))
        .bearer_auth(&fit)
        .header("x-b3-traceid", TRACE_ID)
        .header("x-b3-spanid", PARENT_SPAN_ID)
        .header("x-b3-sampled", "1")
        .header("x-forge-oauth-system", SYSTEM_TOKEN)
        .header("x-forge-oauth-user", USER_TOKEN)
        .json(&serde_json::json!({ "title": "Traced" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);

    let deadline = Instant::now() + Duration::from_secs(20);
    let request_span = loop {
        let found = spans
            .lock()
            .unwrap()
            .iter()
            .find(|s| hex(&s.trace_id) == TRACE_ID && hex(&s.parent_span_id) == PARENT_SPAN_ID)
            .cloned();
        if let Some(span) = found {
            break span;
        }
        assert!(
            Instant::now() < deadline,
            "no span of trace {TRACE_ID} arrived"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(hex(&request_span.parent_span_id), PARENT_SPAN_ID);
    assert_eq!(
        attribute(&request_span, "installation").as_deref(),
        Some(claims.app.installation_id.as_str())
    );
    assert_eq!(attribute(&request_span, "method").as_deref(), Some("POST"));
    // Named and described as OpenTelemetry's HTTP conventions say, for trace viewers.
    assert_eq!(request_span.name, "POST /tasks");
    assert_eq!(request_span.kind, SpanKind::Server as i32);
    assert_eq!(
        attribute(&request_span, "http.route").as_deref(),
        Some("/tasks")
    );
    assert_eq!(
        attribute(&request_span, "http.response.status_code").as_deref(),
        Some("IntValue(201)")
    );

    // The Jira call went out in the same trace, from a span of this request.
    let calls = jira_calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "one progress write");
    let traceparent = calls[0]["traceparent"].to_str().unwrap().to_owned();
    assert!(
        traceparent.starts_with(&format!("00-{TRACE_ID}-")) && traceparent.ends_with("-01"),
        "{traceparent}"
    );
    assert_eq!(calls[0]["x-b3-traceid"], TRACE_ID);

    // Stop the server: what is still buffered is flushed on the way out.
    server.sigterm();
    assert_eq!(server.exit_code().await, Some(0));

    let spans = spans.lock().unwrap().clone();
    let ours: Vec<&Span> = spans
        .iter()
        .filter(|s| hex(&s.trace_id) == TRACE_ID)
        .collect();
    let jira_span_id = traceparent.split('-').nth(2).unwrap().to_owned();
    let jira_span = ours
        .iter()
        .find(|s| hex(&s.span_id) == jira_span_id)
        .unwrap_or_else(|| {
            panic!(
                "the span the Jira call names as its parent was not exported: {:?}",
                ours.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        });
    // A client span of its own, as OpenTelemetry's HTTP conventions describe one.
    assert_eq!(jira_span.name, "PUT");
    assert_eq!(jira_span.kind, SpanKind::Client as i32);
    assert_eq!(
        attribute(jira_span, "http.request.method").as_deref(),
        Some("PUT")
    );
    assert_eq!(
        attribute(jira_span, "server.address").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        attribute(jira_span, "http.response.status_code").as_deref(),
        Some("IntValue(200)")
    );
    assert!(attribute(jira_span, "error.type").is_none());
    // No token anywhere: not in a name, not in an attribute, not in an event.
    let everything = format!("{spans:?}");
    for secret in [SYSTEM_TOKEN, USER_TOKEN, fit.as_str()] {
        assert!(!everything.contains(secret), "a token reached the traces");
    }
}
