//! `wxpay bench`: small runs against a sandbox; the counts must add up and
//! the output keep its shape. No timing is asserted.

use crate::support;

use std::collections::BTreeMap;

use serde_json::Value;
use wxpay_sandbox::Sandbox;

use support::{Run, run, run_async, sandbox_vars, wxpay};

const LIST: &str = "/v3/marketing/favor/stocks?offset=0&limit=10&stock_creator_mchid={mchid}";

fn json_of(run: &Run) -> Value {
    serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}):\n{}", run.stdout))
}

fn number(report: &Value, key: &str) -> f64 {
    report[key]
        .as_f64()
        .unwrap_or_else(|| panic!("`{key}` is not a number in {report}"))
}

#[test]
fn without_a_base_url_it_benches_an_embedded_sandbox() {
    let done = run(wxpay(
        &[
            "bench",
            "--requests",
            "30",
            "--concurrency",
            "4",
            "--warmup",
            "2",
            "--json",
            "GET",
            LIST,
        ],
        &BTreeMap::new(),
    ));
    done.expect_code(0);
    let report = json_of(&done);
    assert_eq!(report["server"], "embedded", "{report}");
    assert_eq!(report["cpu_includes_server"], true, "{report}");
    assert_eq!(report["requests"], 30, "{report}");
    assert_eq!(report["concurrency"], 4, "{report}");
    assert_eq!(report["ok"], 30, "{report}");
    assert_eq!(report["errors"], serde_json::json!({}), "{report}");
    assert!(number(&report, "requests_per_s") > 0.0, "{report}");
    let latency = &report["latency_ms"];
    for key in ["p50", "p90", "p99", "max", "mean"] {
        assert!(latency[key].as_f64().is_some(), "latency {key}: {report}");
    }
    assert!(number(latency, "p50") <= number(latency, "p99"), "{report}");
    assert!(number(latency, "p99") <= number(latency, "max"), "{report}");
    if cfg!(target_os = "linux") {
        assert!(number(&report, "cpu_ms_per_request") >= 0.0, "{report}");
        assert!(number(&report, "peak_rss_kib") > 0.0, "{report}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_a_sandbox_errors_are_counted_by_kind() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let vars = sandbox_vars(&sandbox, dir.path());
    // Targets are used in turn: half the requests ask for an order that
    // does not exist.
    let done = run_async(wxpay(
        &[
            "bench",
            "-n",
            "20",
            "-c",
            "3",
            "--warmup",
            "0",
            "--backend",
            "rust-crypto",
            "--json",
            "GET",
            LIST,
            "/v3/pay/transactions/out-trade-no/nosuchorder?mchid={mchid}",
        ],
        &vars,
    ))
    .await;
    done.expect_code(0);
    let report = json_of(&done);
    assert_eq!(report["server"], "external", "{report}");
    assert_eq!(report["cpu_includes_server"], false, "{report}");
    assert_eq!(report["backend"], "RustCrypto", "{report}");
    assert_eq!(report["ok"], 10, "{report}");
    let errors = report["errors"].as_object().expect("errors by kind");
    assert_eq!(errors.len(), 1, "{report}");
    let (kind, count) = errors.iter().next().expect("one kind");
    assert!(kind.starts_with("api 404 "), "{report}");
    assert_eq!(count, 10, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_text_report_names_every_figure() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let vars = sandbox_vars(&sandbox, dir.path());
    let done = run_async(wxpay(
        &[
            "bench",
            "-n",
            "10",
            "-c",
            "2",
            "--sign-off-workers",
            "GET",
            LIST,
        ],
        &vars,
    ))
    .await;
    done.expect_code(0);
    for needle in [
        "10 requests, 2 in flight",
        "external server",
        "signing on the blocking pool",
        "requests/s",
        "p50 ",
        "p99 ",
        "ms/request",
        "client only",
        "ok 10, errors 0",
    ] {
        assert!(done.stdout.contains(needle), "{needle}:\n{}", done.stdout);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_requests_are_each_sent_once_in_target_order() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let vars = sandbox_vars(&sandbox, dir.path());
    let done = run_async(wxpay(
        &[
            "bench",
            "--presign",
            "-n",
            "30",
            "-c",
            "4",
            "--warmup",
            "0",
            "--json",
            "GET",
            LIST,
            "/v3/pay/transactions/out-trade-no/nosuchorder?mchid={mchid}",
        ],
        &vars,
    ))
    .await;
    done.expect_code(0);
    let report = json_of(&done);
    assert_eq!(report["presigned"], true, "{report}");
    // Request i goes to target i mod 2, signed for it: half are found.
    assert_eq!(report["ok"], 15, "{report}");
    let errors = report["errors"].as_object().expect("errors by kind");
    let (kind, count) = errors.iter().next().expect("one kind");
    assert!(kind.starts_with("api 404 "), "{report}");
    assert_eq!(count, 15, "{report}");
}

#[test]
fn bad_arguments_are_usage_errors() {
    let both = run(wxpay(
        &["bench", "--presign", "--sign-off-workers", "GET", "/v3/x"],
        &BTreeMap::new(),
    ));
    both.expect_code(2);
    let no_target = run(wxpay(&["bench", "GET"], &BTreeMap::new()));
    no_target.expect_code(2);
    let url = run(wxpay(
        &["bench", "GET", "https://example.com/v3/x"],
        &BTreeMap::new(),
    ));
    url.expect_code(2);
    let backend = run(wxpay(
        &["bench", "--backend", "openssl", "GET", "/v3/x"],
        &BTreeMap::new(),
    ));
    backend.expect_code(2);
    assert!(
        backend.stderr.contains("not a compiled-in backend"),
        "{}",
        backend.stderr
    );
}
