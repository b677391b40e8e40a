//! The command's file hygiene: files it writes are never written through
//! a symbolic link planted at their path, key files others can read get
//! a warning naming the `chmod 600` fix, and secrets stay out of errors.
#![cfg(unix)]

use crate::support;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use wxpay_sandbox::Sandbox;

use support::{run, run_async, sandbox_vars, write, write_secret, wxpay};

fn chmod(path: &str, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A file holding `contents`, and a symbolic link to it at `link`.
fn plant(dir: &Path, link: &Path, contents: &str) -> std::path::PathBuf {
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, contents).expect("write the victim");
    std::os::unix::fs::symlink(&victim, link).expect("symlink");
    victim
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_are_not_written_through_a_symlink() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut vars = sandbox_vars(&sandbox, dir.path());
    vars.insert(
        "WXPAY_APIV3_KEY_FILE".to_owned(),
        write_secret(dir.path(), "apiv3.key", &sandbox.credentials().apiv3_key),
    );
    let out = dir.path().join("certs");
    std::fs::create_dir(&out).expect("mkdir");
    let serial = &sandbox.credentials().platform_certificate_serial;
    let link = out.join(format!("{serial}.pem"));
    let victim = plant(dir.path(), &link, "do not overwrite");

    let refused = run_async(wxpay(
        &["certificates", "--out", &out.display().to_string()],
        &vars,
    ))
    .await;
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("is a symbolic link"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains(&link.display().to_string()));
    assert_eq!(
        std::fs::read_to_string(&victim).expect("read"),
        "do not overwrite"
    );

    // Without the link the certificate is written, and written again.
    std::fs::remove_file(&link).expect("rm");
    for _ in 0..2 {
        run_async(wxpay(
            &["certificates", "--out", &out.display().to_string()],
            &vars,
        ))
        .await
        .expect_code(0);
        let pem = std::fs::read_to_string(&link).expect("certificate");
        assert_eq!(pem, sandbox.credentials().platform_certificate_pem);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bill_is_not_written_through_a_symlink() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let vars = sandbox_vars(&sandbox, dir.path());
    let link = dir.path().join("bill.csv");
    let victim = plant(dir.path(), &link, "keep me");

    let refused = run_async(wxpay(
        &[
            "bill",
            "--date",
            "2024-06-11",
            "--out",
            &link.display().to_string(),
        ],
        &vars,
    ))
    .await;
    refused.expect_code(2);
    assert!(
        refused.stderr.contains("--out") && refused.stderr.contains("is a symbolic link"),
        "{}",
        refused.stderr
    );
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "keep me");
    assert!(std::fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_key_others_can_read_gets_a_warning_with_the_fix() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let key = write(
        dir.path(),
        "apiclient_key.pem",
        &sandbox.credentials().merchant_private_key_pem,
    );
    let sign = |key: &str| {
        let vars = [
            ("WXPAY_MCHID", "1900009191"),
            ("WXPAY_SERIAL", "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"),
            ("WXPAY_PRIVATE_KEY_FILE", key),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
        run(wxpay(
            &["sign", "--method", "GET", "--target", "/v3/x"],
            &vars,
        ))
    };

    chmod(&key, 0o644);
    let open = sign(&key);
    open.expect_code(0);
    let warning = open
        .stderr
        .lines()
        .find(|line| line.starts_with("warning: "))
        .unwrap_or_else(|| panic!("no warning in {:?}", open.stderr));
    assert!(warning.contains(&format!("`{key}`")), "{warning}");
    assert!(warning.contains("group and others"), "{warning}");
    assert!(warning.contains(&format!("chmod 600 {key}")), "{warning}");

    chmod(&key, 0o640);
    let group = sign(&key);
    assert!(
        group.stderr.contains("readable by its group"),
        "{}",
        group.stderr
    );

    chmod(&key, 0o600);
    let private = sign(&key);
    private.expect_code(0);
    assert!(!private.stderr.contains("warning"), "{}", private.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apiv3_key_file_others_can_read_gets_a_warning_and_the_key_is_never_shown() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    // A key of the wrong length: the command fails, and must not show it.
    let secret = "not-the-right-length-secret";
    let file = write(dir.path(), "apiv3.key", secret);
    chmod(&file, 0o644);
    let vars = [
        ("WXPAY_APIV3_KEY_FILE", file.as_str()),
        (
            "WXPAY_PUBLIC_KEY_ID",
            "PUB_KEY_ID_0114232134912410000000000000",
        ),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    let headers = write(dir.path(), "headers.txt", "Wechatpay-Serial: x\n");
    let body = write(dir.path(), "body.json", "{}");
    let pem = write(
        dir.path(),
        "pub.pem",
        &sandbox.credentials().platform_public_key_pem,
    );
    let mut vars: std::collections::BTreeMap<String, String> = vars;
    vars.insert("WXPAY_PUBLIC_KEY_FILE".to_owned(), pem);
    let failed = run(wxpay(
        &["notify", "--headers", &headers, "--body", &body],
        &vars,
    ));
    failed.expect_code(2);
    assert!(
        failed.stderr.contains(&format!(
            "the APIv3 key file `{file}` is readable by group and others"
        )),
        "{}",
        failed.stderr
    );
    assert!(failed.stderr.contains(&format!("chmod 600 {file}")));
    assert!(!failed.stderr.contains(secret), "{}", failed.stderr);
    assert!(!failed.stdout.contains(secret), "{}", failed.stdout);
}
