//! What the client logs about a call and its retries, and what it never
//! logs.
//!
//! This binary holds this one test on purpose. Its subscriber is the
//! process-wide default, so that every thread's events reach it whatever
//! the order in which callsites register. A thread-local subscriber
//! (`set_default`) in a binary whose other tests run on other threads is
//! not reliable: while it is the only dispatcher registered, `tracing-core`
//! decides a callsite's interest from the subscriber of whichever thread
//! reaches the callsite first, so a `warn!` first reached by another test
//! stays disabled for this one (a CI run lost its "giving up" event so).

use crate::support;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::{CANNED_SERIAL as SERIAL, Canned, CannedServer, canned_builder, keys};
use wxpay::{NoContent, RetryPolicy};

/// A `tracing` subscriber that writes every span, field record and event of
/// `wxpay_core` as one line of text.
#[derive(Clone, Default)]
struct Capture {
    lines: Arc<Mutex<Vec<String>>>,
    next_id: Arc<std::sync::atomic::AtomicU64>,
}

struct Line<'a>(&'a mut String);

impl tracing::field::Visit for Line<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.target().starts_with("wxpay_core")
    }

    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let id = 1 + self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut line = format!("span#{id} {}", span.metadata().name());
        span.record(&mut Line(&mut line));
        self.lines.lock().unwrap().push(line);
        tracing::span::Id::from_u64(id)
    }

    fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut line = format!("record span#{}", span.into_u64());
        values.record(&mut Line(&mut line));
        self.lines.lock().unwrap().push(line);
    }

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut line = format!("event {}", event.metadata().level());
        event.record(&mut Line(&mut line));
        self.lines.lock().unwrap().push(line);
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

/// An operation whose path, query and body all carry values that must never
/// reach a log.
#[wxpay::endpoint(POST, "/v3/orders/<out_trade_no>/close", idempotent)]
struct CloseOrder {
    out_trade_no: String,
    #[wxpay(query)]
    sub_mchid: String,
    note: String,
}

fn close() -> CloseOrder {
    CloseOrder {
        out_trade_no: "ORDER-SECRET-4711".into(),
        sub_mchid: "SUBMCH-SECRET-0042".into(),
        note: "BODY-SECRET-note".into(),
    }
}

#[tokio::test]
async fn tracing_names_the_template_and_attempts_but_never_values() {
    let keys = keys().await;
    let echo = r#"{"code":"SYSTEM_ERROR","message":"ECHO-SECRET of ORDER-SECRET-4711"}"#;
    let server = CannedServer::start(vec![
        Canned::unsigned(500, echo),
        Canned::signed(204, "", &keys.signer, SERIAL),
        Canned::unsigned(503, echo),
        Canned::unsigned(503, echo),
    ])
    .await;
    let client = canned_builder(&keys, &server.base_url)
        .retry(
            RetryPolicy::default()
                .with_max_attempts(2)
                .with_base_delay(Duration::from_millis(10)),
        )
        .build()
        .unwrap();

    let capture = Capture::default();
    tracing::subscriber::set_global_default(capture.clone())
        .expect("no other subscriber is installed in this binary");
    let done: NoContent = client.send(close()).await.expect("the retry succeeds");
    assert_eq!(done, NoContent);
    let err = client.send(close()).await.unwrap_err();
    assert_eq!(err.attempts(), Some(2));

    let log = capture.lines.lock().unwrap().join("\n");
    for expected in [
        "wxpay.call",
        r#"method="POST""#,
        r#"template="/v3/orders/{out_trade_no}/close""#,
        "attempt=1",
        "attempt=2",
        "record span#1 attempts=2",
        "record span#2 attempts=2",
        "status=500",
        "status=204",
        r#"request_id="canned-request-id""#,
        "elapsed_ms=",
        r#"reason="HTTP 500""#,
        "delay_ms=",
        "retrying",
        "event WARN",
        "giving up",
        r#"why="attempts exhausted""#,
    ] {
        assert!(log.contains(expected), "missing {expected:?} in:\n{log}");
    }
    for secret in [
        "ORDER-SECRET",
        "SUBMCH-SECRET",
        "BODY-SECRET",
        "ECHO-SECRET",
        "WECHATPAY2-SHA256-RSA2048",
        "1900009191",
    ] {
        assert!(!log.contains(secret), "{secret:?} was logged:\n{log}");
    }
}
