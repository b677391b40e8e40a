//! The `wxpay` binary end to end: against an in-process sandbox (request,
//! notify, certificates), the known-answer vectors (sign), and a sandbox
//! it runs itself (`wxpay sandbox --state`).

use crate::support;

use std::collections::BTreeMap;

use serde_json::{Value, json};
use wxpay::verification::verification_message;
use wxpay::{ApiV3Key, MerchantKey};
use wxpay_sandbox::{Faults, Sandbox, SandboxConfig};

use support::{Run, parse_env, run, run_async, sandbox_vars, write, wxpay};

fn json_of(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", run.stdout))
}

/// A stock creation body the sandbox accepts.
fn stock_body(mchid: &str, out_request_no: &str) -> String {
    json!({
        "stock_name": "wxpay cli test stock",
        "belong_merchant": mchid,
        "available_begin_time": "2030-12-01T00:00:00+08:00",
        "available_end_time": "2030-12-31T23:59:59+08:00",
        "stock_use_rule": {
            "max_coupons": 100,
            "max_amount": 10000,
            "max_coupons_per_user": 1,
            "natural_person_limit": false,
            "prevent_api_abuse": false
        },
        "coupon_use_rule": {
            "coupon_available_time": {},
            "fixed_normal_coupon": {"coupon_amount": 100, "transaction_minimum": 100},
            "available_merchants": [mchid]
        },
        "no_cash": false,
        "stock_type": "NORMAL",
        "out_request_no": out_request_no
    })
    .to_string()
}

