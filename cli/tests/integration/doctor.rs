//! `wxpay doctor` against in-process sandboxes: a good configuration
//! passes (public-key and certificate mode), and each kind of mistake
//! fails its check, says what to fix, and exits non-zero.

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use wxpay_sandbox::{Faults, Sandbox, SandboxConfig};

use support::{Run, run_async, sandbox_vars, write, write_secret, wxpay};

/// The line of `check` in doctor's text output (its first line only).
fn line<'a>(run: &'a Run, check: &str) -> &'a str {
    run.stdout
        .lines()
        .find(|line| {
            line.get(6..)
                .is_some_and(|rest| rest.starts_with(&format!("{check}: ")))
        })
        .unwrap_or_else(|| panic!("no `{check}` line in\n{}", run.stdout))
}

/// The `fix:` line right after the line of `check`.
fn fix<'a>(run: &'a Run, check: &str) -> &'a str {
    let wanted = line(run, check);
    let mut lines = run.stdout.lines();
    lines.find(|line| *line == wanted);
    lines
        .next()
        .and_then(|next| next.trim_start().strip_prefix("fix: "))
        .unwrap_or_else(|| panic!("no fix after `{check}` in\n{}", run.stdout))
}

fn status<'a>(run: &'a Run, check: &str) -> &'a str {
    line(run, check)
        .split_whitespace()
        .next()
        .unwrap_or_default()
}

/// The sandbox's variables plus its APIv3 key in a 0600 file.
fn full_vars(sandbox: &Sandbox, dir: &Path) -> BTreeMap<String, String> {
    let mut vars = sandbox_vars(sandbox, dir);
    vars.insert(
        "WXPAY_APIV3_KEY_FILE".to_owned(),
        write_secret(dir, "apiv3.key", &sandbox.credentials().apiv3_key),
    );
    vars
}

