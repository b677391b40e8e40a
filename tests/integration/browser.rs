//! The payer's half of a payment in a real browser: headless Chromium,
//! driven through chromedriver, opens the `merchant_server` example's
//! checkout page, which places a JSAPI order with the SDK and hands the
//! signed parameters to the sandbox's stand-in for WeChat's JS bridge
//! (`/_sandbox/jsapi.js`); the test presses the buttons of its payment
//! sheet and checks what the page says against the sandbox's order and
//! callback log.
//!
//! Three orders: one paid (the page says "Paid" only once the merchant
//! server has the verified callback), one cancelled on the sheet and one
//! whose `paySign` the server forges (`?forge=1`, a demo aid of the
//! example), which the sandbox refuses; the last two stay `NOTPAY`.
//!
//! Needs `chromium` and `chromedriver` on `PATH` (Debian: `apt-get install
//! chromium chromium-driver`); without them the test says `SKIPPED` on
//! stderr and passes, except under `CI=true`, where `.ci/run` installs
//! them and their absence fails the test. The example binary comes from
//! the same `cargo test` run (`target/<profile>/examples/merchant_server`).
//!
//! `WXPAY_SCREENSHOTS=docs` also writes `docs/cashier.png` (the payment
//! sheet over the checkout page) and `docs/native-qr.png` (the sandbox's
//! page of a Native order with its QR code).
#![cfg(all(feature = "axum", feature = "pay"))]

use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use wxpay::Client;
use wxpay::api::types::Amount;
use wxpay::api::v3::pay::transactions::native::Post as NativeOrder;
use wxpay_sandbox::Sandbox;

/// The longest any one step may take.
const WAIT: Duration = Duration::from_secs(20);
/// The longest the whole test may take in the browser.
const TOTAL: Duration = Duration::from_secs(120);
/// The browser window: about a phone's.
const WINDOW: (u32, u32) = (420, 760);

