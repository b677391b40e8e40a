//! `wxpay doctor`: checks a configuration (the settings every command
//! takes: flags, `WXPAY_…` variables, the selected profile) against a
//! server, and prints one line per check with what holds and what to fix.
//!
//! | check | how |
//! |---|---|
//! | `settings` | every setting a signed call needs is there and well formed |
//! | `private-key`, `public-key`, `platform-certificate`, `apiv3-key` | each configured key loads (the APIv3 key: 32 bytes) |
//! | `permissions` | each secret file (private key, APIv3 key file, a config file holding the APIv3 key) is readable by its owner only (Unix) |
//! | `signature` | a signed probe, a query for an order number that cannot exist: 404 `ORDER_NOT_EXIST` (any answer but 401) proves WeChat Pay accepted the signature, 401 `SIGN_ERROR` that the key and serial do not go together |
//! | `answers` | the probe's `Wechatpay-Serial` names a key this configuration has, and the signature verifies with it |
//! | `callbacks` | the same for the key WeChat Pay signs with when a request names none, as for callbacks |
//! | `certificates` | the APIv3 key decrypts a `GET /v3/certificates` download, whose signature verifies with what it delivered |
//! | `clock` | the server's `Date` (and the answers' `Wechatpay-Timestamp`) against this machine's clock: 300 s apart at most |
//!
//! The probes are sent by hand (signed by wxpay's [`RequestSigner`]) so
//! that every header of every answer can be looked at, verified or not.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use clap::Args;
use reqwest::header::{ACCEPT, AUTHORIZATION, DATE, HeaderMap, HeaderValue, USER_AGENT};
use wxpay::certificates::{CERTIFICATES_PATH, CertificateError, decode_certificates};
use wxpay::signing::RequestSigner;
use wxpay::verification::{MAX_CLOCK_SKEW_SECS, SignatureHeaders, header};
use wxpay::{
    ApiV3Key, Client, CryptoBackend, MerchantKey, Method, PlatformCertificate, Verifier,
    VerifyError, VerifyingKey,
};
use zeroize::Zeroizing;

use crate::config::{Profile, ProfileArgs};
use crate::error::Failure;
use crate::files;
use crate::output;
use crate::settings::{ApiV3Args, MerchantArgs, Missing, ServerArgs, WechatpayKeyArgs};

/// The order number the signature probe asks for: valid (`[0-9A-Za-z_]`,
/// 6 to 32 characters) and not one a merchant would make.
const PROBE_ORDER: &str = "WXPAY_DOCTOR_PROBE_NOT_AN_ORDER";

/// A clock further than this from the server's gets a warning (the
/// failure is at [`MAX_CLOCK_SKEW_SECS`]).
const CLOCK_WARNING_SECS: i64 = 60;

/// Where WeChat Pay's public key is downloaded, in the merchant platform.
const PUBLIC_KEY_PLACE: &str = "商户平台 → 账户中心 → API安全 → 微信支付公钥";

/// Arguments of `wxpay doctor`.
#[derive(Args)]
#[command(
    after_help = "Checks, one line each (ok, warn, FAIL, skip) with the fix for each failure: \
    the settings; that each key loads; that secret files are readable by their owner only; that \
    WeChat Pay accepts the signature (a probe query for an order that cannot exist: 404 means \
    accepted, 401 SIGN_ERROR means the private key does not belong to the serial); that answers \
    and callbacks name a key this configuration has (public-key vs certificate mode); that the \
    APIv3 key decrypts a certificate download; the clock against the server's. Exit status 1 \
    when a check fails."
)]
pub struct DoctorArgs {
    /// Print the checks as one JSON object: {"ok", "base_url", "mchid", "profile", "checks": [{"check", "status", "message", "fix"}]}
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    server: ServerArgs,

    #[command(flatten)]
    merchant: MerchantArgs,

    #[command(flatten)]
    keys: WechatpayKeyArgs,

    #[command(flatten)]
    apiv3: ApiV3Args,
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// It holds.
    Ok,
    /// It holds for now, or could not be told; worth a look.
    Warn,
    /// It does not hold: calls or callbacks will fail.
    Fail,
    /// Not checked (something it needs is missing or failed).
    Skip,
}

impl Status {
    /// The word shown before the check's line.
    fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        }
    }
}

/// One check's outcome.
#[derive(Debug, Clone)]
pub struct Check {
    /// Its name (`signature`, `answers`, …).
    pub name: &'static str,
    /// How it came out.
    pub status: Status,
    /// What holds, or what is wrong.
    pub message: String,
    /// What to do, for a failure or a warning.
    pub fix: Option<String>,
}

impl Check {
    fn new(name: &'static str, status: Status, message: impl Into<String>) -> Self {
        Check {
            name,
            status,
            message: message.into(),
            fix: None,
        }
    }

    fn ok(name: &'static str, message: impl Into<String>) -> Self {
        Self::new(name, Status::Ok, message)
    }

    fn fail(name: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self::new(name, Status::Fail, message).with_fix(fix)
    }

    fn warn(name: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self::new(name, Status::Warn, message).with_fix(fix)
    }

    fn skip(name: &'static str, message: impl Into<String>) -> Self {
        Self::new(name, Status::Skip, message)
    }

    fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// An answer to a probe, whole.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
    /// This machine's clock halfway between sending and receiving, Unix
    /// seconds (fractional).
    local_mid: f64,
}