// ------------------------------------------------------------------ request

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_creates_and_lists_stocks_with_pretty_json() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let vars = sandbox_vars(&sandbox, dir.path());
    let mchid = sandbox.credentials().mchid.clone();
    let body = write(dir.path(), "stock.json", stock_body(&mchid, "cli-1"));

    let created = run_async(wxpay(
        &[
            "request",
            "POST",
            "/v3/marketing/favor/coupon-stocks",
            "--data",
            &format!("@{body}"),
        ],
        &vars,
    ))
    .await;
    created.expect_code(0);
    let stock = json_of(&created);
    let stock_id = stock["stock_id"].as_str().expect("stock_id").to_owned();
    assert!(
        created.stdout.starts_with("{\n  \"stock_id\": "),
        "{}",
        created.stdout
    );
    assert!(
        created.stderr.contains("Request-ID: "),
        "{}",
        created.stderr
    );
    assert!(!created.stdout.contains("Request-ID"), "{}", created.stdout);

    // A query already in TARGET, more pairs from --query (encoded).
    let listed = run_async(wxpay(
        &[
            "request",
            "get",
            "/v3/marketing/favor/stocks?offset=0",
            "--query",
            "limit=10",
            "-q",
            &format!("stock_creator_mchid={mchid}"),
        ],
        &vars,
    ))
    .await;
    listed.expect_code(0);
    let list = json_of(&listed);
    assert_eq!(list["total_count"], 1, "{list}");
    assert_eq!(list["data"][0]["stock_id"], stock_id.as_str());
    assert!(
        listed.stdout.contains("\n  \"data\": [\n    {\n"),
        "{}",
        listed.stdout
    );
    assert!(listed.stderr.contains("Request-ID: "), "{}", listed.stderr);

    // Inline --data, and the stock's state changed through it.
    let started = run_async(wxpay(
        &[
            "request",
            "POST",
            &format!("/v3/marketing/favor/stocks/{stock_id}/start"),
            "--data",
            &json!({"stock_creator_mchid": mchid}).to_string(),
        ],
        &vars,
    ))
    .await;
    started.expect_code(0);
    assert_eq!(json_of(&started)["stock_id"], stock_id.as_str());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_answer_exits_3_with_status_code_message_and_detail() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let vars = sandbox_vars(&sandbox, dir.path());
    let mchid = sandbox.credentials().mchid.clone();

    let missing = run_async(wxpay(
        &[
            "request",
            "GET",
            "/v3/marketing/favor/stocks/424242",
            "--query",
            &format!("stock_creator_mchid={mchid}"),
        ],
        &vars,
    ))
    .await;
    missing.expect_code(3);
    assert!(missing.stdout.is_empty(), "{}", missing.stdout);
    assert!(
        missing
            .stderr
            .starts_with("error: the server answered HTTP 404 RESOURCE_NOT_EXISTS\n"),
        "{}",
        missing.stderr
    );
    assert!(missing.stderr.contains("  message: "), "{}", missing.stderr);
    assert!(
        missing.stderr.contains("  Request-ID: "),
        "{}",
        missing.stderr
    );

    let invalid = run_async(wxpay(
        &[
            "request",
            "POST",
            "/v3/marketing/favor/coupon-stocks",
            "--data",
            "{}",
        ],
        &vars,
    ))
    .await;
    invalid.expect_code(3);
    assert!(
        invalid.stderr.contains("HTTP 400 PARAM_ERROR"),
        "{}",
        invalid.stderr
    );
    assert!(
        invalid.stderr.contains("  detail: {\""),
        "{}",
        invalid.stderr
    );

    // A signature the server refuses: the hint points at `wxpay sign`.
    let mut wrong = vars.clone();
    wrong.insert("WXPAY_SERIAL".to_owned(), "ABCDEF".to_owned());
    let refused = run_async(wxpay(
        &[
            "request",
            "GET",
            "/v3/marketing/favor/stocks/1",
            "-q",
            "stock_creator_mchid=1",
        ],
        &wrong,
    ))
    .await;
    refused.expect_code(3);
    assert!(
        refused.stderr.contains("HTTP 401 SIGN_ERROR"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("wxpay sign"), "{}", refused.stderr);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_answer_is_rejected_and_its_body_not_printed() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let vars = sandbox_vars(&sandbox, dir.path());
    let mchid = sandbox.credentials().mchid.clone();
    let args = [
        "request".to_owned(),
        "GET".to_owned(),
        format!("/v3/marketing/favor/stocks?offset=0&limit=10&stock_creator_mchid={mchid}"),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    for (faults, expected) in [
        (
            Faults {
                tamper_body: true,
                ..Faults::default()
            },
            "does not verify",
        ),
        (
            Faults {
                unsigned_responses: true,
                ..Faults::default()
            },
            "is missing",
        ),
        (
            Faults {
                signtest_probe: true,
                ..Faults::default()
            },
            "SIGNTEST",
        ),
    ] {
        sandbox.set_faults(faults);
        let forged = run_async(wxpay(&args, &vars)).await;
        forged.expect_code(4);
        assert!(forged.stdout.is_empty(), "{}", forged.stdout);
        assert!(
            forged
                .stderr
                .starts_with("error: the HTTP 200 answer was rejected: "),
            "{}",
            forged.stderr
        );
        assert!(forged.stderr.contains(expected), "{}", forged.stderr);
    }
    sandbox.shutdown().await;
}

#[test]
fn missing_settings_are_all_named_with_their_flags_and_variables() {
    let none = BTreeMap::new();
    let missing = run(wxpay(&["request", "GET", "/v3/certificates"], &none));
    missing.expect_code(2);
    for name in [
        "--mchid or WXPAY_MCHID",
        "--serial or WXPAY_SERIAL",
        "--private-key-file or WXPAY_PRIVATE_KEY_FILE",
        "WXPAY_PUBLIC_KEY_ID",
        "WXPAY_PLATFORM_CERT_FILE",
        "WXPAY_APIV3_KEY",
    ] {
        assert!(missing.stderr.contains(name), "{name}: {}", missing.stderr);
    }

    let data_on_get = run(wxpay(&["request", "GET", "/v3/x", "--data", "{}"], &none));
    data_on_get.expect_code(2);
    assert!(
        data_on_get.stderr.contains("carry no body"),
        "{}",
        data_on_get.stderr
    );
    let not_json = run(wxpay(&["request", "POST", "/v3/x", "--data", "{x"], &none));
    not_json.expect_code(2);
    assert!(
        not_json.stderr.contains("--data is not JSON"),
        "{}",
        not_json.stderr
    );
    let url = run(wxpay(
        &["request", "GET", "https://api.mch.weixin.qq.com/v3/x"],
        &none,
    ));
    url.expect_code(2);
    assert!(url.stderr.contains("--base-url"), "{}", url.stderr);
}

// --------------------------------------------------------------------- sign

/// Splits `wxpay sign` output into the signing message (line ends shown as
/// `\n`, turned back into bytes) and the `Authorization` value.
fn signed_parts(stdout: &str) -> (String, String) {
    let (visible, authorization) = stdout
        .split_once("\n\nAuthorization: ")
        .expect("a blank line, then the Authorization header");
    let mut message = String::new();
    for line in visible.split('\n') {
        message.push_str(line.strip_suffix("\\n").expect("each line shows its end"));
        message.push('\n');
    }
    (
        message,
        authorization
            .strip_suffix('\n')
            .expect("a final newline")
            .to_owned(),
    )
}

/// `name="value"` pairs of an Authorization header, after the scheme.
fn authorization_fields(header: &str) -> BTreeMap<String, String> {
    let (scheme, fields) = header.split_once(' ').expect("scheme and fields");
    assert_eq!(scheme, "WECHATPAY2-SHA256-RSA2048");
    fields
        .split(',')
        .map(|field| {
            let (name, value) = field.split_once('=').expect("name=value");
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .expect("quoted");
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

#[test]
fn sign_reproduces_the_golden_request_byte_for_byte() {
    let Some(dir) = support::vectors("sign_reproduces_the_golden_request_byte_for_byte") else {
        return;
    };
    let golden: Value = serde_json::from_slice(&support::read_bytes(&dir.join("golden.json")))
        .expect("golden.json is JSON");
    let case = &golden["requests"][0];
    let text = |name: &str| case[name].as_str().expect(name).to_owned();
    let merchant = &golden["merchant"];
    let key_file = dir.join(merchant["key"].as_str().expect("key"));
    let vars = BTreeMap::from([
        (
            "WXPAY_MCHID".to_owned(),
            merchant["mchid"].as_str().expect("mchid").to_owned(),
        ),
        (
            "WXPAY_SERIAL".to_owned(),
            merchant["serial"].as_str().expect("serial").to_owned(),
        ),
        (
            "WXPAY_PRIVATE_KEY_FILE".to_owned(),
            key_file.display().to_string(),
        ),
    ]);
    assert_eq!(vars["WXPAY_MCHID"], "1900009191");
    assert_eq!(
        vars["WXPAY_SERIAL"],
        "5F1C72E2A8931B72A2E13AF8DEE92471EB397115"
    );
    let (method, target, body) = (text("method"), text("uri"), text("body"));
    let (timestamp, nonce) = (text("timestamp"), text("nonce"));
    let args = [
        "sign",
        "--method",
        &method,
        "--target",
        &target,
        "--body",
        &body,
        "--timestamp",
        &timestamp,
        "--nonce",
        &nonce,
    ];

    let signed = run(wxpay(&args, &vars));
    signed.expect_code(0);
    let (message, authorization) = signed_parts(&signed.stdout);
    assert_eq!(message, text("message"));
    assert!(
        signed
            .stdout
            .starts_with(&format!("{method}\\n\n{target}\\n\n"))
    );
    let ours = authorization_fields(&authorization);
    let theirs = authorization_fields(&text("authorization"));
    assert_eq!(ours, theirs, "every field, the signature included");
    assert_eq!(ours["signature"], text("signature"));

    // --raw: the exact bytes; --body-file: the same body from a file.
    let tmp = tempfile::tempdir().expect("temp dir");
    let body_file = write(tmp.path(), "body.json", &body);
    let mut raw_args: Vec<&str> = args.to_vec();
    raw_args.splice(5..7, ["--body-file", body_file.as_str()]);
    raw_args.push("--raw");
    let raw = run(wxpay(&raw_args, &vars));
    raw.expect_code(0);
    assert_eq!(raw.stdout_bytes, text("message").into_bytes());

    // Settings come from flags too, and a missing one is named.
    let none = BTreeMap::new();
    let missing = run(wxpay(&args, &none));
    missing.expect_code(2);
    assert!(
        missing.stderr.contains("--mchid or WXPAY_MCHID"),
        "{}",
        missing.stderr
    );
}

// ------------------------------------------------------------------- notify

/// A callback signed with `signer` under `serial`, its resource encrypted
/// with `apiv3`: (headers file text, body bytes, resource plaintext).
fn callback(signer: &MerchantKey, serial: &str, apiv3: &str) -> (String, Vec<u8>, String) {
    // Written out (not through `json!`, which sorts keys) so that the
    // printed order can be checked against it.
    let resource = concat!(
        r#"{"mchid":"1900009191","appid":"wxd678efh567hg6787","#,
        r#""out_trade_no":"1217752501201407033233368018","#,
        r#""transaction_id":"1217752501201407033233368018","trade_type":"JSAPI","#,
        r#""trade_state":"SUCCESS","trade_state_desc":"支付成功","bank_type":"CMC","#,
        r#""success_time":"2018-06-08T10:34:56+08:00","#,
        r#""payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},"#,
        r#""amount":{"total":100,"payer_total":100,"currency":"CNY","payer_currency":"CNY"}}"#
    )
    .to_owned();
    let key = ApiV3Key::new(apiv3).expect("APIv3 key");
    let nonce = "fdasflkja484";
    let ciphertext = key
        .encrypt(nonce, "transaction", resource.as_bytes())
        .expect("encrypt");
    let body = json!({
        "id": "EV-2018022511223320873",
        "create_time": "2015-05-20T13:29:35+08:00",
        "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS",
        "summary": "支付成功",
        "resource": {
            "original_type": "transaction",
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": ciphertext,
            "associated_data": "transaction",
            "nonce": nonce
        }
    })
    .to_string()
    .into_bytes();
    let timestamp = support_now().to_string();
    let signature_nonce = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";
    let signature = signer
        .sign_sha256(&verification_message(&timestamp, signature_nonce, &body))
        .expect("sign");
    let headers = format!(
        "# recorded callback\n\
         \n\
         Wechatpay-Timestamp: {timestamp}\n\
         Wechatpay-Nonce: {signature_nonce}\r\n\
         Wechatpay-Signature: {signature}\n\
         Wechatpay-Serial: {serial}\n\
         Wechatpay-Signature-Type: WECHATPAY2-SHA256-RSA2048\n\
         Request-ID: 08F1A2B3C4D5\n"
    );
    (headers, body, resource)
}

fn support_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        .try_into()
        .expect("fits")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_opens_a_valid_callback_and_rejects_a_tampered_one() {
    // The sandbox only lends its generated keys: the "WeChat Pay" key pair
    // and an APIv3 key.
    let sandbox = Sandbox::start().await.expect("sandbox");
    let credentials = sandbox.credentials().clone();
    sandbox.shutdown().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let signer = MerchantKey::from_pem(&credentials.platform_private_key_pem).expect("key");
    let vars = BTreeMap::from([
        (
            "WXPAY_PUBLIC_KEY_ID".to_owned(),
            credentials.public_key_id.clone(),
        ),
        (
            "WXPAY_PUBLIC_KEY_FILE".to_owned(),
            write(dir.path(), "pub.pem", &credentials.platform_public_key_pem),
        ),
        ("WXPAY_APIV3_KEY".to_owned(), credentials.apiv3_key.clone()),
    ]);

    let (headers, body, resource) =
        callback(&signer, &credentials.public_key_id, &credentials.apiv3_key);
    let headers_file = write(dir.path(), "headers.txt", &headers);
    let body_file = write(dir.path(), "body.json", &body);
    let args = ["notify", "--headers", &headers_file, "--body", &body_file];
    let opened = run_async(wxpay(&args, &vars)).await;
    opened.expect_code(0);
    let printed = json_of(&opened);
    let expected: Value = serde_json::from_str(&resource).expect("resource JSON");
    assert_eq!(printed, expected);
    // The plaintext's own key order, pretty.
    assert!(
        opened
            .stdout
            .starts_with("{\n  \"mchid\": \"1900009191\",\n  \"appid\""),
        "{}",
        opened.stdout
    );
    assert!(
        opened
            .stderr
            .contains("TRANSACTION.SUCCESS EV-2018022511223320873"),
        "{}",
        opened.stderr
    );
    assert!(
        opened.stderr.contains("Request-ID: 08F1A2B3C4D5"),
        "{}",
        opened.stderr
    );
    for output in [&opened.stdout, &opened.stderr] {
        assert!(
            !output.contains(&credentials.apiv3_key),
            "the APIv3 key was printed"
        );
    }

    // One byte of the body changed: the signature no longer holds.
    let tampered = String::from_utf8(body.clone())
        .expect("UTF-8")
        .replace("EV-2018022511223320873", "EV-2018022511223320874");
    let tampered_file = write(dir.path(), "tampered.json", &tampered);
    let rejected = run_async(wxpay(
        &[
            "notify",
            "--headers",
            &headers_file,
            "--body",
            &tampered_file,
        ],
        &vars,
    ))
    .await;
    rejected.expect_code(4);
    assert!(rejected.stdout.is_empty(), "{}", rejected.stdout);
    assert!(
        rejected
            .stderr
            .starts_with("error: the callback was rejected: "),
        "{}",
        rejected.stderr
    );
    assert!(
        rejected.stderr.contains("does not verify"),
        "{}",
        rejected.stderr
    );

    // An editor's final newline: rejected, with a hint.
    let mut with_newline = body.clone();
    with_newline.push(b'\n');
    let newline_file = write(dir.path(), "newline.json", &with_newline);
    let newline = run_async(wxpay(
        &[
            "notify",
            "--headers",
            &headers_file,
            "--body",
            &newline_file,
        ],
        &vars,
    ))
    .await;
    newline.expect_code(4);
    assert!(
        newline.stderr.contains("ends with a newline"),
        "{}",
        newline.stderr
    );

    // The wrong APIv3 key: signed correctly, but it does not decrypt.
    let mut wrong_key = vars.clone();
    wrong_key.insert(
        "WXPAY_APIV3_KEY".to_owned(),
        "0123456789abcdefghijABCDEFGHIJ01".to_owned(),
    );
    let undecryptable = run_async(wxpay(&args, &wrong_key)).await;
    undecryptable.expect_code(4);
    assert!(
        undecryptable.stderr.contains("APIv3 key"),
        "{}",
        undecryptable.stderr
    );
    assert!(
        !undecryptable
            .stderr
            .contains("0123456789abcdefghijABCDEFGHIJ01")
    );

    // A stale callback is rejected, and replays with --now.
    let stale = run_async(wxpay(
        &[&args[..], &["--now", &(support_now() + 3_600).to_string()]].concat(),
        &vars,
    ))
    .await;
    stale.expect_code(4);
    assert!(stale.stderr.contains("--now"), "{}", stale.stderr);

    // Certificate mode: the same callback signed under the certificate's serial.
    let (headers, body, _) = callback(
        &signer,
        &credentials.platform_certificate_serial,
        &credentials.apiv3_key,
    );
    let headers_file = write(dir.path(), "headers-cert.txt", &headers);
    let body_file = write(dir.path(), "body-cert.json", &body);
    let certificate_vars = BTreeMap::from([
        (
            "WXPAY_PLATFORM_CERT_FILE".to_owned(),
            write(
                dir.path(),
                "cert.pem",
                &credentials.platform_certificate_pem,
            ),
        ),
        ("WXPAY_APIV3_KEY".to_owned(), credentials.apiv3_key.clone()),
    ]);
    let opened = run_async(wxpay(
        &["notify", "--headers", &headers_file, "--body", &body_file],
        &certificate_vars,
    ))
    .await;
    opened.expect_code(0);
    assert_eq!(json_of(&opened), expected);

    // Nothing to verify with, no APIv3 key: both named.
    let none = run_async(wxpay(&args, &BTreeMap::new())).await;
    none.expect_code(2);
    assert!(none.stderr.contains("WXPAY_APIV3_KEY"), "{}", none.stderr);
    assert!(
        none.stderr.contains("WXPAY_PUBLIC_KEY_FILE"),
        "{}",
        none.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_in_certificate_mode_downloads_the_certificates_first() {
    let sandbox = Sandbox::start_with(SandboxConfig {
        certificate_mode: true,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut vars = sandbox_vars(&sandbox, dir.path());
    vars.remove("WXPAY_PUBLIC_KEY_ID");
    vars.remove("WXPAY_PUBLIC_KEY_FILE");
    vars.insert(
        "WXPAY_APIV3_KEY".to_owned(),
        sandbox.credentials().apiv3_key.clone(),
    );
    let mchid = sandbox.credentials().mchid.clone();
    let listed = run_async(wxpay(
        &[
            "request",
            "GET",
            "/v3/marketing/favor/stocks",
            "-q",
            "offset=0",
            "-q",
            "limit=10",
            "-q",
            &format!("stock_creator_mchid={mchid}"),
        ],
        &vars,
    ))
    .await;
    listed.expect_code(0);
    assert_eq!(json_of(&listed)["total_count"], 0);
    sandbox.shutdown().await;
}

// ------------------------------------------------------------- certificates

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_writes_the_sandbox_certificate() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let credentials = sandbox.credentials().clone();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut vars = sandbox_vars(&sandbox, dir.path());
    vars.remove("WXPAY_PUBLIC_KEY_ID");
    vars.remove("WXPAY_PUBLIC_KEY_FILE");
    vars.insert("WXPAY_APIV3_KEY".to_owned(), credentials.apiv3_key.clone());
    let out = dir.path().join("certs");
    let out_text = out.display().to_string();

    let downloaded = run_async(wxpay(&["certificates", "--out", &out_text], &vars)).await;
    downloaded.expect_code(0);
    let serial = &credentials.platform_certificate_serial;
    let file = out.join(format!("{serial}.pem"));
    assert_eq!(
        String::from_utf8(support::read_bytes(&file)).expect("PEM text"),
        credentials.platform_certificate_pem
    );
    let line = downloaded
        .stdout
        .lines()
        .next()
        .expect("one line per certificate");
    assert!(line.starts_with(&format!("{serial}  valid ")), "{line}");
    assert!(line.contains(" to "), "{line}");
    assert_eq!(std::fs::read_dir(&out).expect("out").count(), 1);
    assert!(!downloaded.stdout.contains(&credentials.apiv3_key));
    assert!(!downloaded.stderr.contains(&credentials.apiv3_key));

    // The wrong APIv3 key: the download cannot be decrypted.
    vars.insert(
        "WXPAY_APIV3_KEY".to_owned(),
        "0123456789abcdefghijABCDEFGHIJ01".to_owned(),
    );
    let wrong = run_async(wxpay(&["certificates", "--out", &out_text], &vars)).await;
    wrong.expect_code(4);
    assert!(
        wrong.stderr.contains("could not be decrypted"),
        "{}",
        wrong.stderr
    );

    vars.remove("WXPAY_APIV3_KEY");
    let missing = run_async(wxpay(&["certificates", "--out", &out_text], &vars)).await;
    missing.expect_code(2);
    assert!(
        missing.stderr.contains("--apiv3-key or WXPAY_APIV3_KEY"),
        "{}",
        missing.stderr
    );
    sandbox.shutdown().await;
}

// ------------------------------------------------------------------ sandbox

fn load_env(state: &std::path::Path) -> BTreeMap<String, String> {
    let path = state.join("sandbox.env");
    let env = parse_env(&String::from_utf8(support::read_bytes(&path)).expect("UTF-8"));
    // What a POSIX shell makes of it, where there is one.
    let shell = std::process::Command::new("sh")
        .args(["-c", "set -a; . \"$1\"; set +a; env", "sh"])
        .arg(&path)
        .env_clear()
        .output();
    if let Ok(output) = shell {
        assert!(
            output.status.success(),
            "sh could not load {}",
            path.display()
        );
        let loaded: BTreeMap<String, String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| line.split_once('='))
            .filter(|(name, _)| name.starts_with("WXPAY_"))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        assert_eq!(loaded, env, "sh and the parser agree");
    }
    env
}

#[cfg(unix)]
fn mode(path: &str) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn sandbox_state_writes_a_loadable_env_and_a_restart_keeps_the_identity() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let state = tmp.path().join("state");
    let (mut first, base_url) = support::start_state_sandbox(&state);
    let env = load_env(&state);
    let names = [
        "WXPAY_BASE_URL",
        "WXPAY_MCHID",
        "WXPAY_SERIAL",
        "WXPAY_PRIVATE_KEY_FILE",
        "WXPAY_PUBLIC_KEY_ID",
        "WXPAY_PUBLIC_KEY_FILE",
        "WXPAY_PLATFORM_CERT_FILE",
        "WXPAY_APIV3_KEY",
        "WXPAY_V2_KEY_FILE",
        "WXPAY_V2_BASE_URL",
        "WXPAY_V2_CLIENT_CERT_FILE",
        "WXPAY_V2_CA_FILE",
    ];
    assert_eq!(env.keys().map(String::as_str).collect::<Vec<_>>(), {
        let mut sorted = names.to_vec();
        sorted.sort_unstable();
        sorted
    });
    assert_eq!(env["WXPAY_BASE_URL"], base_url);
    assert_eq!(env["WXPAY_APIV3_KEY"].len(), 32);
    for name in [
        "WXPAY_PRIVATE_KEY_FILE",
        "WXPAY_PUBLIC_KEY_FILE",
        "WXPAY_PLATFORM_CERT_FILE",
    ] {
        let path = std::path::Path::new(&env[name]);
        assert!(
            path.is_absolute() && path.is_file(),
            "{name}={}",
            path.display()
        );
    }
    #[cfg(unix)]
    {
        assert_eq!(mode(&env["WXPAY_PRIVATE_KEY_FILE"]), 0o600);
        assert_eq!(
            mode(&state.join("platform_private_key.pem").display().to_string()),
            0o600
        );
        assert_eq!(
            mode(&state.join("sandbox.env").display().to_string()),
            0o600
        );
    }

    // The variables are all a command needs.
    let mchid = env["WXPAY_MCHID"].clone();
    let stock = write(tmp.path(), "stock.json", stock_body(&mchid, "cli-env"));
    let created = run(wxpay(
        &[
            "request",
            "POST",
            "/v3/marketing/favor/coupon-stocks",
            "--data",
            &format!("@{stock}"),
        ],
        &env,
    ));
    created.expect_code(0);
    assert!(json_of(&created)["stock_id"].is_string());
    let certificates = run(wxpay(
        &[
            "certificates",
            "--out",
            &tmp.path().join("certs").display().to_string(),
        ],
        &env,
    ));
    certificates.expect_code(0);
    let private_key = support::read_bytes(std::path::Path::new(&env["WXPAY_PRIVATE_KEY_FILE"]));
    assert!(first.stop(), "SIGTERM stops the sandbox");

    // Started again on the same folder: same merchant, same keys.
    let (mut second, _) = support::start_state_sandbox(&state);
    let again = load_env(&state);
    for name in [
        "WXPAY_MCHID",
        "WXPAY_SERIAL",
        "WXPAY_PUBLIC_KEY_ID",
        "WXPAY_PRIVATE_KEY_FILE",
        "WXPAY_PUBLIC_KEY_FILE",
        "WXPAY_PLATFORM_CERT_FILE",
        "WXPAY_APIV3_KEY",
    ] {
        assert_eq!(again[name], env[name], "{name}");
    }
    assert_eq!(
        support::read_bytes(std::path::Path::new(&again["WXPAY_PRIVATE_KEY_FILE"])),
        private_key
    );
    let listed = run(wxpay(
        &[
            "request",
            "GET",
            "/v3/marketing/favor/stocks",
            "-q",
            "offset=0",
            "-q",
            "limit=10",
            "-q",
            &format!("stock_creator_mchid={mchid}"),
        ],
        &again,
    ));
    listed.expect_code(0);
    assert_eq!(json_of(&listed)["total_count"], 1, "the stock is kept");
    assert!(second.stop(), "SIGTERM stops the sandbox");
}
