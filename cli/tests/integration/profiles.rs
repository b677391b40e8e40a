//! Profiles end to end: a config file's profile drives `wxpay request`
//! against an in-process sandbox, below variables and flags; mistakes in
//! the file are named with the file and the key; secrets are not shown.

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;

use wxpay_sandbox::Sandbox;

use support::{run, run_async, wxpay};

/// A GET the sandbox answers for any merchant, signed and verified.
const TARGET: &str = "/v3/bill/tradebill?bill_date=2024-06-11";

/// Writes the sandbox's keys under `dir/keys/` and a config file
/// `dir/config.toml` with a profile `sandbox` (relative key paths) and
/// `extra` appended; returns the config file's path.
fn write_config(sandbox: &Sandbox, dir: &Path, extra: &str) -> String {
    let credentials = sandbox.credentials();
    std::fs::create_dir_all(dir.join("keys")).expect("keys folder");
    support::write(
        &dir.join("keys"),
        "merchant.pem",
        &credentials.merchant_private_key_pem,
    );
    support::write(
        &dir.join("keys"),
        "pub.pem",
        &credentials.platform_public_key_pem,
    );
    support::write(
        &dir.join("keys"),
        "apiv3.key",
        format!("{}\n", credentials.apiv3_key),
    );
    let text = format!(
        "[profiles.sandbox]\n\
         base_url = \"{}\"\n\
         mchid = \"{}\"\n\
         serial = \"{}\"\n\
         private_key_file = \"keys/merchant.pem\"\n\
         public_key_id = \"{}\"\n\
         public_key_file = \"keys/pub.pem\"\n\
         \n\
         [profiles.other]\n\
         mchid = \"1900000001\"\n\
         {extra}",
        sandbox.base_url(),
        credentials.mchid,
        credentials.merchant_serial,
        credentials.public_key_id,
    );
    support::write(dir, "config.toml", text)
}

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_drives_request_with_paths_relative_to_the_config_file() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(&sandbox, dir.path(), "");
    // Run from another folder: the key paths are relative to the file's.
    let elsewhere = tempfile::tempdir().expect("another dir");

    // --config and --profile after the subcommand…
    let mut command = wxpay(
        &[
            "request",
            "GET",
            TARGET,
            "--config",
            &config,
            "--profile",
            "sandbox",
        ],
        &BTreeMap::new(),
    );
    command.current_dir(elsewhere.path());
    let by_flags = run_async(command).await;
    by_flags.expect_code(0);
    assert!(
        by_flags.stdout.contains("\"hash_value\""),
        "{}",
        by_flags.stdout
    );

    // …before it, or from WXPAY_CONFIG and WXPAY_PROFILE.
    let before = run_async(wxpay(
        &[
            "--config",
            &config,
            "--profile",
            "sandbox",
            "request",
            "GET",
            TARGET,
        ],
        &BTreeMap::new(),
    ))
    .await;
    before.expect_code(0);
    let mut command = wxpay(
        &["request", "GET", TARGET],
        &vars(&[("WXPAY_CONFIG", &config), ("WXPAY_PROFILE", "sandbox")]),
    );
    command.current_dir(elsewhere.path());
    run_async(command).await.expect_code(0);

    // The default file ($XDG_CONFIG_HOME/wxpay/config.toml) and its default_profile.
    let home = tempfile::tempdir().expect("config home");
    std::fs::create_dir_all(home.path().join("wxpay")).expect("wxpay folder");
    let text = std::fs::read_to_string(&config).expect("config");
    let text = format!("default_profile = \"sandbox\"\n{text}")
        .replace("keys/", &format!("{}/keys/", dir.path().display()));
    support::write(&home.path().join("wxpay"), "config.toml", text);
    let home_vars = vars(&[("XDG_CONFIG_HOME", &home.path().display().to_string())]);
    run_async(wxpay(&["request", "GET", TARGET], &home_vars))
        .await
        .expect_code(0);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variables_override_the_profile_and_flags_override_variables() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(&sandbox, dir.path(), "");
    let serial = sandbox.credentials().merchant_serial.clone();
    let profile = vars(&[("WXPAY_CONFIG", &config), ("WXPAY_PROFILE", "sandbox")]);

    // A wrong serial from the variable beats the profile's right one…
    let mut wrong = profile.clone();
    wrong.insert("WXPAY_SERIAL".to_owned(), "ABCDEF".to_owned());
    let refused = run_async(wxpay(&["request", "GET", TARGET], &wrong)).await;
    refused.expect_code(3);
    assert!(refused.stderr.contains("SIGN_ERROR"), "{}", refused.stderr);

    // …and the right one from the flag beats the variable.
    run_async(wxpay(
        &["request", "GET", TARGET, "--serial", &serial],
        &wrong,
    ))
    .await
    .expect_code(0);

    // A dead base URL from the variable beats the profile's sandbox…
    let mut dead = profile.clone();
    dead.insert("WXPAY_BASE_URL".to_owned(), "http://127.0.0.1:9".to_owned());
    let unreachable = run_async(wxpay(&["request", "GET", TARGET, "--timeout", "5"], &dead)).await;
    unreachable.expect_code(1);
    // …and the flag beats the variable.
    run_async(wxpay(
        &["request", "GET", TARGET, "--base-url", sandbox.base_url()],
        &dead,
    ))
    .await
    .expect_code(0);

    // Another profile by flag beats WXPAY_PROFILE (it lacks the keys).
    let other = run_async(wxpay(
        &["request", "GET", TARGET, "--profile", "other"],
        &profile,
    ))
    .await;
    other.expect_code(2);
    assert!(
        other.stderr.contains("--serial or WXPAY_SERIAL"),
        "{}",
        other.stderr
    );
    assert!(!other.stderr.contains("WXPAY_MCHID"), "{}", other.stderr);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_apiv3_key_file_downloads_the_certificates() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(
        &sandbox,
        dir.path(),
        &format!(
            "\n[profiles.certs]\nbase_url = \"{}\"\nmchid = \"{}\"\nserial = \"{}\"\n\
             private_key_file = \"keys/merchant.pem\"\napiv3_key_file = \"keys/apiv3.key\"\n",
            sandbox.base_url(),
            sandbox.credentials().mchid,
            sandbox.credentials().merchant_serial,
        ),
    );
    let out = dir.path().join("certs");
    let downloaded = run_async(wxpay(
        &[
            "--profile",
            "certs",
            "certificates",
            "--out",
            &out.display().to_string(),
        ],
        &vars(&[("WXPAY_CONFIG", &config)]),
    ))
    .await;
    downloaded.expect_code(0);
    let serial = &sandbox.credentials().platform_certificate_serial;
    assert!(out.join(format!("{serial}.pem")).is_file());
    sandbox.shutdown().await;
}

