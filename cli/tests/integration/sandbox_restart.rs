//! `wxpay sandbox --state DIR` killed with SIGKILL in the middle of its
//! work and started again on the same folder: everything it acknowledged
//! is still there.

use crate::support;

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Run, parse_env, run, write, wxpay};

fn env_of(state: &Path) -> BTreeMap<String, String> {
    parse_env(&String::from_utf8(support::read_bytes(&state.join("sandbox.env"))).expect("UTF-8"))
}

fn json_of(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\n{}", run.stdout, run.stderr))
}

/// A signed request through `wxpay request`; its JSON answer.
fn request(env: &BTreeMap<String, String>, args: &[&str]) -> Value {
    let mut all = vec!["request"];
    all.extend_from_slice(args);
    let done = run(wxpay(&all, env));
    done.expect_code(0);
    json_of(&done)
}

/// An unsigned POST to a sandbox control endpoint, over a bare socket (the
/// control endpoints answer unsigned, which `wxpay request` refuses).
fn control_post(base_url: &str, path: &str) -> (u16, Value) {
    let host = base_url.strip_prefix("http://").expect("http base URL");
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    // Chunked or not, the JSON object is between the outer braces.
    let start = body.find('{').expect("JSON body");
    let end = body.rfind('}').expect("JSON body");
    (
        status,
        serde_json::from_str(&body[start..=end]).expect("JSON"),
    )
}

/// A JSAPI order body.
fn order_body(mchid: &str, out_trade_no: &str) -> String {
    json!({
        "appid": "wxd678efh567hg6787",
        "mchid": mchid,
        "description": "restart order",
        "out_trade_no": out_trade_no,
        "notify_url": "http://127.0.0.1:9/notify",
        "amount": {"total": 100},
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
    })
    .to_string()
}