impl Answer {
    /// The `code` and `message` of an error body, when it has them.
    fn error(&self) -> (String, String) {
        let value: serde_json::Value = serde_json::from_slice(&self.body).unwrap_or_default();
        let text = |name: &str| {
            value
                .get(name)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        (text("code"), text("message"))
    }

    /// `HTTP 404 ORDER_NOT_EXIST`, or the status alone.
    fn describe(&self) -> String {
        let (code, _) = self.error();
        if code.is_empty() {
            format!("HTTP {}", self.status)
        } else {
            format!("HTTP {} {code}", self.status)
        }
    }

    /// The announced `Wechatpay-Serial`.
    fn serial(&self) -> Option<&str> {
        self.headers
            .get(header::SERIAL)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|serial| !serial.is_empty())
    }

    /// The `Request-ID`, as a suffix for messages.
    fn request_id(&self) -> String {
        self.headers
            .get(header::REQUEST_ID)
            .and_then(|value| value.to_str().ok())
            .map(|id| format!(" (Request-ID {id})"))
            .unwrap_or_default()
    }
}

/// The keys the configured client would verify with.
struct Keys {
    /// The configured public keys and certificate files (and, in
    /// certificate mode, what the download delivered).
    verifier: Verifier,
    /// The configured public key id, when any.
    public_key_id: Option<String>,
    /// The configured public key file, when any.
    public_key_file: Option<PathBuf>,
    /// The serials of configured certificate files.
    certificate_files: Vec<String>,
    /// Certificate mode by download: the APIv3 key and no key configured,
    /// as the other commands build their client.
    downloads: bool,
    /// Whether the download (when `downloads`) delivered certificates.
    downloaded: Option<bool>,
}

/// What the checks collected, to print.
struct Report {
    base_url: String,
    mchid: Option<String>,
    profile: Option<String>,
    checks: Vec<Check>,
}