#[test]
fn profile_mistakes_are_named_with_the_file_and_the_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = support::write(
        dir.path(),
        "config.toml",
        "[profiles.shop]\nmchid = \"1900009191\"\n[profiles.outlet]\nmchid = \"1900009192\"\n",
    );
    let target = ["sign", "--method", "GET", "--target", "/v3/x"];

    // An unknown profile: the known ones are listed.
    let mut args = target.to_vec();
    args.extend(["--config", &config, "--profile", "shopp"]);
    let unknown = run(wxpay(&args, &BTreeMap::new()));
    unknown.expect_code(2);
    assert!(
        unknown
            .stderr
            .contains(&format!("there is no profile `shopp` in `{config}`")),
        "{}",
        unknown.stderr
    );
    assert!(
        unknown.stderr.contains("its profiles are: outlet, shop"),
        "{}",
        unknown.stderr
    );

    // An unknown key: named, with the profile and the file.
    let typo = support::write(
        dir.path(),
        "typo.toml",
        "[profiles.shop]\nmchid = \"1900009191\"\nprivate_key = \"k.pem\"\n",
    );
    let mut args = target.to_vec();
    args.extend(["--profile", "shop"]);
    let refused = run(wxpay(&args, &vars(&[("WXPAY_CONFIG", &typo)])));
    refused.expect_code(2);
    assert!(
        refused.stderr.contains(&format!(
            "`{typo}`, profile `shop`: unknown key `private_key`"
        )),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("private_key_file"),
        "the known keys are listed: {}",
        refused.stderr
    );

    // A missing file named by flag or variable is an error…
    let absent = dir.path().join("absent.toml").display().to_string();
    let mut args = target.to_vec();
    args.extend(["--config", &absent]);
    let missing = run(wxpay(&args, &BTreeMap::new()));
    missing.expect_code(2);
    assert!(
        missing.stderr.contains(&format!(
            "--config (or WXPAY_CONFIG): cannot read `{absent}`"
        )),
        "{}",
        missing.stderr
    );
    let missing = run(wxpay(&target, &vars(&[("WXPAY_CONFIG", &absent)])));
    missing.expect_code(2);
    assert!(missing.stderr.contains("cannot read"), "{}", missing.stderr);

    // …the default one missing is not (the usual missing settings follow)…
    let no_file = run(wxpay(&target, &BTreeMap::new()));
    no_file.expect_code(2);
    assert!(
        no_file.stderr.contains("missing settings:"),
        "{}",
        no_file.stderr
    );
    assert!(
        no_file.stderr.contains("--profile NAME"),
        "{}",
        no_file.stderr
    );
    // …unless a profile is asked for.
    let mut args = target.to_vec();
    args.extend(["--profile", "shop"]);
    let no_profile = run(wxpay(&args, &BTreeMap::new()));
    no_profile.expect_code(2);
    assert!(
        no_profile.stderr.contains("there is no config file at `"),
        "{}",
        no_profile.stderr
    );

    // Invalid TOML names the file and the line.
    let broken = support::write(dir.path(), "broken.toml", "[profiles.shop\nmchid = 1\n");
    let mut args = target.to_vec();
    args.extend(["--config", &broken]);
    let invalid = run(wxpay(&args, &BTreeMap::new()));
    invalid.expect_code(2);
    assert!(
        invalid
            .stderr
            .contains(&format!("the config file `{broken}` is not valid TOML")),
        "{}",
        invalid.stderr
    );
    assert!(invalid.stderr.contains("line 1"), "{}", invalid.stderr);
}

