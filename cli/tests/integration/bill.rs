//! `wxpay bill` end to end against an in-process sandbox: the written
//! bill matches the announced SHA-1 (plain, gzip, stdout, fund flow), a
//! corrupted bill leaves nothing behind, a bad date sends nothing.

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use wxpay_sandbox::{Faults, Sandbox};

use support::{Run, run, run_async, sandbox_vars, sha1_hex, wxpay};

const DATE: &str = "2024-06-11";

/// The files in `dir`, sorted (the sandbox's key files included).
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// No progress bar: no carriage return, no escape sequence, nothing but
/// the summary line (stderr is a pipe in the tests).
fn assert_plain_stderr(run: &Run) {
    assert!(
        !run.stderr.contains('\r') && !run.stderr.contains('\u{1b}'),
        "control characters on stderr: {:?}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

/// The `hash_value` the sandbox announces for `query` (through `wxpay
/// request`, which verifies the answer).
async fn announced(vars: &BTreeMap<String, String>, target: &str) -> String {
    let applied = run_async(wxpay(&["request", "GET", target], vars)).await;
    applied.expect_code(0);
    let info: Value = serde_json::from_str(&applied.stdout).expect("JSON");
    info["hash_value"]
        .as_str()
        .expect("hash_value")
        .to_ascii_lowercase()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bill_writes_the_csv_whose_sha1_matches_plain_gzip_and_stdout() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let vars = sandbox_vars(&sandbox, dir.path());
    let expected = announced(&vars, &format!("/v3/bill/tradebill?bill_date={DATE}")).await;
    let before = files(dir.path());

    let out = dir.path().join("trade.csv");
    let plain = run_async(wxpay(
        &["bill", "--date", DATE, "--out", &out.display().to_string()],
        &vars,
    ))
    .await;
    plain.expect_code(0);
    let bytes = support::read_bytes(&out);
    assert_eq!(sha1_hex(&bytes), expected);
    assert!(
        String::from_utf8(bytes.clone())
            .expect("UTF-8")
            .starts_with("交易时间,"),
        "a trade bill"
    );
    assert!(plain.stdout.is_empty(), "{}", plain.stdout);
    assert_plain_stderr(&plain);
    for part in [
        format!("trade bill {DATE} (ALL)"),
        "4 rows".to_owned(),
        format!("{} bytes", bytes.len()),
        format!("SHA-1 {expected} verified"),
        "trade.csv".to_owned(),
    ] {
        assert!(plain.stderr.contains(&part), "{part}: {}", plain.stderr);
    }

    // Gzip on the wire, the same CSV on disk; `--type`, `--tar-type` in any case.
    let gz_out = dir.path().join("trade-gz.csv");
    let gzip = run_async(wxpay(
        &[
            "bill",
            "--date",
            DATE,
            "--type",
            "all",
            "--tar-type",
            "gzip",
            "-o",
            &gz_out.display().to_string(),
        ],
        &vars,
    ))
    .await;
    gzip.expect_code(0);
    assert_eq!(support::read_bytes(&gz_out), bytes);
    assert!(gzip.stderr.contains("(ALL, gzip)"), "{}", gzip.stderr);
    assert_plain_stderr(&gzip);

    // To stdout: the same bytes, the summary still on stderr.
    let stdout = run_async(wxpay(
        &["bill", "--date", DATE, "--tar-type", "GZIP", "--out", "-"],
        &vars,
    ))
    .await;
    stdout.expect_code(0);
    assert_eq!(stdout.stdout_bytes, bytes);
    assert!(
        stdout.stderr.contains("written to stdout"),
        "{}",
        stdout.stderr
    );
    assert_plain_stderr(&stdout);

    // Only the two bills were added: no temporary file left next to them.
    let mut after = before.clone();
    after.extend(["trade-gz.csv".to_owned(), "trade.csv".to_owned()]);
    after.sort();
    assert_eq!(files(dir.path()), after);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bill_downloads_the_fund_flow_bill() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let vars = sandbox_vars(&sandbox, dir.path());
    let expected = announced(
        &vars,
        &format!("/v3/bill/fundflowbill?bill_date={DATE}&account_type=FEES"),
    )
    .await;

    let out = dir.path().join("fund.csv");
    let fund = run_async(wxpay(
        &[
            "bill",
            "--date",
            DATE,
            "--fund-flow",
            "--account-type",
            "FEES",
            "--out",
            &out.display().to_string(),
        ],
        &vars,
    ))
    .await;
    fund.expect_code(0);
    let bytes = support::read_bytes(&out);
    assert_eq!(sha1_hex(&bytes), expected);
    assert!(
        String::from_utf8(bytes)
            .expect("UTF-8")
            .starts_with("记账时间,"),
        "a fund flow bill"
    );
    assert!(
        fund.stderr
            .contains(&format!("fund flow bill {DATE} (FEES)")),
        "{}",
        fund.stderr
    );
    assert!(fund.stderr.contains("2 rows"), "{}", fund.stderr);

    // --type is for trade bills, --account-type for fund flow bills.
    let mixed = run_async(wxpay(
        &[
            "bill",
            "--date",
            DATE,
            "--fund-flow",
            "--type",
            "ALL",
            "--out",
            "-",
        ],
        &vars,
    ))
    .await;
    mixed.expect_code(2);
    let orphan = run_async(wxpay(
        &[
            "bill",
            "--date",
            DATE,
            "--account-type",
            "FEES",
            "--out",
            "-",
        ],
        &vars,
    ))
    .await;
    orphan.expect_code(2);
    assert!(orphan.stderr.contains("--fund-flow"), "{}", orphan.stderr);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bill_that_does_not_match_its_hash_leaves_no_file() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let vars = sandbox_vars(&sandbox, dir.path());
    sandbox.set_faults(Faults {
        corrupt_bill: true,
        ..Default::default()
    });
    let before = files(dir.path());

    for tar_type in [None, Some("GZIP")] {
        let out = dir.path().join("bill.csv");
        let mut args = vec![
            "bill".to_owned(),
            "--date".to_owned(),
            DATE.to_owned(),
            "--out".to_owned(),
            out.display().to_string(),
        ];
        if let Some(tar_type) = tar_type {
            args.extend(["--tar-type".to_owned(), tar_type.to_owned()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let corrupt = run_async(wxpay(&args, &vars)).await;
        corrupt.expect_code(4);
        assert!(
            corrupt
                .stderr
                .starts_with("error: the bill did not match its hash"),
            "{}",
            corrupt.stderr
        );
        assert!(
            corrupt.stderr.contains("nothing was written to `"),
            "{}",
            corrupt.stderr
        );
        assert!(
            corrupt.stderr.contains("run the same command again"),
            "{}",
            corrupt.stderr
        );
        assert!(!out.exists(), "{tar_type:?}: the bill was left at FILE");
        assert_eq!(files(dir.path()), before, "{tar_type:?}: a file was left");
    }

    // A file already at FILE stays as it was.
    let existing = dir.path().join("old.csv");
    std::fs::write(&existing, "yesterday's bill").expect("write");
    let kept = run_async(wxpay(
        &[
            "bill",
            "--date",
            DATE,
            "--out",
            &existing.display().to_string(),
        ],
        &vars,
    ))
    .await;
    kept.expect_code(4);
    assert_eq!(support::read_bytes(&existing), b"yesterday's bill");

    // To stdout: nothing at all is printed there.
    let stdout = run_async(wxpay(&["bill", "--date", DATE, "--out", "-"], &vars)).await;
    stdout.expect_code(4);
    assert!(stdout.stdout_bytes.is_empty(), "{}", stdout.stdout);
    assert!(
        stdout.stderr.contains("nothing was written to stdout"),
        "{}",
        stdout.stderr
    );
    sandbox.shutdown().await;
}

#[test]
fn a_bad_date_is_refused_before_any_request() {
    // A server that would notice any connection.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    listener.set_nonblocking(true).expect("nonblocking");
    let base_url = format!("http://{}", listener.local_addr().expect("address"));
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("bill.csv").display().to_string();
    let vars = BTreeMap::from([
        ("WXPAY_BASE_URL".to_owned(), base_url),
        ("WXPAY_MCHID".to_owned(), "1900009191".to_owned()),
        ("WXPAY_SERIAL".to_owned(), "ABCDEF".to_owned()),
        ("WXPAY_APIV3_KEY".to_owned(), "0".repeat(32)),
    ]);

    for bad in [
        "2023-02-29",
        "2024-6-1",
        "11/06/2024",
        "2024-13-01",
        "yesterday",
    ] {
        let refused = run(wxpay(&["bill", "--date", bad, "--out", &out], &vars));
        refused.expect_code(2);
        assert!(
            refused
                .stderr
                .contains(&format!("`{bad}` is not a date written YYYY-MM-DD")),
            "{bad}: {}",
            refused.stderr
        );
        assert!(
            !refused.stderr.contains("missing settings"),
            "{}",
            refused.stderr
        );
    }
    assert!(
        matches!(listener.accept(), Err(error) if error.kind() == std::io::ErrorKind::WouldBlock),
        "a request was sent"
    );
    assert!(!Path::new(&out).exists());

    // A folder that does not exist is also refused before any request.
    let nowhere = dir.path().join("no/such/folder/bill.csv");
    let no_folder = run(wxpay(
        &[
            "bill",
            "--date",
            DATE,
            "--out",
            &nowhere.display().to_string(),
        ],
        &vars,
    ));
    no_folder.expect_code(2);
    assert!(
        no_folder.stderr.contains("does not exist"),
        "{}",
        no_folder.stderr
    );
    assert!(
        matches!(listener.accept(), Err(error) if error.kind() == std::io::ErrorKind::WouldBlock),
        "a request was sent"
    );
}

/// `arg` quoted for `sh`.
fn shell_quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', "'\\''"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_the_download_shows_a_progress_bar() {
    // util-linux `script` gives the command a terminal; without it, skip.
    let has_script = std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !has_script {
        eprintln!(
            "SKIPPED on_a_terminal_the_download_shows_a_progress_bar: no util-linux `script`"
        );
        return;
    }
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let vars = sandbox_vars(&sandbox, dir.path());
    let out = dir.path().join("bill.csv");
    let line = [
        env!("CARGO_BIN_EXE_wxpay"),
        "bill",
        "--date",
        DATE,
        "--out",
        &out.display().to_string(),
    ]
    .map(shell_quote)
    .join(" ");
    let mut command = std::process::Command::new("script");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("WXPAY_") {
            command.env_remove(name);
        }
    }
    command
        .args(["-qec", &line, "/dev/null"])
        .env("XDG_CONFIG_HOME", support::NO_CONFIG_HOME)
        .env("TERM", "xterm")
        .envs(&vars);
    let shown = run_async(command).await;
    shown.expect_code(0);
    assert!(
        shown.stdout.contains("downloading the bill"),
        "no progress bar on a terminal: {:?}",
        shown.stdout
    );
    assert!(shown.stdout.contains("4 rows"), "{:?}", shown.stdout);
    assert!(out.is_file());
    sandbox.shutdown().await;
}
