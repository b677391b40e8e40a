//! `wxpay request --retries N [--idempotency-key MEMBER]` and `wxpay bench
//! --retries N`: one command opts in to the retry rule typed calls follow.
//! A sandbox answering every request with a 500 shows how many attempts
//! each kind of request gets.

use crate::support;

use wxpay_sandbox::{Faults, Sandbox};

use support::{run_async, sandbox_vars, wxpay};

const STOCK_LIST: &str = "/v3/marketing/favor/stocks?offset=0&limit=10&stock_creator_mchid=";

async fn failing_sandbox() -> Sandbox {
    let sandbox = Sandbox::start().await.expect("sandbox");
    sandbox.set_faults(Faults {
        status_override: Some((500, "SYSTEM_ERROR".into(), "try again".into())),
        ..Faults::default()
    });
    sandbox
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_is_retried_and_a_write_only_with_its_number() {
    let sandbox = failing_sandbox().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let vars = sandbox_vars(&sandbox, dir.path());
    let list = format!("{STOCK_LIST}{}", sandbox.credentials().mchid);

    // Without --retries: one attempt, as before.
    let done = run_async(wxpay(&["request", "GET", &list], &vars)).await;
    done.expect_code(3);
    assert!(
        !done.stderr.contains("attempts were made"),
        "{}",
        done.stderr
    );

    // A GET with --retries 2: three attempts.
    let done = run_async(wxpay(&["request", "--retries", "2", "GET", &list], &vars)).await;
    done.expect_code(3);
    assert!(
        done.stderr.contains("3 attempts were made"),
        "{}",
        done.stderr
    );

    // A POST without a key: the 500 may have come after the server acted,
    // so it is not sent again.
    let body = r#"{"out_request_no":"R-1","stock_creator_mchid":"1900009191"}"#;
    let post = [
        "request",
        "--retries",
        "2",
        "POST",
        "/v3/marketing/favor/stocks",
        "-d",
        body,
    ];
    let done = run_async(wxpay(&post, &vars)).await;
    done.expect_code(3);
    assert!(
        !done.stderr.contains("attempts were made"),
        "{}",
        done.stderr
    );

    // The same POST naming the member WeChat Pay recognises a repeat by.
    let mut keyed = post.to_vec();
    keyed.extend(["--idempotency-key", "out_request_no"]);
    let done = run_async(wxpay(&keyed, &vars)).await;
    done.expect_code(3);
    assert!(
        done.stderr.contains("3 attempts were made"),
        "{}",
        done.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_the_body_lacks_is_a_usage_error() {
    let sandbox = failing_sandbox().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let vars = sandbox_vars(&sandbox, dir.path());
    for (args, needle) in [
        (
            vec![
                "request",
                "--retries",
                "1",
                "--idempotency-key",
                "out_trade_no",
                "POST",
                "/v3/x",
                "-d",
                r#"{"out_request_no":"R-1"}"#,
            ],
            "no non-empty `out_trade_no`",
        ),
        (
            vec![
                "request",
                "--retries",
                "1",
                "--idempotency-key",
                "out_trade_no",
                "POST",
                "/v3/x",
                "-d",
                r#"{"out_trade_no":""}"#,
            ],
            "no non-empty `out_trade_no`",
        ),
        (
            vec![
                "request",
                "--retries",
                "1",
                "--idempotency-key",
                "out_trade_no",
                "GET",
                "/v3/x",
            ],
            "GET requests carry no body",
        ),
    ] {
        let done = run_async(wxpay(&args, &vars)).await;
        done.expect_code(2);
        assert!(done.stderr.contains(needle), "{args:?}: {}", done.stderr);
    }
    // --idempotency-key without --retries: clap says what is missing.
    let done = run_async(wxpay(
        &[
            "request",
            "--idempotency-key",
            "k",
            "POST",
            "/v3/x",
            "-d",
            "{}",
        ],
        &vars,
    ))
    .await;
    done.expect_code(2);
    assert!(done.stderr.contains("--retries"), "{}", done.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_counts_each_request_once_whatever_its_attempts() {
    let sandbox = failing_sandbox().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let vars = sandbox_vars(&sandbox, dir.path());
    let list = format!("{STOCK_LIST}{}", sandbox.credentials().mchid);
    let done = run_async(wxpay(
        &[
            "bench",
            "-n",
            "4",
            "-c",
            "2",
            "--warmup",
            "0",
            "--retries",
            "1",
            "--json",
            "GET",
            &list,
        ],
        &vars,
    ))
    .await;
    done.expect_code(0);
    let report: serde_json::Value = serde_json::from_str(done.stdout.trim()).expect("JSON");
    assert_eq!(report["requests"], 4, "{report}");
    assert_eq!(report["ok"], 0, "{report}");
    let errors = report["errors"].as_object().expect("errors by kind");
    assert_eq!(
        errors.values().filter_map(|n| n.as_u64()).sum::<u64>(),
        4,
        "{report}"
    );
}

#[test]
fn endpoints_say_whether_each_operation_may_be_sent_again() {
    let done = support::run(wxpay(
        &["endpoints", "--json", "/v3/refund/domestic/refunds"],
        &std::collections::BTreeMap::new(),
    ));
    done.expect_code(0);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&done.stdout).expect("a JSON array");
    let refund = rows
        .iter()
        .find(|row| row["template"] == "/v3/refund/domestic/refunds" && row["method"] == "POST")
        .expect("the refund operation");
    assert_eq!(refund["idempotency"], "keyed", "{refund}");
    assert_eq!(refund["idempotency_key"], "out_refund_no", "{refund}");
    let query = rows
        .iter()
        .find(|row| row["method"] == "GET")
        .expect("a refund query");
    assert_eq!(query["idempotency"], "natural", "{query}");
    assert_eq!(query["idempotency_key"], serde_json::Value::Null, "{query}");
}