async fn doctor(vars: &BTreeMap<String, String>, extra: &[&str]) -> Run {
    let mut args = vec!["doctor"];
    args.extend_from_slice(extra);
    run_async(wxpay(&args, vars)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_public_key_configuration_passes_every_check() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let vars = full_vars(&sandbox, dir.path());
    let credentials = sandbox.credentials();

    let run = doctor(&vars, &[]).await;
    run.expect_code(0);
    for check in [
        "settings",
        "private-key",
        "public-key",
        "apiv3-key",
        "permissions",
        "signature",
        "certificates",
        "answers",
        "callbacks",
        "clock",
    ] {
        assert_eq!(status(&run, check), "ok", "{check}:\n{}", run.stdout);
    }
    assert!(!run.stdout.contains("FAIL"), "{}", run.stdout);
    assert!(
        line(&run, "signature").contains("ORDER_NOT_EXIST"),
        "{}",
        run.stdout
    );
    assert!(
        line(&run, "answers").contains(&credentials.public_key_id),
        "{}",
        run.stdout
    );
    assert!(
        line(&run, "certificates").contains(&credentials.platform_certificate_serial),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("checks passed"), "{}", run.stdout);
    // No secret anywhere in what it prints.
    for secret in [
        &credentials.apiv3_key,
        &credentials.merchant_private_key_pem,
    ] {
        assert!(!run.stdout.contains(secret.as_str()));
        assert!(!run.stderr.contains(secret.as_str()));
    }

    let json = doctor(&vars, &["--json"]).await;
    json.expect_code(0);
    let value: Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(value["ok"], true, "{value}");
    assert_eq!(value["mchid"], credentials.mchid.as_str());
    let checks = value["checks"].as_array().expect("checks");
    assert!(checks.len() >= 10, "{value}");
    assert!(
        checks.iter().all(|check| check["status"] == "ok"),
        "{value}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_certificate_mode_configuration_passes() {
    let sandbox = Sandbox::start_with(SandboxConfig {
        certificate_mode: true,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut vars = full_vars(&sandbox, dir.path());
    vars.remove("WXPAY_PUBLIC_KEY_ID");
    vars.remove("WXPAY_PUBLIC_KEY_FILE");

    let run = doctor(&vars, &[]).await;
    run.expect_code(0);
    let serial = &sandbox.credentials().platform_certificate_serial;
    for check in ["answers", "callbacks"] {
        assert_eq!(status(&run, check), "ok", "{}", run.stdout);
        let text = line(&run, check);
        assert!(
            text.contains(&format!("platform certificate {serial}")),
            "{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_private_key_fails_the_signature_check() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let other = Sandbox::start().await.expect("another sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut vars = full_vars(&sandbox, dir.path());
    vars.insert(
        "WXPAY_PRIVATE_KEY_FILE".to_owned(),
        write_secret(
            dir.path(),
            "other_key.pem",
            &other.credentials().merchant_private_key_pem,
        ),
    );

    let run = doctor(&vars, &[]).await;
    run.expect_code(1);
    assert_eq!(status(&run, "signature"), "FAIL", "{}", run.stdout);
    assert!(
        line(&run, "signature").contains("401 SIGN_ERROR"),
        "{}",
        run.stdout
    );
    let fix = fix(&run, "signature");
    assert!(
        fix.contains("does not belong to the certificate serial"),
        "{fix}"
    );
    assert!(fix.contains("other_key.pem"), "{fix}");
    // The key itself still loads: only the pair is wrong.
    assert_eq!(status(&run, "private-key"), "ok", "{}", run.stdout);
    assert!(run.stderr.contains("check failed"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_mode_client_at_a_public_key_server_is_told_what_to_set() {
    // The default sandbox signs in public-key mode what names no key.
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut vars = full_vars(&sandbox, dir.path());
    vars.remove("WXPAY_PUBLIC_KEY_ID");
    vars.remove("WXPAY_PUBLIC_KEY_FILE");
    let id = &sandbox.credentials().public_key_id;

    let run = doctor(&vars, &[]).await;
    run.expect_code(1);
    // The certificates themselves are fine…
    assert_eq!(status(&run, "certificates"), "ok", "{}", run.stdout);
    // …but answers and callbacks name the public key.
    for check in ["answers", "callbacks"] {
        assert_eq!(status(&run, check), "FAIL", "{}", run.stdout);
        let text = line(&run, check);
        assert!(
            text.contains(&format!("WeChat Pay public key {id}")),
            "{text}"
        );
        assert!(text.contains("certificate mode"), "{text}");
        let fix = fix(&run, check);
        assert!(fix.contains(&format!("--public-key-id {id}")), "{fix}");
        assert!(fix.contains("--public-key-file"), "{fix}");
        assert!(fix.contains("WXPAY_PUBLIC_KEY_ID"), "{fix}");
    }

    let json = doctor(&vars, &["--json"]).await;
    json.expect_code(1);
    let value: Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(value["ok"], false);
    let answers = value["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|check| check["check"] == "answers")
        .expect("answers");
    assert_eq!(answers["status"], "fail");
    assert!(
        answers["fix"]
            .as_str()
            .is_some_and(|fix| fix.contains(id.as_str())),
        "{answers}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_public_key_id_is_named_with_the_right_one() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut vars = full_vars(&sandbox, dir.path());
    let wrong = "PUB_KEY_ID_0000000000000000000000000000";
    vars.insert("WXPAY_PUBLIC_KEY_ID".to_owned(), wrong.to_owned());

    let run = doctor(&vars, &[]).await;
    run.expect_code(1);
    assert_eq!(status(&run, "answers"), "FAIL", "{}", run.stdout);
    let text = line(&run, "answers");
    assert!(text.contains(wrong), "{text}");
    assert!(
        fix(&run, "answers").contains(&format!(
            "--public-key-id {}",
            sandbox.credentials().public_key_id
        )),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_file_others_can_read_fails_the_permissions_check() {
    use std::os::unix::fs::PermissionsExt as _;
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut vars = full_vars(&sandbox, dir.path());
    let key = write(
        dir.path(),
        "open_key.pem",
        &sandbox.credentials().merchant_private_key_pem,
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    vars.insert("WXPAY_PRIVATE_KEY_FILE".to_owned(), key.clone());

    let run = doctor(&vars, &[]).await;
    run.expect_code(1);
    let failing: Vec<&str> = run
        .stdout
        .lines()
        .filter(|line| line.starts_with("FAIL"))
        .collect();
    assert_eq!(failing.len(), 1, "{}", run.stdout);
    assert!(failing[0].starts_with("FAIL  permissions: "), "{failing:?}");
    assert!(failing[0].contains(&key), "{failing:?}");
    assert!(failing[0].contains("0644"), "{failing:?}");
    assert_eq!(fix(&run, "permissions"), format!("chmod 600 {key}"));
    // Everything else holds: the signature was accepted.
    assert_eq!(status(&run, "signature"), "ok", "{}", run.stdout);

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    doctor(&vars, &[]).await.expect_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_apiv3_key_fails_the_certificate_check() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut vars = full_vars(&sandbox, dir.path());
    let wrong = "WrongWrongWrongWrongWrongWrong32";
    vars.insert(
        "WXPAY_APIV3_KEY_FILE".to_owned(),
        write_secret(dir.path(), "wrong.key", wrong),
    );

    let run = doctor(&vars, &[]).await;
    run.expect_code(1);
    assert_eq!(status(&run, "apiv3-key"), "ok", "{}", run.stdout);
    assert_eq!(status(&run, "certificates"), "FAIL", "{}", run.stdout);
    assert!(
        line(&run, "certificates").contains("does not decrypt"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains(wrong), "{}", run.stdout);
    assert!(!run.stderr.contains(wrong), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_far_from_the_servers_fails() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    sandbox.set_faults(Faults {
        clock_offset_secs: -400,
        ..Faults::default()
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let vars = full_vars(&sandbox, dir.path());

    let run = doctor(&vars, &[]).await;
    run.expect_code(1);
    assert_eq!(status(&run, "clock"), "FAIL", "{}", run.stdout);
    let text = line(&run, "clock");
    assert!(text.contains("behind this machine's clock"), "{text}");
    assert!(text.contains("300 s"), "{text}");
    assert!(fix(&run, "clock").contains("NTP"), "{}", run.stdout);
    // The key is right: the signature check is not what fails.
    assert_eq!(status(&run, "answers"), "ok", "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_settings_fail_and_skip_the_server_checks() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut vars = full_vars(&sandbox, dir.path());
    vars.remove("WXPAY_SERIAL");

    let run = doctor(&vars, &[]).await;
    run.expect_code(1);
    assert_eq!(status(&run, "settings"), "FAIL", "{}", run.stdout);
    assert!(
        line(&run, "settings").contains("WXPAY_SERIAL"),
        "{}",
        run.stdout
    );
    assert_eq!(status(&run, "signature"), "skip", "{}", run.stdout);
}

/// Doctor applies the client's own rule to the base URL, so it fails
/// exactly the ones the other commands refuse: plain http to another
/// machine, and a path prefix (which the signature would not cover, and
/// which doctor let through while it had a copy of the rule of its own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base_url_the_client_refuses_fails_the_settings_check() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut vars = full_vars(&sandbox, dir.path());
    for (base_url, says) in [
        ("http://pay.example.com", "plain http"),
        (
            "https://pay.example.com/prefix",
            "scheme, host and port only",
        ),
    ] {
        vars.insert("WXPAY_BASE_URL".to_owned(), base_url.to_owned());
        let run = doctor(&vars, &[]).await;
        run.expect_code(1);
        assert_eq!(status(&run, "settings"), "FAIL", "{}", run.stdout);
        let settings = line(&run, "settings");
        assert!(settings.contains(says), "{base_url}: {}", run.stdout);
        assert!(settings.contains("WXPAY_BASE_URL"), "{}", run.stdout);
        assert_eq!(status(&run, "signature"), "skip", "{}", run.stdout);
    }
    // Plain http to this machine (the sandbox) passes the settings check.
    vars.insert("WXPAY_BASE_URL".to_owned(), sandbox.base_url().to_owned());
    let run = doctor(&vars, &[]).await;
    assert_eq!(status(&run, "settings"), "ok", "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_fails_the_connection_check() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut vars = full_vars(&sandbox, dir.path());
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    vars.insert(
        "WXPAY_BASE_URL".to_owned(),
        format!("http://127.0.0.1:{port}"),
    );
    let run = doctor(&vars, &["--timeout", "5"]).await;
    run.expect_code(1);
    assert_eq!(status(&run, "connection"), "FAIL", "{}", run.stdout);
    assert!(
        fix(&run, "connection").contains("--base-url"),
        "{}",
        run.stdout
    );
}