#[test]
fn a_sandbox_killed_mid_flow_keeps_what_it_acknowledged() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let state = tmp.path().join("state");
    let mut first = support::start_state_sandbox(&state).0;
    let env = env_of(&state);
    let mchid = env["WXPAY_MCHID"].clone();
    // What an APIv2 client keeps of this start: the CA it trusts and the
    // client certificate it presents (copied out of the folder).
    let kept = tmp.path().join("kept");
    std::fs::create_dir(&kept).expect("a folder for the copies");
    for name in ["sandbox_ca.pem", "apiclient_cert.p12"] {
        std::fs::copy(state.join(name), kept.join(name)).expect("copy");
    }
    let ca_key = state.join("sandbox_ca_key.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&ca_key)
            .expect("the CA key is written")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the CA key is the owner's only");
    }

    let stock = write(
        tmp.path(),
        "stock.json",
        json!({
            "stock_name": "restart stock",
            "belong_merchant": mchid,
            "available_begin_time": "2030-12-01T00:00:00+08:00",
            "available_end_time": "2030-12-31T23:59:59+08:00",
            "stock_use_rule": {
                "max_coupons": 100, "max_amount": 10000, "max_coupons_per_user": 1,
                "natural_person_limit": false, "prevent_api_abuse": false
            },
            "coupon_use_rule": {
                "coupon_available_time": {},
                "fixed_normal_coupon": {"coupon_amount": 100, "transaction_minimum": 100}
            },
            "no_cash": false,
            "stock_type": "NORMAL",
            "out_request_no": "restart-stock-1"
        })
        .to_string(),
    );
    let stock_id = request(
        &env,
        &[
            "POST",
            "/v3/marketing/favor/coupon-stocks",
            "--data",
            &format!("@{stock}"),
        ],
    )["stock_id"]
        .as_str()
        .expect("stock_id")
        .to_owned();
    let start = write(
        tmp.path(),
        "start.json",
        json!({ "stock_creator_mchid": mchid }).to_string(),
    );
    request(
        &env,
        &[
            "POST",
            &format!("/v3/marketing/favor/stocks/{stock_id}/start"),
            "--data",
            &format!("@{start}"),
        ],
    );
    let order = |out_trade_no: &str| order_body(&mchid, out_trade_no);
    let mut prepay_ids = Vec::new();
    for out_trade_no in ["restart-order-1", "restart-order-2"] {
        let body = write(
            tmp.path(),
            &format!("{out_trade_no}.json"),
            order(out_trade_no),
        );
        let answer = request(
            &env,
            &[
                "POST",
                "/v3/pay/transactions/jsapi",
                "--data",
                &format!("@{body}"),
            ],
        );
        prepay_ids.push(answer["prepay_id"].as_str().expect("prepay_id").to_owned());
    }
    let (status, paid) = control_post(
        &env["WXPAY_BASE_URL"],
        "/_sandbox/transactions/out-trade-no/restart-order-2/pay",
    );
    assert_eq!(status, 200, "{paid}");

    // Orders keep coming while the sandbox is killed: each one it
    // acknowledged must be there afterwards.
    let progress = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let burst = {
        let progress = progress.clone();
        let env = env.clone();
        let dir = tmp.path().to_owned();
        let mchid = mchid.clone();
        std::thread::spawn(move || {
            let mut acknowledged = Vec::new();
            for n in 0..200 {
                let out_trade_no = format!("restart-burst-{n:03}");
                let body = write(
                    &dir,
                    &format!("{out_trade_no}.json"),
                    order_body(&mchid, &out_trade_no),
                );
                let done = run(wxpay(
                    &[
                        "request",
                        "POST",
                        "/v3/pay/transactions/jsapi",
                        "--data",
                        &format!("@{body}"),
                    ],
                    &env,
                ));
                if done.code != Some(0) {
                    break;
                }
                acknowledged.push(out_trade_no);
                progress.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            acknowledged
        })
    };
    // Kill it once a few were acknowledged, while more are on their way.
    let deadline = Instant::now() + Duration::from_secs(60);
    while progress.load(std::sync::atomic::Ordering::SeqCst) < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }

    // SIGKILL: no graceful shutdown, no chance to flush anything.
    first.child.kill().expect("SIGKILL");
    let killed = first.child.wait().expect("wait");
    assert!(!killed.success());
    let acknowledged = burst.join().expect("burst thread");
    eprintln!("{} orders acknowledged before SIGKILL", acknowledged.len());
    assert!(acknowledged.len() >= 3, "the burst got going");
    assert!(
        acknowledged.len() < 200,
        "the sandbox was killed before the burst ended"
    );

    let mut second = support::start_state_sandbox(&state).0;
    let again = env_of(&state);
    assert_eq!(again["WXPAY_MCHID"], mchid);
    let shown = request(
        &again,
        &[
            "GET",
            &format!("/v3/marketing/favor/stocks/{stock_id}"),
            "-q",
            &format!("stock_creator_mchid={mchid}"),
        ],
    );
    assert_eq!(shown["status"], "running");
    assert_eq!(shown["stock_name"], "restart stock");
    let query = |out_trade_no: &str| {
        request(
            &again,
            &[
                "GET",
                &format!("/v3/pay/transactions/out-trade-no/{out_trade_no}"),
                "-q",
                &format!("mchid={mchid}"),
            ],
        )
    };
    assert_eq!(query("restart-order-1")["trade_state"], "NOTPAY");
    for out_trade_no in &acknowledged {
        assert_eq!(query(out_trade_no)["out_trade_no"], out_trade_no.as_str());
    }
    let order_2 = query("restart-order-2");
    assert_eq!(order_2["trade_state"], "SUCCESS");
    assert_eq!(order_2["transaction_id"], paid["transaction_id"]);
    // Placing the same order again answers the same prepay_id.
    let body = tmp
        .path()
        .join("restart-order-1.json")
        .display()
        .to_string();
    let answer = request(
        &again,
        &[
            "POST",
            "/v3/pay/transactions/jsapi",
            "--data",
            &format!("@{body}"),
        ],
    );
    assert_eq!(answer["prepay_id"], prepay_ids[0].as_str());
    assert!(state.join("sandbox.sqlite3").is_file());

    // The APIv2 CA and client certificate came back: the first start's
    // copies still open the TLS listener. The order is not paid, so the
    // refund is WeChat Pay's business refusal (exit 3), which is only
    // reached once the handshake accepted both.
    assert_eq!(
        support::read_bytes(&state.join("sandbox_ca.pem")),
        support::read_bytes(&kept.join("sandbox_ca.pem"))
    );
    let mut v2 = again.clone();
    for (name, file) in [
        ("WXPAY_V2_CA_FILE", "sandbox_ca.pem"),
        ("WXPAY_V2_CLIENT_CERT_FILE", "apiclient_cert.p12"),
    ] {
        v2.insert(name.to_owned(), kept.join(file).display().to_string());
    }
    let refund = r#"{"appid":"wxd678efh567hg6787","out_trade_no":"restart-order-1","out_refund_no":"restart-refund-1","total_fee":100,"refund_fee":100}"#;
    let refunded = run(wxpay(
        &["v2", "POST", "/secapi/pay/refund", "-d", refund],
        &v2,
    ));
    refunded.expect_code(3);
    assert!(
        !refunded.stderr.contains("certificate"),
        "the kept certificate and CA were accepted: {}",
        refunded.stderr
    );
    assert!(second.stop(), "SIGTERM stops the sandbox");
}