#[test]
fn profiles_lists_the_settings_without_secrets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = "0123456789abcdefghijABCDEFGHIJ01";
    let config = support::write(
        dir.path(),
        "config.toml",
        format!(
            "default_profile = \"shop\"\n\
             [profiles.shop]\nmchid = 1900009191\nprivate_key_file = \"keys/k.pem\"\napiv3_key = \"{secret}\"\n\
             [profiles.empty]\n"
        ),
    );
    let listed = run(wxpay(&["profiles", "--config", &config], &BTreeMap::new()));
    listed.expect_code(0);
    let folder = dir.path().display();
    assert_eq!(
        listed.stdout,
        format!(
            "config file: {config}\n\
             profile empty\n  (sets nothing)\n\
             profile shop (default, selected)\n  mchid = 1900009191\n  private_key_file = {folder}/keys/k.pem\n  apiv3_key = <hidden>\n"
        )
    );
    assert!(!listed.stderr.contains(secret), "{}", listed.stderr);

    let one = run(wxpay(
        &["profiles", "--profile", "empty"],
        &vars(&[("WXPAY_CONFIG", &config)]),
    ));
    one.expect_code(0);
    assert_eq!(
        one.stdout,
        format!("config file: {config}\nprofile empty (selected)\n  (sets nothing)\n")
    );

    let none = run(wxpay(&["profiles"], &BTreeMap::new()));
    none.expect_code(0);
    assert!(none.stdout.is_empty(), "{}", none.stdout);
    assert!(
        none.stderr.contains("no config file at `"),
        "{}",
        none.stderr
    );
}

#[cfg(unix)]
#[test]
fn an_apiv3_key_in_a_file_others_can_read_is_warned_about() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = "0123456789abcdefghijABCDEFGHIJ01";
    let config = support::write(
        dir.path(),
        "config.toml",
        format!("[profiles.shop]\nmchid = \"1900009191\"\napiv3_key = \"{secret}\"\n"),
    );
    let args = [
        "sign",
        "--method",
        "GET",
        "--target",
        "/v3/x",
        "--config",
        &config,
        "--profile",
        "shop",
    ];
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let open = run(wxpay(&args, &BTreeMap::new()));
    assert!(
        open.stderr.contains("other users can read it"),
        "{}",
        open.stderr
    );
    assert!(!open.stderr.contains(secret), "{}", open.stderr);

    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let private = run(wxpay(&args, &BTreeMap::new()));
    assert!(
        !private.stderr.contains("other users can read it"),
        "{}",
        private.stderr
    );
}

#[test]
fn the_default_config_file_follows_xdg_config_home_then_home() {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = dir.path().join("home");
    let shown = |vars: &BTreeMap<String, String>| {
        let listed = run(wxpay(&["profiles"], vars));
        listed.expect_code(0);
        format!("{}{}", listed.stdout, listed.stderr)
    };
    let home_text = home.display().to_string();
    let xdg = dir.path().join("xdg").display().to_string();

    // An absolute XDG_CONFIG_HOME wins over HOME.
    let both = shown(&vars(&[("XDG_CONFIG_HOME", &xdg), ("HOME", &home_text)]));
    assert!(
        both.contains(&format!("no config file at `{xdg}/wxpay/config.toml`")),
        "{both}"
    );
    // A relative or empty one is ignored, as the XDG spec asks: ~/.config.
    for ignored in ["relative/config", ""] {
        let text = shown(&vars(&[("XDG_CONFIG_HOME", ignored), ("HOME", &home_text)]));
        assert!(
            text.contains(&format!(
                "no config file at `{home_text}/.config/wxpay/config.toml`"
            )),
            "{ignored:?}: {text}"
        );
    }
    // And the file found there is read.
    let folder = home.join(".config").join("wxpay");
    std::fs::create_dir_all(&folder).expect("config folder");
    let config = support::write(
        &folder,
        "config.toml",
        "[profiles.shop]\nmchid = \"1900009191\"\n",
    );
    let found = shown(&vars(&[("XDG_CONFIG_HOME", ""), ("HOME", &home_text)]));
    assert!(
        found.contains(&format!("config file: {config}\n")),
        "{found}"
    );
    assert!(found.contains("profile shop"), "{found}");
}
