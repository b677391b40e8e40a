//! `wxpay sandbox` beyond loopback: refused without `--public` (the
//! control endpoints take no authentication), started with a warning with
//! it.

use crate::support;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::{Running, run, wxpay};

#[test]
fn a_non_loopback_address_is_refused_without_public() {
    for addr in ["0.0.0.0:0", "192.168.1.10:8080", "[::]:0"] {
        let done = run(wxpay(&["sandbox", "--addr", addr], &BTreeMap::new()));
        done.expect_code(2);
        assert!(
            done.stderr.contains("is not a loopback address")
                && done.stderr.contains("no authentication")
                && done.stderr.contains("--public")
                && done.stderr.contains("127.0.0.1"),
            "{addr}: {}",
            done.stderr
        );
        assert!(!done.stdout.contains("listening"), "{}", done.stdout);
    }
}

#[test]
fn public_starts_with_a_warning() {
    let mut command = wxpay(
        &["sandbox", "--addr", "0.0.0.0:0", "--public"],
        &BTreeMap::new(),
    );
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start wxpay sandbox");
    let stdout = support::lines(child.stdout.take().expect("stdout"));
    let stderr = support::lines(child.stderr.take().expect("stderr"));
    let mut running = Running { child };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = stdout
            .recv_timeout(left)
            .expect("`wxpay sandbox --public` said it listens within a minute");
        if line.starts_with("wxpay sandbox listening on ") {
            break;
        }
    }
    running.stop();
    let warnings: Vec<String> = stderr.iter().collect();
    assert!(
        warnings
            .iter()
            .any(|line| line.starts_with("warning: --public") && line.contains("0.0.0.0")),
        "{warnings:?}"
    );
}

#[test]
fn loopback_needs_no_flag_and_warns_of_nothing() {
    let mut command = wxpay(&["sandbox", "--addr", "127.0.0.1:0"], &BTreeMap::new());
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start wxpay sandbox");
    let stdout = support::lines(child.stdout.take().expect("stdout"));
    let stderr = support::lines(child.stderr.take().expect("stderr"));
    let mut running = Running { child };
    let line = stdout
        .recv_timeout(Duration::from_secs(60))
        .expect("a first line");
    assert!(line.starts_with("wxpay sandbox listening on "), "{line}");
    running.stop();
    let warnings: Vec<String> = stderr.iter().collect();
    assert!(
        !warnings.iter().any(|line| line.contains("warning")),
        "{warnings:?}"
    );
}