/// Runs `wxpay doctor`.
///
/// # Errors
/// A usage failure when the config file or profile cannot be used (exit
/// 2); [`Failure::Other`] (exit 1) when any check fails, after every
/// check is printed.
pub async fn run(mut args: DoctorArgs, profile_args: &ProfileArgs) -> Result<(), Failure> {
    let profile = profile_args.selected()?;
    let config_file = profile_args.config_path().path().map(Path::to_path_buf);
    let report = examine(&mut args, profile.as_ref(), config_file.as_deref()).await;
    let failed = report
        .checks
        .iter()
        .filter(|check| check.status == Status::Fail)
        .count();
    if args.json {
        print_json(&report, failed == 0)?;
    } else {
        print_text(&report, failed)?;
    }
    if failed > 0 {
        return Err(Failure::Other(format!(
            "{failed} check{} failed; each FAIL line says what to fix",
            if failed == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

/// Runs every check.
async fn examine(
    args: &mut DoctorArgs,
    profile: Option<&Profile>,
    config_file: Option<&Path>,
) -> Report {
    args.server.fill(profile);
    args.merchant.fill(profile);
    args.keys.fill(profile);
    let mut checks = Vec::new();

    // Where the APIv3 key comes from, before it is read: a file to check
    // the permissions of, or the config file holding it inline.
    let flag_key = args.apiv3.apiv3_key.is_some();
    let apiv3_file = match (&args.apiv3.apiv3_key_file, flag_key) {
        (Some(file), false) => Some(file.clone()),
        (None, false) => profile.and_then(|profile| profile.apiv3_key_file.clone()),
        _ => None,
    };
    let inline_in_config = !flag_key
        && args.apiv3.apiv3_key_file.is_none()
        && profile.is_some_and(|profile| profile.apiv3_key.is_some());
    let apiv3_problem = args.apiv3.resolve_quietly(profile).err();

    let mut report = Report {
        base_url: args.server.base_url().to_owned(),
        mchid: args.merchant.mchid.clone(),
        profile: profile.map(|profile| profile.name.clone()),
        checks: Vec::new(),
    };

    // Settings.
    let mut missing = Missing::default();
    let merchant = args.merchant.require(&mut missing);
    let settings_ok = check_settings(args, missing, &mut checks);

    // Local keys.
    let signer = merchant.and_then(|merchant| {
        let key = check_private_key(merchant.private_key_file, &mut checks)?;
        Some(RequestSigner::new(merchant.mchid, merchant.serial, key))
    });
    let apiv3_key = check_apiv3_key(&args.apiv3, apiv3_problem, &mut checks);
    let mut keys = configured_keys(&args.keys, apiv3_key.is_some(), &mut checks);

    // Permissions.
    if let Some(file) = &args.merchant.private_key_file {
        checks.push(permissions("the merchant private key", file));
    }
    if let Some(file) = &apiv3_file {
        checks.push(permissions("the APIv3 key file", file));
    }
    if inline_in_config && let Some(file) = config_file {
        checks.push(permissions(
            "the config file (it holds the APIv3 key)",
            file,
        ));
    }

    // The server.
    let Some(signer) = signer.filter(|_| settings_ok) else {
        for name in ["signature", "answers", "callbacks", "certificates", "clock"] {
            checks.push(Check::skip(
                name,
                "not checked: the settings above must be fixed first",
            ));
        }
        report.checks = checks;
        return report;
    };
    let http = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(args.server.timeout())
        .build()
    {
        Ok(http) => http,
        Err(error) => {
            checks.push(Check::fail(
                "connection",
                format!("no HTTP client could be made: {error}"),
                "check the system's TLS setup",
            ));
            report.checks = checks;
            return report;
        }
    };
    let probe = Probe {
        http: &http,
        base_url: args.server.base_url().trim_end_matches('/'),
        signer: &signer,
    };
    let order_target = format!(
        "/v3/pay/transactions/out-trade-no/{PROBE_ORDER}?mchid={}",
        signer.mchid()
    );
    let announced = keys.public_key_id.clone();
    let first = match probe.send(&order_target, announced.as_deref()).await {
        Ok(answer) => answer,
        Err(message) => {
            checks.push(Check::fail(
                "connection",
                message,
                format!(
                    "check --base-url (WXPAY_BASE_URL, now {}), the network and any proxy",
                    args.server.base_url()
                ),
            ));
            report.checks = checks;
            return report;
        }
    };
    let signature_accepted = check_signature(&first, &signer, &args.merchant, &mut checks);

    // The certificate download, before judging answers: in certificate
    // mode it is where the client's keys come from.
    let downloaded = match &apiv3_key {
        Some(key) if signature_accepted => {
            Some(check_certificates(&probe, key, &mut keys, &mut checks).await)
        }
        Some(_) => {
            checks.push(Check::skip(
                "certificates",
                "not checked: WeChat Pay refused the signature (see `signature`)",
            ));
            None
        }
        None => {
            checks.push(Check::warn(
                "certificates",
                "no APIv3 key is configured: callbacks cannot be decrypted and platform certificates cannot be downloaded",
                "set the APIv3 key (32 characters, set on 商户平台 → 账户中心 → API安全 → APIv3密钥) with \
                 --apiv3-key-file FILE (WXPAY_APIV3_KEY_FILE, profile key apiv3_key_file), or WXPAY_APIV3_KEY",
            ));
            None
        }
    };
    keys.downloaded = downloaded;

    checks.push(judge("answers", &first, &keys));
    if announced.is_some() {
        // Callbacks are signed with the key WeChat Pay uses when a request
        // names none: ask without `Wechatpay-Serial` (it is not signed).
        match probe.send(&order_target, None).await {
            Ok(second) => checks.push(judge("callbacks", &second, &keys)),
            Err(message) => checks.push(Check::warn(
                "callbacks",
                format!("not told: the probe naming no key got no answer: {message}"),
                "run `wxpay doctor` again",
            )),
        }
    } else {
        // The probe named no key, as a callback does not.
        checks.push(judge("callbacks", &first, &keys));
    }
    checks.push(check_clock(&first));
    report.checks = checks;
    report
}

/// The `settings` check: missing settings, a malformed merchant id or
/// serial, a public key id without its file, no key to verify with, plain
/// http beyond this machine. Returns whether the probes can be sent.
fn check_settings(args: &DoctorArgs, mut missing: Missing, checks: &mut Vec<Check>) -> bool {
    let mut problems = Vec::new();
    let keys = &args.keys;
    match (&keys.public_key_id, &keys.public_key_file) {
        (Some(_), None) => missing.push(
            "the WeChat Pay public key file (the id is set): set --public-key-file or WXPAY_PUBLIC_KEY_FILE",
        ),
        (None, Some(_)) => missing.push(
            "the WeChat Pay public key id (the file is set): set --public-key-id or WXPAY_PUBLIC_KEY_ID",
        ),
        _ => {}
    }
    if !keys.any() && args.apiv3.apiv3_key.is_none() && args.apiv3.apiv3_key_file.is_none() {
        missing.push(
            "a key to verify WeChat Pay's signatures: set --public-key-id and --public-key-file \
             (WXPAY_PUBLIC_KEY_ID, WXPAY_PUBLIC_KEY_FILE), or --platform-cert-file \
             (WXPAY_PLATFORM_CERT_FILE), or --apiv3-key-file (WXPAY_APIV3_KEY_FILE) to download the platform certificates",
        );
    }
    let mut ready = true;
    if let Err(Failure::Usage(message)) = missing.into_result() {
        problems.push(message);
        ready = args.merchant.mchid.is_some()
            && args.merchant.serial.is_some()
            && args.merchant.private_key_file.is_some();
    }
    if let Some(mchid) = &args.merchant.mchid
        && (mchid.is_empty() || !mchid.bytes().all(|b| b.is_ascii_digit()))
    {
        problems.push(format!(
            "the merchant id `{mchid}` (--mchid, WXPAY_MCHID) is not digits only"
        ));
        ready = false;
    }
    if let Some(serial) = &args.merchant.serial
        && (serial.is_empty() || !serial.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        problems.push(format!(
            "the merchant certificate serial `{serial}` (--serial, WXPAY_SERIAL) is not hexadecimal; \
             copy it from 商户平台 → 账户中心 → API安全 → API证书"
        ));
        ready = false;
    }
    // The client's own rule, so that doctor passes exactly the base URLs the
    // other commands accept.
    let base_url = args.server.base_url();
    let route_problems = Client::builder().base_url(base_url).route_problems();
    if !route_problems.is_empty() {
        ready = false;
    }
    for problem in route_problems {
        problems.push(format!("{problem} (--base-url, WXPAY_BASE_URL)"));
    }
    if problems.is_empty() {
        let mode = match (&keys.public_key_id, keys.platform_cert_file.is_some()) {
            (Some(id), true) => format!("public key {id} and a platform certificate"),
            (Some(id), false) => format!("WeChat Pay public key {id}"),
            (None, true) => "a platform certificate file".to_owned(),
            (None, false) => "platform certificates downloaded with the APIv3 key".to_owned(),
        };
        checks.push(Check::ok(
            "settings",
            format!(
                "merchant {}, serial {}, verifying with {mode}",
                args.merchant.mchid.as_deref().unwrap_or_default(),
                args.merchant.serial.as_deref().unwrap_or_default()
            ),
        ));
    } else {
        let message = problems.join("; ").replace('\n', " ");
        checks.push(Check::fail(
            "settings",
            message,
            "set what is missing or wrong as a flag, its WXPAY_… variable, or a key of the profile (see `wxpay profiles`)",
        ));
    }
    ready
}

/// The `private-key` check: the file loads as an RSA private key.
fn check_private_key(path: &Path, checks: &mut Vec<Check>) -> Option<MerchantKey> {
    match MerchantKey::from_pem_file(path) {
        Ok(key) => {
            checks.push(Check::ok(
                "private-key",
                format!(
                    "`{}` is an RSA private key of {} bits",
                    path.display(),
                    key.bits()
                ),
            ));
            Some(key)
        }
        Err(error) => {
            checks.push(Check::fail(
                "private-key",
                format!("the merchant private key: {error}"),
                "point --private-key-file (WXPAY_PRIVATE_KEY_FILE) at apiclient_key.pem, the key made with the merchant API certificate",
            ));
            None
        }
    }
}

/// The `apiv3-key` check: present (or not), 32 bytes.
fn check_apiv3_key(
    apiv3: &ApiV3Args,
    problem: Option<Failure>,
    checks: &mut Vec<Check>,
) -> Option<ApiV3Key> {
    if let Some(problem) = problem {
        checks.push(Check::fail(
            "apiv3-key",
            problem.render().join(" "),
            "give the APIv3 key once, in a file only you can read: --apiv3-key-file FILE (WXPAY_APIV3_KEY_FILE)",
        ));
        return None;
    }
    let key: &Zeroizing<String> = apiv3.apiv3_key.as_ref()?;
    match ApiV3Key::new(key.as_bytes()) {
        Ok(key) => {
            checks.push(Check::ok("apiv3-key", "the APIv3 key is 32 bytes"));
            Some(key)
        }
        Err(error) => {
            checks.push(Check::fail(
                "apiv3-key",
                format!("the APIv3 key: {error}"),
                "copy the 32-character APIv3 key set on 商户平台 → 账户中心 → API安全 → APIv3密钥 (it can only be reset there)",
            ));
            None
        }
    }
}

/// The `public-key` and `platform-certificate` checks, and the keys the
/// client would verify with.
fn configured_keys(args: &WechatpayKeyArgs, apiv3: bool, checks: &mut Vec<Check>) -> Keys {
    let mut keys = Keys {
        verifier: Verifier::new(),
        public_key_id: None,
        public_key_file: None,
        certificate_files: Vec::new(),
        downloads: apiv3 && !args.any(),
        downloaded: None,
    };
    if let (Some(id), Some(file)) = (&args.public_key_id, &args.public_key_file) {
        keys.public_key_id = Some(id.clone());
        keys.public_key_file = Some(file.clone());
        match VerifyingKey::from_public_key_pem_file(file) {
            Ok(key) if id.starts_with("PUB_KEY_ID_") => {
                checks.push(Check::ok(
                    "public-key",
                    format!(
                        "`{}` is an RSA public key of {} bits, configured as {id}",
                        file.display(),
                        key.bits()
                    ),
                ));
                keys.verifier.add_public_key(id.clone(), key);
            }
            Ok(key) => {
                checks.push(Check::fail(
                    "public-key",
                    format!("the WeChat Pay public key id `{id}` does not start with PUB_KEY_ID_"),
                    format!("copy the id shown next to the key on {PUBLIC_KEY_PLACE} into --public-key-id (WXPAY_PUBLIC_KEY_ID)"),
                ));
                keys.verifier.add_public_key(id.clone(), key);
            }
            Err(error) => checks.push(Check::fail(
                "public-key",
                format!("the WeChat Pay public key {id}: {error}"),
                format!("download pub_key.pem from {PUBLIC_KEY_PLACE} and point --public-key-file (WXPAY_PUBLIC_KEY_FILE) at it"),
            )),
        }
    }
    if let Some(file) = &args.platform_cert_file {
        let loaded = std::fs::read_to_string(file)
            .map_err(|error| format!("cannot read `{}`: {error}", file.display()))
            .and_then(|pem| {
                PlatformCertificate::from_pem(&pem)
                    .map_err(|error| format!("`{}`: {error}", file.display()))
            });
        match loaded {
            Ok(certificate) => {
                let now = crate::settings::unix_now();
                keys.certificate_files
                    .push(certificate.serial().to_owned());
                if certificate.is_valid_at(now) {
                    checks.push(Check::ok(
                        "platform-certificate",
                        format!(
                            "`{}` is platform certificate {}, valid until {}",
                            file.display(),
                            certificate.serial(),
                            crate::certificates::utc(certificate.not_after())
                        ),
                    ));
                } else {
                    checks.push(Check::fail(
                        "platform-certificate",
                        format!(
                            "platform certificate {} (`{}`) is not valid now (valid {} to {})",
                            certificate.serial(),
                            file.display(),
                            crate::certificates::utc(certificate.not_before()),
                            crate::certificates::utc(certificate.not_after())
                        ),
                        "download the current ones with `wxpay certificates --out DIR` and point --platform-cert-file at the new file",
                    ));
                }
                keys.verifier.add_certificate(&certificate);
            }
            Err(message) => checks.push(Check::fail(
                "platform-certificate",
                message,
                "download the platform certificates with `wxpay certificates --out DIR` and point --platform-cert-file (WXPAY_PLATFORM_CERT_FILE) at one",
            )),
        }
    }
    keys
}

/// The `permissions` check of one secret file.
fn permissions(what: &str, path: &Path) -> Check {
    match files::exposure(path) {
        Ok(None) => Check::ok(
            "permissions",
            format!("{what} `{}` is readable by its owner only", path.display()),
        ),
        Ok(Some(mode)) => Check::fail(
            "permissions",
            format!(
                "{what} `{}` is readable by {} (mode {mode:04o})",
                path.display(),
                files::readers(mode)
            ),
            format!(
                "chmod 600 {}",
                files::shell_word(&path.display().to_string())
            ),
        ),
        Err(error) => Check::fail(
            "permissions",
            format!("{what} `{}`: {error}", path.display()),
            "check the path",
        ),
    }
}

/// Sends signed GET probes.
struct Probe<'a> {
    http: &'a reqwest::Client,
    base_url: &'a str,
    signer: &'a RequestSigner,
}

impl Probe<'_> {
    /// Signs and sends `GET target`, with `Wechatpay-Serial: serial` when
    /// given; the whole answer, or why there was none.
    async fn send(&self, target: &str, serial: Option<&str>) -> Result<Answer, String> {
        let timestamp = crate::settings::unix_now();
        let nonce = wxpay::signing::new_nonce();
        let authorization = self
            .signer
            .authorization(Method::Get, target, b"", timestamp, &nonce)
            .map_err(|error| format!("the merchant key could not sign: {error}"))?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("wxpay-cli/", env!("CARGO_PKG_VERSION"), " doctor")),
        );
        let authorization = HeaderValue::from_str(&authorization).map_err(|_| {
            "the Authorization header is not valid header text: check --mchid and --serial"
                .to_owned()
        })?;
        headers.insert(AUTHORIZATION, authorization);
        if let Some(serial) = serial {
            let value = HeaderValue::from_str(serial)
                .map_err(|_| format!("the public key id `{serial}` is not valid header text"))?;
            headers.insert(header::SERIAL, value);
        }
        let url = format!("{}{target}", self.base_url);
        let sent = now_fractional();
        let response = self
            .http
            .get(&url)
            .headers(headers)
            .send()
            .await
            .map_err(|error| format!("GET {url} got no answer: {}", wxpay::Report::new(&error)))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|error| {
                format!(
                    "GET {url}: the answer broke off: {}",
                    wxpay::Report::new(&error)
                )
            })?
            .to_vec();
        let received = now_fractional();
        Ok(Answer {
            status,
            headers,
            body,
            local_mid: (sent + received) / 2.0,
        })
    }
}