/// 商户订单号查询订单, kept as JSON: an unpaid order lacks fields the
/// catalogue's answer type requires.
#[wxpay::endpoint(GET, "/v3/pay/transactions/out-trade-no/<out_trade_no>", response = Value)]
pub struct QueryOrder {
    /// Path.
    pub out_trade_no: String,
    /// Query.
    pub mchid: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkout_pays_cancels_and_refuses_a_forged_signature_in_chromium() {
    let Some(browser) = browser_tools() else {
        return;
    };
    let example = merchant_server_binary();
    let started = Instant::now();

    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let keys = KeyFiles::write(&sandbox);
    let merchant = MerchantServer::start(&example, &sandbox, &keys);
    let driver = ChromeDriver::start(&browser.chromedriver);
    let client = support::sandbox_client(&sandbox);

    let mut builder = ClientBuilder::new(HttpConnector::new());
    builder.capabilities(chrome_capabilities(&browser.chromium));
    let session = match tokio::time::timeout(WAIT, builder.connect(&driver.url)).await {
        Ok(Ok(session)) => session,
        Ok(Err(error)) => panic!(
            "cannot open a Chromium session through chromedriver at {}: {error}",
            driver.url
        ),
        Err(_) => panic!(
            "chromedriver at {} opened no Chromium session within {WAIT:?}",
            driver.url
        ),
    };

    let flows = Flows {
        browser: &session,
        sandbox: &sandbox,
        client: &client,
        merchant: &merchant,
    };
    // Every step is bounded by WAIT; this bounds the whole, whatever hangs.
    let outcome = tokio::time::timeout(TOTAL, flows.run())
        .await
        .unwrap_or_else(|_| Err(format!("the browser flows took over {TOTAL:?}")));
    // Close the session whatever happened (chromedriver would leave
    // Chromium running otherwise until it is killed itself).
    let _ = tokio::time::timeout(WAIT, session.close()).await;
    if let Err(message) = outcome {
        panic!(
            "{message}\n--- merchant_server output ---\n{}",
            merchant.output()
        );
    }
    eprintln!(
        "browser test: three checkouts in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// The three flows, each failing with a message that says what the page
/// showed.
struct Flows<'a> {
    browser: &'a fantoccini::Client,
    sandbox: &'a Sandbox,
    client: &'a Client,
    merchant: &'a MerchantServer,
}

impl Flows<'_> {
    async fn run(&self) -> Result<(), String> {
        self.paid().await?;
        self.cancelled().await?;
        self.forged().await?;
        if let Some(dir) = screenshot_dir() {
            self.native_qr_screenshot(&dir).await?;
        }
        Ok(())
    }

    /// Pay: the page says "Paid" with the transaction id; the sandbox says
    /// SUCCESS and that it delivered the callback to the merchant server.
    async fn paid(&self) -> Result<(), String> {
        self.open_sheet("/checkout").await?;
        if let Some(dir) = screenshot_dir() {
            self.wait_for_sheet_amount().await?;
            let png = self
                .browser
                .screenshot()
                .await
                .map_err(|error| format!("screenshot: {error}"))?;
            save(&dir.join("cashier.png"), &png)?;
        }
        self.click("#wxpay-sandbox-pay").await?;
        let text = self
            .wait_for_result(|text| text.starts_with("Paid"))
            .await?;
        let out_trade_no = self.out_trade_no().await?;

        let order = self.query(&out_trade_no).await?;
        if order["trade_state"] != "SUCCESS" {
            return Err(format!(
                "the page says `{text}` but the sandbox's order {out_trade_no} is {order}"
            ));
        }
        let transaction_id = order["transaction_id"].as_str().unwrap_or_default();
        if transaction_id.is_empty() || !text.contains(transaction_id) {
            return Err(format!(
                "the page says `{text}`, not the order's transaction id {transaction_id}"
            ));
        }

        let notify_url = format!("{}/notify/transaction", self.merchant.base_url);
        let log: Value = reqwest::get(format!("{}/_sandbox/callbacks", self.sandbox.base_url()))
            .await
            .map_err(|error| format!("GET /_sandbox/callbacks: {error}"))?
            .text()
            .await
            .map_err(|error| format!("GET /_sandbox/callbacks: {error}"))
            .and_then(|body| {
                serde_json::from_str(&body)
                    .map_err(|error| format!("GET /_sandbox/callbacks: {error}: {body}"))
            })?;
        let delivered = log["attempts"].as_array().is_some_and(|attempts| {
            attempts.iter().any(|attempt| {
                attempt["event_type"] == "TRANSACTION.SUCCESS"
                    && attempt["notify_url"] == notify_url.as_str()
                    && attempt["status"]
                        .as_u64()
                        .is_some_and(|status| (200..300).contains(&status))
            })
        });
        if !delivered {
            return Err(format!(
                "the sandbox's callback log shows no TRANSACTION.SUCCESS delivered (2xx) to {notify_url}: {log}"
            ));
        }
        let printed = format!("order {out_trade_no} paid");
        if !self.merchant.output().contains(&printed) {
            return Err(format!("merchant_server did not print `{printed}`"));
        }
        eprintln!(
            "browser test: order {out_trade_no}: the page says `{text}`, the order is SUCCESS, the callback was delivered"
        );
        Ok(())
    }

    /// Cancel on the sheet: the page says "Cancelled", the order stays
    /// NOTPAY.
    async fn cancelled(&self) -> Result<(), String> {
        self.open_sheet("/checkout").await?;
        self.click("#wxpay-sandbox-cancel").await?;
        let text = self.wait_for_result(|text| text == "Cancelled").await?;
        self.expect_notpay(&text).await
    }

    /// A forged paySign: the sandbox refuses it, the page says "Failed: …",
    /// the order stays NOTPAY.
    async fn forged(&self) -> Result<(), String> {
        self.open_sheet("/checkout?forge=1").await?;
        self.click("#wxpay-sandbox-pay").await?;
        let text = self
            .wait_for_result(|text| text.starts_with("Failed: "))
            .await?;
        self.expect_notpay(&text).await
    }

    async fn expect_notpay(&self, text: &str) -> Result<(), String> {
        let out_trade_no = self.out_trade_no().await?;
        let order = self.query(&out_trade_no).await?;
        if order["trade_state"] != "NOTPAY" {
            return Err(format!(
                "the page says `{text}` but order {out_trade_no} is not NOTPAY: {order}"
            ));
        }
        eprintln!(
            "browser test: order {out_trade_no}: the page says `{text}`, the order is NOTPAY"
        );
        Ok(())
    }

    /// Opens `path` of the merchant server, presses Pay and waits for the
    /// sandbox's payment sheet.
    async fn open_sheet(&self, path: &str) -> Result<(), String> {
        let url = format!("{}{path}", self.merchant.base_url);
        self.browser
            .goto(&url)
            .await
            .map_err(|error| format!("cannot open {url}: {error}"))?;
        self.click("#pay").await?;
        self.browser
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#wxpay-sandbox-pay"))
            .await
            .map_err(|error| {
                format!("no payment sheet (#wxpay-sandbox-pay) within {WAIT:?} of pressing Pay on {url}: {error}")
            })?;
        Ok(())
    }

    /// Waits until the sheet shows the order's amount (it asks the sandbox).
    async fn wait_for_sheet_amount(&self) -> Result<(), String> {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self.text("#wxpay-sandbox-sheet .wxs-amount").await?;
            if text.contains('¥') || text.chars().any(|c| c.is_ascii_digit()) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the payment sheet shows no amount within {WAIT:?}: `{text}`"
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn click(&self, css: &str) -> Result<(), String> {
        self.browser
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .map_err(|error| format!("no {css} within {WAIT:?}: {error}"))?
            .click()
            .await
            .map_err(|error| format!("cannot click {css}: {error}"))
    }

    async fn text(&self, css: &str) -> Result<String, String> {
        self.browser
            .find(Locator::Css(css))
            .await
            .map_err(|error| format!("no {css}: {error}"))?
            .text()
            .await
            .map_err(|error| format!("cannot read {css}: {error}"))
    }

    /// Waits until the page's `#result` satisfies `done`.
    async fn wait_for_result(&self, done: impl Fn(&str) -> bool) -> Result<String, String> {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self.text("#result").await?;
            if done(&text) {
                return Ok(text);
            }
            if Instant::now() > deadline {
                let sheet = self
                    .text("#wxpay-sandbox-result")
                    .await
                    .unwrap_or_else(|_| "(no sheet)".to_owned());
                return Err(format!(
                    "after {WAIT:?} the page's #result says `{text}` (the sheet: `{sheet}`)"
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The order the page placed (`#result`'s `data-out-trade-no`).
    async fn out_trade_no(&self) -> Result<String, String> {
        self.browser
            .find(Locator::Id("result"))
            .await
            .map_err(|error| format!("no #result: {error}"))?
            .attr("data-out-trade-no")
            .await
            .map_err(|error| format!("cannot read #result: {error}"))?
            .filter(|no| !no.is_empty())
            .ok_or_else(|| "the page names no order (#result[data-out-trade-no])".to_owned())
    }

    async fn query(&self, out_trade_no: &str) -> Result<Value, String> {
        self.client
            .send(QueryOrder {
                out_trade_no: out_trade_no.to_owned(),
                mchid: self.sandbox.credentials().mchid.clone(),
            })
            .await
            .map_err(|error| format!("querying order {out_trade_no}: {error}"))
    }

    /// Places a Native order and photographs its page in the sandbox.
    async fn native_qr_screenshot(&self, dir: &Path) -> Result<(), String> {
        let out_trade_no = "native-qr-0001".to_owned();
        self.client
            .send(NativeOrder {
                appid: "wxd678efh567hg6787".into(),
                mchid: self.sandbox.credentials().mchid.clone(),
                description: "Image形象店-深圳腾大-QQ公仔".into(),
                attach: None,
                out_trade_no: out_trade_no.clone(),
                amount: Amount {
                    total: 100,
                    currency: Some("CNY".into()),
                },
                time_expire: None,
                notify_url: format!("{}/notify/transaction", self.merchant.base_url),
                goods_tag: None,
                limit_pay: None,
                support_fapiao: None,
                detail: None,
                scene_info: None,
                payer: None,
                settle_info: None,
            })
            .await
            .map_err(|error| format!("placing Native order {out_trade_no}: {error}"))?;
        let url = format!("{}/_sandbox/orders/{out_trade_no}", self.sandbox.base_url());
        self.browser
            .goto(&url)
            .await
            .map_err(|error| format!("cannot open {url}: {error}"))?;
        self.browser
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("svg"))
            .await
            .map_err(|error| format!("no QR code (svg) on {url}: {error}"))?;
        // Tall enough for the whole page, QR code included.
        self.browser
            .set_window_size(WINDOW.0, 1260)
            .await
            .map_err(|error| format!("cannot resize the window: {error}"))?;
        let png = self
            .browser
            .screenshot()
            .await
            .map_err(|error| format!("screenshot: {error}"))?;
        save(&dir.join("native-qr.png"), &png)
    }
}

// ------------------------------------------------------------ the browser

struct BrowserTools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

/// Chromium and chromedriver from `PATH`, or `None` after saying loudly
/// that the test is skipped. Under `CI=true` their absence is a failure.
fn browser_tools() -> Option<BrowserTools> {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| on_path(name));
    let chromedriver = on_path("chromedriver");
    match (chromium, chromedriver) {
        (Some(chromium), Some(chromedriver)) => Some(BrowserTools {
            chromium,
            chromedriver,
        }),
        (chromium, chromedriver) => {
            let missing: Vec<&str> = [
                chromium.is_none().then_some("chromium"),
                chromedriver.is_none().then_some("chromedriver"),
            ]
            .into_iter()
            .flatten()
            .collect();
            let reason = format!(
                "{} not on PATH (Debian: apt-get install chromium chromium-driver)",
                missing.join(" and ")
            );
            if std::env::var("CI").is_ok_and(|ci| ci == "true") {
                panic!("browser test: {reason}; CI (.ci/run) installs them, so this is a failure");
            }
            // Straight to stderr, past libtest's capture of `eprintln!`, so
            // that a plain `cargo test` shows it.
            let banner = "##############################################################";
            let _ = writeln!(
                std::io::stderr(),
                "{banner}\n# SKIPPED browser test: {reason}\n# The checkout page was NOT tested in a browser.\n{banner}"
            );
            None
        }
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn chrome_capabilities(chromium: &Path) -> serde_json::Map<String, Value> {
    let capabilities = json!({
        "browserName": "chrome",
        // Page loads and scripts bounded as every other step (milliseconds).
        "timeouts": { "pageLoad": WAIT.as_millis() as u64, "script": WAIT.as_millis() as u64 },
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
                format!("--window-size={},{}", WINDOW.0, WINDOW.1),
            ],
        },
    });
    match capabilities {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object"),
    }
}

/// chromedriver on a free port, killed on drop.
struct ChromeDriver {
    url: String,
    _process: Killed,
}

impl ChromeDriver {
    fn start(binary: &Path) -> ChromeDriver {
        let port = free_port();
        let mut process = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()));
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + WAIT;
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = process.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = process.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                panic!("chromedriver exited ({status}) before listening on {port}: {stderr}");
            }
            if Instant::now() > deadline {
                let _ = process.kill();
                panic!("chromedriver did not listen on port {port} within {WAIT:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Its log is not needed; drain the pipe so it never blocks.
        if let Some(mut pipe) = process.stderr.take() {
            std::thread::spawn(move || std::io::copy(&mut pipe, &mut std::io::sink()));
        }
        ChromeDriver {
            url,
            _process: Killed(process),
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port on 127.0.0.1")
}

// ------------------------------------------------------------ the merchant

/// `target/<profile>/examples/merchant_server`, next to this test's
/// `target/<profile>/deps/browser-…`.
fn merchant_server_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let binary = exe
        .parent()
        .and_then(Path::parent)
        .map(|profile| {
            profile
                .join("examples")
                .join(format!("merchant_server{}", std::env::consts::EXE_SUFFIX))
        })
        .unwrap_or_default();
    if !binary.is_file() {
        panic!(
            "\n##############################################################\n\
             # browser test: the merchant_server example is not built:\n\
             # {} is missing.\n\
             # Run the test through cargo with the example's features, e.g.\n\
             #   cargo test --workspace --all-features --test integration browser::\n\
             ##############################################################",
            binary.display()
        );
    }
    binary
}

/// The sandbox's keys in files, as `wxpay sandbox --state DIR` writes them;
/// removed on drop.
struct KeyFiles {
    dir: PathBuf,
    private_key: PathBuf,
    public_key: PathBuf,
}

impl KeyFiles {
    fn write(sandbox: &Sandbox) -> KeyFiles {
        let dir = std::env::temp_dir().join(format!(
            "wxpay-browser-test-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| since.as_nanos())
        ));
        std::fs::create_dir_all(&dir).expect("a temporary folder for the keys");
        let credentials = sandbox.credentials();
        let private_key = dir.join("apiclient_key.pem");
        let public_key = dir.join("pub_key.pem");
        std::fs::write(&private_key, &credentials.merchant_private_key_pem)
            .expect("write the merchant key");
        std::fs::write(&public_key, &credentials.platform_public_key_pem)
            .expect("write the WeChat Pay public key");
        KeyFiles {
            dir,
            private_key,
            public_key,
        }
    }
}

impl Drop for KeyFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The example running against the sandbox, killed on drop.
struct MerchantServer {
    base_url: String,
    output: Arc<Mutex<Vec<String>>>,
    _process: Killed,
}

impl MerchantServer {
    fn start(binary: &Path, sandbox: &Sandbox, keys: &KeyFiles) -> MerchantServer {
        let credentials = sandbox.credentials();
        let mut command = Command::new(binary);
        for name in [
            "WXPAY_PLATFORM_CERT_FILE",
            "WXPAY_APPID",
            "WXPAY_NOTIFY_URL",
            "WXPAY_JSAPI_JS_URL",
        ] {
            command.env_remove(name);
        }
        let mut process = command
            .env("WXPAY_BASE_URL", sandbox.base_url())
            .env("WXPAY_MCHID", &credentials.mchid)
            .env("WXPAY_SERIAL", &credentials.merchant_serial)
            .env("WXPAY_PRIVATE_KEY_FILE", &keys.private_key)
            .env("WXPAY_PUBLIC_KEY_ID", &credentials.public_key_id)
            .env("WXPAY_PUBLIC_KEY_FILE", &keys.public_key)
            .env("WXPAY_APIV3_KEY", &credentials.apiv3_key)
            .env("WXPAY_NOTIFY_ADDR", "127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()));

        // Both streams into one log; the checkout line names the address.
        let output = Arc::new(Mutex::new(Vec::new()));
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        if let Some(stdout) = process.stdout.take() {
            let output = Arc::clone(&output);
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Some(rest) = line.strip_prefix("checkout page on ") {
                        let url = rest.split_whitespace().next().unwrap_or_default();
                        let _ = address_tx.send(url.trim_end_matches("/checkout").to_owned());
                    }
                    output.lock().unwrap().push(line);
                }
            });
        }
        if let Some(stderr) = process.stderr.take() {
            let output = Arc::clone(&output);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    output.lock().unwrap().push(format!("stderr: {line}"));
                }
            });
        }
        let base_url = match address_rx.recv_timeout(WAIT) {
            Ok(url) => url,
            Err(_) => {
                let _ = process.kill();
                let _ = process.wait();
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "merchant_server did not announce its checkout page within {WAIT:?}:\n{}",
                    output.lock().unwrap().join("\n")
                );
            }
        };
        MerchantServer {
            base_url,
            output,
            _process: Killed(process),
        }
    }

    fn output(&self) -> String {
        self.output
            .lock()
            .map(|lines| lines.join("\n"))
            .unwrap_or_default()
    }
}

/// A child process killed (and reaped) on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ------------------------------------------------------------ screenshots

/// `WXPAY_SCREENSHOTS`, relative to the crate's folder.
fn screenshot_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("WXPAY_SCREENSHOTS").filter(|dir| !dir.is_empty())?;
    Some(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
}

fn save(path: &Path, png: &[u8]) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    }
    std::fs::write(path, png).map_err(|error| format!("{}: {error}", path.display()))?;
    eprintln!("wrote {} ({} bytes)", path.display(), png.len());
    Ok(())
}