/// This machine's clock, Unix seconds with a fraction.
fn now_fractional() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs_f64())
        .unwrap_or(0.0)
}

/// The `signature` check; returns whether WeChat Pay accepted the
/// signature.
fn check_signature(
    answer: &Answer,
    signer: &RequestSigner,
    merchant: &MerchantArgs,
    checks: &mut Vec<Check>,
) -> bool {
    let key_file = merchant
        .private_key_file
        .as_deref()
        .map(|path| path.display().to_string())
        .unwrap_or_default();
    let (code, message) = answer.error();
    match answer.status {
        401 => {
            let fix = if message.contains("timestamp") {
                "this machine's clock is off: synchronise it (NTP; see `clock`)".to_owned()
            } else {
                format!(
                    "the private key `{key_file}` does not belong to the certificate serial {} of merchant {}: \
                     check --serial (WXPAY_SERIAL) against 商户平台 → 账户中心 → API安全 → API证书, and that \
                     --private-key-file (WXPAY_PRIVATE_KEY_FILE) is the apiclient_key.pem made with that certificate; \
                     `wxpay sign` prints the signing message to compare with the server's",
                    signer.serial_no(),
                    signer.mchid()
                )
            };
            checks.push(Check::fail(
                "signature",
                format!(
                    "WeChat Pay refused the signature: HTTP 401 {code}{}{}",
                    if message.is_empty() {
                        String::new()
                    } else {
                        format!(": {message}")
                    },
                    answer.request_id()
                ),
                fix,
            ));
            false
        }
        429 | 500..=599 => {
            checks.push(Check::warn(
                "signature",
                format!(
                    "not told: the probe was answered {}{}",
                    answer.describe(),
                    answer.request_id()
                ),
                "run `wxpay doctor` again in a moment",
            ));
            false
        }
        _ => {
            checks.push(Check::ok(
                "signature",
                format!(
                    "WeChat Pay accepted a request signed with serial {} and `{key_file}` (a query for an order that does not exist answered {})",
                    signer.serial_no(),
                    answer.describe()
                ),
            ));
            true
        }
    }
}

/// The `certificates` check: downloads `GET /v3/certificates`, decrypts
/// them with the APIv3 key, verifies the download with them; adds them
/// to `keys` in certificate mode. Returns whether any was delivered.
async fn check_certificates(
    probe: &Probe<'_>,
    key: &ApiV3Key,
    keys: &mut Keys,
    checks: &mut Vec<Check>,
) -> bool {
    let answer = match probe.send(CERTIFICATES_PATH, None).await {
        Ok(answer) => answer,
        Err(message) => {
            checks.push(Check::fail(
                "certificates",
                message,
                "run `wxpay doctor` again; check the network",
            ));
            return false;
        }
    };
    if !(200..300).contains(&answer.status) {
        let (_, message) = answer.error();
        checks.push(Check::fail(
            "certificates",
            format!(
                "GET {CERTIFICATES_PATH} answered {}{}{}",
                answer.describe(),
                if message.is_empty() {
                    String::new()
                } else {
                    format!(": {message}")
                },
                answer.request_id()
            ),
            "certificate mode needs this download; without it, configure WeChat Pay's public key instead",
        ));
        return false;
    }
    let listed = serde_json::from_slice::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|value| {
            value
                .get("data")
                .and_then(|data| data.as_array().map(Vec::len))
        });
    if listed == Some(0) {
        checks.push(Check::warn(
            "certificates",
            "the download lists no platform certificate (a merchant in public-key mode only), so the APIv3 key could not be checked against it",
            "make sure the APIv3 key is the one set on 商户平台 → 账户中心 → API安全 → APIv3密钥: callbacks are decrypted with it",
        ));
        return false;
    }
    let now = crate::settings::unix_now();
    match decode_certificates(&answer.body, key, CryptoBackend::default(), now) {
        Ok(certificates) => {
            let mut delivered = Verifier::new();
            for certificate in &certificates {
                delivered.add_certificate(certificate);
            }
            let serials: Vec<&str> = certificates
                .iter()
                .map(PlatformCertificate::serial)
                .collect();
            let verified = verify_at_own_time(&delivered, &answer);
            let plural = if certificates.len() == 1 { "" } else { "s" };
            match verified {
                Ok(()) => checks.push(Check::ok(
                    "certificates",
                    format!(
                        "the APIv3 key decrypts the {} platform certificate{plural} of GET {CERTIFICATES_PATH} ({}), and the download's signature verifies with them",
                        certificates.len(),
                        serials.join(", ")
                    ),
                )),
                Err(error) => checks.push(Check::fail(
                    "certificates",
                    format!(
                        "the APIv3 key decrypts the platform certificate{plural} ({}), but the download's signature does not verify with them: {error}",
                        serials.join(", ")
                    ),
                    "the download was altered on the way (a proxy?); run `wxpay doctor` again, and do not trust these certificates",
                )),
            }
            if keys.downloads {
                for certificate in &certificates {
                    keys.verifier.add_certificate(certificate);
                }
            }
            !certificates.is_empty()
        }
        Err(CertificateError::Decrypt { serial, source }) => {
            checks.push(Check::fail(
                "certificates",
                format!(
                    "the APIv3 key does not decrypt platform certificate {serial} ({source}): it is not the APIv3 key set for this merchant"
                ),
                "copy the 32-character APIv3 key set on 商户平台 → 账户中心 → API安全 → APIv3密钥 (if nobody knows it, reset it there) into --apiv3-key-file (WXPAY_APIV3_KEY_FILE)",
            ));
            false
        }
        Err(error) => {
            checks.push(Check::fail(
                "certificates",
                format!(
                    "the certificate download cannot be used: {}",
                    wxpay::Report::new(&error)
                ),
                "run `wxpay doctor` again; if it persists, ask WeChat Pay support with the Request-ID",
            ));
            false
        }
    }
}

/// Verifies `answer` with `verifier` at the time it says it was signed,
/// so that a clock difference (the `clock` check's business) does not
/// hide whether the key is right.
fn verify_at_own_time(verifier: &Verifier, answer: &Answer) -> Result<(), VerifyError> {
    let parts = SignatureHeaders::from_headers(&answer.headers)?;
    let at = parts
        .timestamp
        .trim()
        .parse::<i64>()
        .unwrap_or_else(|_| crate::settings::unix_now());
    verifier.verify_parts(&parts, &answer.body, at)
}

/// The `answers` or `callbacks` check: the key `answer` names, against
/// the configured ones.
fn judge(name: &'static str, answer: &Answer, keys: &Keys) -> Check {
    let what = if name == "answers" {
        "answers to this configuration's requests are"
    } else {
        "callbacks (and answers to requests naming no key) are"
    };
    let Some(serial) = answer.serial() else {
        return Check::warn(
            name,
            format!(
                "not told: the probe's {} answer carried no Wechatpay-Serial{}",
                answer.describe(),
                answer.request_id()
            ),
            "run `wxpay doctor` again; an unsigned answer is refused by every command",
        );
    };
    let public = serial.starts_with("PUB_KEY_ID_");
    let kind = if public {
        format!("WeChat Pay public key {serial} (public-key mode)")
    } else {
        format!("platform certificate {serial} (certificate mode)")
    };
    if keys.verifier.key(serial).is_some() {
        return match verify_at_own_time(&keys.verifier, answer) {
            Ok(()) => Check::ok(
                name,
                format!(
                    "{what} signed with {kind}, which this configuration has, and the signature verifies"
                ),
            ),
            Err(VerifyError::CertificateNotValid { .. }) => Check::fail(
                name,
                format!(
                    "{what} signed with {kind}, which this configuration has, but it is not valid now"
                ),
                "download the current certificates with `wxpay certificates --out DIR`, or drop --platform-cert-file and set the APIv3 key so that they are downloaded",
            ),
            Err(error) => Check::fail(
                name,
                format!(
                    "{what} signed with {kind}, but the key configured under that serial does not verify them: {error}"
                ),
                if public {
                    format!(
                        "`{}` is not WeChat Pay public key {serial}: download pub_key.pem again from {PUBLIC_KEY_PLACE} and point --public-key-file (WXPAY_PUBLIC_KEY_FILE) at it",
                        keys.public_key_file
                            .as_deref()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default()
                    )
                } else {
                    "the certificate file configured under that serial is not WeChat Pay's: download it again with `wxpay certificates --out DIR`".to_owned()
                },
            ),
        };
    }
    if public {
        return match &keys.public_key_id {
            Some(configured) => Check::fail(
                name,
                format!(
                    "{what} signed with {kind}, but the configured public key is {configured}: every one would be refused"
                ),
                format!(
                    "set --public-key-id {serial} (WXPAY_PUBLIC_KEY_ID, profile key public_key_id) and --public-key-file \
                     (WXPAY_PUBLIC_KEY_FILE, public_key_file) to that key's pub_key.pem, from {PUBLIC_KEY_PLACE}"
                ),
            ),
            None => Check::fail(
                name,
                format!(
                    "{what} signed with {kind}, but this configuration verifies with platform certificates only \
                     (certificate mode): every one would be refused for its unknown serial"
                ),
                format!(
                    "download the WeChat Pay public key (pub_key.pem) from {PUBLIC_KEY_PLACE} and set \
                     --public-key-id {serial} --public-key-file /path/to/pub_key.pem (WXPAY_PUBLIC_KEY_ID and \
                     WXPAY_PUBLIC_KEY_FILE; profile keys public_key_id and public_key_file); keep the APIv3 key \
                     for callbacks"
                ),
            ),
        };
    }
    if keys.downloads {
        let message = match keys.downloaded {
            Some(true) => format!(
                "{what} signed with {kind}, which is not among the certificates GET {CERTIFICATES_PATH} delivered"
            ),
            _ => format!(
                "{what} signed with {kind}, and no certificate was downloaded (see `certificates`), so the client has no key for it"
            ),
        };
        return Check::fail(
            name,
            message,
            "fix the certificate download first; run `wxpay doctor` again after a certificate rotation settles",
        );
    }
    let have = if keys.certificate_files.is_empty() {
        String::new()
    } else {
        format!(" (configured: {})", keys.certificate_files.join(", "))
    };
    let only_public = keys
        .public_key_id
        .as_deref()
        .map(|id| format!(", while this configuration has WeChat Pay public key {id}"))
        .unwrap_or_default();
    Check::fail(
        name,
        format!("{what} signed with {kind}, which this configuration lacks{have}{only_public}"),
        format!(
            "write the certificates with `wxpay certificates --out DIR` and add --platform-cert-file DIR/{serial}.pem \
             (WXPAY_PLATFORM_CERT_FILE, profile key platform_cert_file); or configure only the APIv3 key \
             (--apiv3-key-file) so that the certificates are downloaded and refreshed"
        ),
    )
}

/// The `clock` check: the server's `Date` and the answer's signature
/// timestamp against this machine's clock.
fn check_clock(answer: &Answer) -> Check {
    let date = answer
        .headers
        .get(DATE)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| httpdate::parse_http_date(text).ok())
        .and_then(|time| time.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|since| since.as_secs_f64());
    let signed = answer
        .headers
        .get(header::TIMESTAMP)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<i64>().ok());
    // The Date header has whole seconds: its second covers [s, s+1).
    let date_skew = date.map(|date| seconds(date + 0.5 - answer.local_mid));
    #[allow(clippy::cast_precision_loss)] // Unix seconds fit an f64's mantissa.
    let signed_skew = signed.map(|signed| seconds(signed as f64 + 0.5 - answer.local_mid));
    let fix = "synchronise this machine's clock (NTP: `timedatectl set-ntp true`, chronyd or ntpd)";
    let worst = [date_skew, signed_skew]
        .into_iter()
        .flatten()
        .max_by_key(|skew| skew.abs());
    let Some(worst) = worst else {
        return Check::warn(
            "clock",
            "not told: the answer carried neither Date nor Wechatpay-Timestamp",
            "compare this machine's clock with a time server (`chronyc tracking`, `timedatectl`)",
        );
    };
    let describe = |skew: i64| match skew.signum() {
        1 => format!("{skew} s ahead of this machine's clock"),
        -1 => format!("{} s behind this machine's clock", -skew),
        _ => "within a second of this machine's clock".to_owned(),
    };
    let mut parts = Vec::new();
    if let Some(skew) = date_skew {
        parts.push(format!("the server's Date is {}", describe(skew)));
    }
    if let Some(skew) = signed_skew
        && Some(skew) != date_skew
    {
        parts.push(format!("its signature timestamp is {}", describe(skew)));
    }
    let said = parts.join(", ");
    if worst.abs() > MAX_CLOCK_SKEW_SECS {
        Check::fail(
            "clock",
            format!(
                "{said}: more than the {MAX_CLOCK_SKEW_SECS} s WeChat Pay allows, so requests are refused (SIGN_ERROR) and answers and callbacks rejected as stale"
            ),
            fix,
        )
    } else if worst.abs() > CLOCK_WARNING_SECS {
        Check::warn(
            "clock",
            format!("{said}; WeChat Pay allows {MAX_CLOCK_SKEW_SECS} s"),
            fix,
        )
    } else {
        Check::ok(
            "clock",
            format!("{said}; WeChat Pay allows {MAX_CLOCK_SKEW_SECS} s"),
        )
    }
}

/// Seconds, rounded toward zero.
#[allow(clippy::cast_possible_truncation)] // Clock differences are far below i64's range.
fn seconds(difference: f64) -> i64 {
    difference.trunc() as i64
}

/// Prints the checks, one line each, the fix indented below a failure or
/// a warning, then a summary.
fn print_text(report: &Report, failed: usize) -> Result<(), Failure> {
    let mut text = format!("wxpay doctor: {}", report.base_url);
    if let Some(mchid) = &report.mchid {
        text.push_str(&format!(", merchant {mchid}"));
    }
    if let Some(profile) = &report.profile {
        text.push_str(&format!(", profile {profile}"));
    }
    text.push('\n');
    for check in &report.checks {
        text.push_str(&format!(
            "{:<5} {}: {}\n",
            check.status.word(),
            check.name,
            check.message
        ));
        if let Some(fix) = &check.fix
            && matches!(check.status, Status::Fail | Status::Warn)
        {
            text.push_str(&format!("      fix: {fix}\n"));
        }
    }
    let warned = report
        .checks
        .iter()
        .filter(|check| check.status == Status::Warn)
        .count();
    let total = report.checks.len();
    text.push_str(&match (failed, warned) {
        (0, 0) => format!("all {total} checks passed\n"),
        (0, _) => format!("no check failed; {warned} warning(s)\n"),
        _ => format!("{failed} of {total} checks failed, {warned} warning(s)\n"),
    });
    output::stdout(text.as_bytes())
}

/// Prints the checks as one JSON object.
fn print_json(report: &Report, ok: bool) -> Result<(), Failure> {
    let checks: Vec<serde_json::Value> = report
        .checks
        .iter()
        .map(|check| {
            serde_json::json!({
                "check": check.name,
                "status": check.status.word().to_ascii_lowercase(),
                "message": check.message,
                "fix": check.fix,
            })
        })
        .collect();
    let value = serde_json::json!({
        "ok": ok,
        "base_url": report.base_url,
        "mchid": report.mchid,
        "profile": report.profile,
        "checks": checks,
    });
    let text = serde_json::to_string_pretty(&value)
        .map_err(|error| Failure::Other(format!("cannot show the checks as JSON: {error}")))?;
    output::line(&text)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn answer(headers: &[(&'static str, String)], local_mid: f64) -> Answer {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_str(value).expect("header"));
        }
        Answer {
            status: 404,
            headers: map,
            body: br#"{"code":"ORDER_NOT_EXIST","message":"no"}"#.to_vec(),
            local_mid,
        }
    }

    #[test]
    fn the_clock_check_fails_past_300_seconds_and_warns_past_60() {
        let now = 1_700_000_000.0;
        let date = |offset: f64| {
            httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs_f64(now + offset))
        };
        let ok = check_clock(&answer(&[("date", date(0.0))], now));
        assert_eq!(ok.status, Status::Ok, "{ok:?}");
        let warn = check_clock(&answer(&[("date", date(-120.0))], now));
        assert_eq!(warn.status, Status::Warn, "{warn:?}");
        assert!(warn.message.contains("behind"), "{warn:?}");
        let fail = check_clock(&answer(&[("date", date(400.0))], now));
        assert_eq!(fail.status, Status::Fail, "{fail:?}");
        assert!(fail.message.contains("400 s ahead"), "{fail:?}");
        // A signature timestamp far off fails even with a good Date.
        let stale = check_clock(&answer(
            &[
                ("date", date(0.0)),
                ("wechatpay-timestamp", format!("{}", 1_700_000_000 - 400)),
            ],
            now,
        ));
        assert_eq!(stale.status, Status::Fail, "{stale:?}");
        assert!(stale.message.contains("signature timestamp"), "{stale:?}");
        let none = check_clock(&answer(&[], now));
        assert_eq!(none.status, Status::Warn);
    }

    #[test]
    fn a_public_key_serial_at_a_certificate_mode_client_says_what_to_set() {
        let keys = Keys {
            verifier: Verifier::new(),
            public_key_id: None,
            public_key_file: None,
            certificate_files: vec!["5157F09EFDC096DE15EBE81A47057A7232F1B8E1".to_owned()],
            downloads: false,
            downloaded: None,
        };
        let id = "PUB_KEY_ID_0114232134912410000000000000";
        let check = judge(
            "answers",
            &answer(&[("wechatpay-serial", id.to_owned())], 0.0),
            &keys,
        );
        assert_eq!(check.status, Status::Fail);
        assert!(check.message.contains("certificate mode"), "{check:?}");
        let fix = check.fix.expect("a fix");
        assert!(fix.contains(&format!("--public-key-id {id}")), "{fix}");
        assert!(fix.contains("--public-key-file"), "{fix}");

        let unsigned = judge("answers", &answer(&[], 0.0), &keys);
        assert_eq!(unsigned.status, Status::Warn);
    }
}
