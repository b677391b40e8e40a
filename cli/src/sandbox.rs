//! `wxpay sandbox`: the embedded WeChat Pay simulator, with its keys, a
//! `sandbox.env` and its state database (`sandbox.sqlite3`) in a state
//! folder, all reused on restart.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use wxpay::PlatformCertificate;
use wxpay_sandbox::{
    CALLBACK_RETRY_DELAYS, Credentials, Faults, Sandbox, SandboxConfig, SandboxError, TlsIdentities,
};

use crate::error::Failure;
use crate::output;
use crate::settings;

/// Arguments of `wxpay sandbox`.
#[derive(Args)]
#[command(
    after_help = "With --state DIR, the sandbox's keys go to DIR (private keys and sandbox.env \
    mode 0600) and DIR/sandbox.env sets every WXPAY_… variable the other commands read: \
    `set -a; . DIR/sandbox.env; set +a`. Started again with the same DIR, the sandbox reuses the \
    merchant id, serials, keys and APIv3 key (sandbox.env is rewritten with the new address), \
    and finds every stock, coupon, order and refund it acknowledged before, kept in \
    DIR/sandbox.sqlite3 (even when it was killed). Without --state nothing is kept. \
    Ctrl-C (or SIGTERM) stops it.\n\n\
    The fault flags set the faults the sandbox starts with; GET/PUT /_sandbox/faults reads and \
    changes them while it runs (JSON, no signature). POST /_sandbox/notify delivers a callback, \
    GET /_sandbox/callbacks lists the delivery attempts, POST /_sandbox/rotate rotates the \
    platform certificate. POST /_sandbox/transactions/out-trade-no/{out_trade_no}/pay pays an \
    order and sends its TRANSACTION.SUCCESS callback."
)]
pub struct SandboxArgs {
    /// Where to listen; port 0 picks a free port. Only a loopback address
    /// unless --public is given
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:0")]
    addr: SocketAddr,

    /// Allow an --addr other than loopback (0.0.0.0, a LAN address): anyone who reaches the
    /// port can then use the unauthenticated /_sandbox/ control endpoints
    #[arg(long)]
    public: bool,

    /// A folder for the keys, sandbox.env and the sandbox's state (stocks, coupons, orders,
    /// refunds); all found there are reused
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,

    /// Sign answers to requests that name no key in platform certificate mode
    #[arg(long)]
    certificate_mode: bool,

    /// Retry failed callbacks N times sooner than WeChat Pay (15 s … 6 h divided by N)
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    callback_speedup: u32,

    /// Wait this long before answering each API request
    #[arg(long, value_name = "MS", default_value_t = 0, help_heading = "Faults")]
    latency_ms: u64,

    /// Answer this share (0.0 to 1.0) of API requests 429 FREQUENCY_LIMITED
    #[arg(
        long,
        value_name = "SHARE",
        default_value_t = 0.0,
        help_heading = "Faults"
    )]
    share_429: f64,

    /// Answer this share (0.0 to 1.0) of API requests 500 SYSTEM_ERROR
    #[arg(
        long,
        value_name = "SHARE",
        default_value_t = 0.0,
        help_heading = "Faults"
    )]
    share_500: f64,

    /// Sign this share (0.0 to 1.0) of answers with a WECHATPAY/SIGNTEST/ probe
    #[arg(
        long,
        value_name = "SHARE",
        default_value_t = 0.0,
        help_heading = "Faults"
    )]
    signtest_share: f64,

    /// Send this share (0.0 to 1.0) of successful answers unsigned
    #[arg(
        long,
        value_name = "SHARE",
        default_value_t = 0.0,
        help_heading = "Faults"
    )]
    unsigned_share: f64,

    /// Sign this share (0.0 to 1.0) of callback attempts with a WECHATPAY/SIGNTEST/ probe
    #[arg(
        long,
        value_name = "SHARE",
        default_value_t = 0.0,
        help_heading = "Faults"
    )]
    callback_signtest_share: f64,

    /// Shift the Wechatpay-Timestamp of answers by this many seconds
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 0,
        allow_negative_numbers = true,
        help_heading = "Faults"
    )]
    clock_offset_secs: i64,
}

impl SandboxArgs {
    /// The faults the flags ask for.
    fn faults(&self) -> Faults {
        Faults {
            latency_ms: self.latency_ms,
            share_429: self.share_429,
            share_500: self.share_500,
            signtest_share: self.signtest_share,
            unsigned_share: self.unsigned_share,
            clock_offset_secs: self.clock_offset_secs,
            callback_signtest_share: self.callback_signtest_share,
            ..Faults::default()
        }
    }

    /// WeChat Pay's callback retry schedule, `--callback-speedup` times
    /// faster.
    fn callback_retry_delays(&self) -> Option<Vec<Duration>> {
        (self.callback_speedup > 1).then(|| {
            CALLBACK_RETRY_DELAYS
                .iter()
                .map(|delay| *delay / self.callback_speedup)
                .collect()
        })
    }
}

const MERCHANT_PRIVATE_KEY: &str = "merchant_private_key.pem";
const MERCHANT_PUBLIC_KEY: &str = "merchant_public_key.pem";
const PLATFORM_PRIVATE_KEY: &str = "platform_private_key.pem";
const PLATFORM_PUBLIC_KEY: &str = "platform_public_key.pem";
const PLATFORM_CERTIFICATE: &str = "platform_certificate.pem";
const ENV_FILE: &str = "sandbox.env";
const APIV2_KEY: &str = "apiv2_key.txt";
const CLIENT_CERTIFICATE: &str = "apiclient_cert.pem";
const CLIENT_KEY: &str = "apiclient_key.pem";
const CLIENT_PKCS12: &str = "apiclient_cert.p12";
const SANDBOX_CA: &str = "sandbox_ca.pem";
const SANDBOX_CA_KEY: &str = "sandbox_ca_key.pem";

/// The files a later start needs to come back with the same identity.
const NEEDED: [&str; 5] = [
    MERCHANT_PRIVATE_KEY,
    MERCHANT_PUBLIC_KEY,
    PLATFORM_PRIVATE_KEY,
    PLATFORM_CERTIFICATE,
    ENV_FILE,
];

/// Runs `wxpay sandbox` until Ctrl-C or SIGTERM.
pub async fn run(args: SandboxArgs) -> Result<(), Failure> {
    check_exposure(args.addr, args.public)?;
    let faults = args.faults();
    faults.validate().map_err(|error| match error {
        SandboxError::InvalidFaults { field, reason } => {
            Failure::usage(format!("--{}: {reason}", field.replace('_', "-")))
        }
        other => Failure::usage(other.to_string()),
    })?;
    let mut config = SandboxConfig {
        addr: Some(args.addr),
        certificate_mode: args.certificate_mode,
        callback_retry_delays: args.callback_retry_delays(),
        ..SandboxConfig::default()
    };
    let state = match &args.state {
        Some(dir) => Some(prepare_folder(dir)?),
        None => None,
    };
    let reused = match &state {
        Some(dir) => restore(dir, &mut config)?,
        None => false,
    };
    config.state_dir = state.clone();
    let sandbox = Sandbox::start_with(config).await.map_err(|error| match error {
        SandboxError::InvalidKey { .. } | SandboxError::InvalidConfig { .. } => {
            Failure::usage(format!(
                "the keys stored in the state folder cannot be used: {error}; remove the folder to start afresh"
            ))
        }
        SandboxError::State { ref reason } if reason.contains("not WAL") => {
            Failure::usage(error.to_string())
        }
        SandboxError::State { .. } => Failure::usage(format!(
            "{error}; remove the state folder's sandbox.sqlite3 to start with no stocks or orders"
        )),
        other => Failure::Other(format!("the sandbox could not start: {other}")),
    })?;
    sandbox
        .try_set_faults(faults.clone())
        .map_err(|error| Failure::usage(error.to_string()))?;
    let credentials = sandbox.credentials();
    if let Some(dir) = &state {
        save(dir, sandbox.base_url(), sandbox.v2_tls_url(), credentials)?;
    }

    output::line(&format!(
        "wxpay sandbox listening on {}",
        sandbox.base_url()
    ))?;
    if let Some(url) = sandbox.v2_tls_url() {
        output::line(&format!(
            "  APIv2 over TLS (client certificate asked for) on {url}"
        ))?;
    }
    output::line(&format!(
        "  mchid {}, merchant serial {}, public key id {}, platform certificate {}",
        credentials.mchid,
        credentials.merchant_serial,
        credentials.public_key_id,
        credentials.platform_certificate_serial
    ))?;
    match &state {
        Some(dir) => {
            output::line(&format!(
                "  state in {} ({}); load it with: set -a; . {}; set +a",
                dir.display(),
                if reused { "keys reused" } else { "new keys" },
                shell_value(&dir.join(ENV_FILE).display().to_string())
            ))?;
        }
        None => output::line("  the keys are not written anywhere: pass --state DIR to use them")?,
    }
    output::line(&format!(
        "  control: {0}/_sandbox/faults (GET, PUT), {0}/_sandbox/notify (POST), {0}/_sandbox/callbacks, {0}/_sandbox/rotate (POST)",
        sandbox.base_url()
    ))?;
    let active = describe(&faults);
    if !active.is_empty() {
        output::line(&format!("  faults: {}", active.join(", ")))?;
    }
    if args.callback_speedup > 1 {
        output::line(&format!(
            "  callbacks retried {}× faster than WeChat Pay",
            args.callback_speedup
        ))?;
    }
    output::line("  Ctrl-C stops it")?;

    let stop = stopped().await;
    sandbox.shutdown().await;
    output::note("sandbox stopped");
    stop
}

/// The faults that differ from the default, as `name value` phrases.
fn describe(faults: &Faults) -> Vec<String> {
    let mut active = Vec::new();
    if faults.latency_ms > 0 {
        active.push(format!("latency {} ms", faults.latency_ms));
    }
    for (name, share) in [
        ("429 share", faults.share_429),
        ("500 share", faults.share_500),
        ("SIGNTEST share", faults.signtest_share),
        ("unsigned share", faults.unsigned_share),
        ("callback SIGNTEST share", faults.callback_signtest_share),
    ] {
        if share > 0.0 {
            active.push(format!("{name} {share}"));
        }
    }
    if faults.clock_offset_secs != 0 {
        active.push(format!("clock offset {} s", faults.clock_offset_secs));
    }
    active
}

/// Waits for Ctrl-C (or, on Unix, SIGTERM).
async fn stopped() -> Result<(), Failure> {
    let failed = |error: std::io::Error| Failure::Other(format!("cannot wait for Ctrl-C: {error}"));
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).map_err(failed)?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.map_err(failed),
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map_err(failed)
    }
}

/// Refuses an address other than loopback unless `public`: the control
/// endpoints (`/_sandbox/…`) take no signature, so anyone who reaches the
/// port could pay orders, rotate keys or switch faults on. With `public`,
/// warns on stderr instead.
fn check_exposure(addr: SocketAddr, public: bool) -> Result<(), Failure> {
    if addr.ip().to_canonical().is_loopback() {
        return Ok(());
    }
    if !public {
        return Err(Failure::usage(format!(
            "--addr {addr} is not a loopback address: the sandbox's control endpoints (/_sandbox/…: pay orders, rotate keys, set faults) take no authentication, so anyone who reaches that address could use them\n\
             listen on loopback (--addr 127.0.0.1:PORT, the default), or add --public to expose it anyway on a network you trust"
        )));
    }
    output::note(&format!(
        "warning: --public: the sandbox listens on {addr}, beyond loopback; anyone who reaches it can use the unauthenticated /_sandbox/ control endpoints"
    ));
    Ok(())
}

/// Creates the state folder if needed (mode 0700 when created here) and
/// returns its absolute path.
fn prepare_folder(dir: &Path) -> Result<PathBuf, Failure> {
    if !dir.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            builder.mode(0o700);
        }
        builder
            .create(dir)
            .map_err(|error| Failure::write(dir, &error))?;
    }
    if !dir.is_dir() {
        return Err(Failure::usage(format!(
            "--state `{}` is not a folder",
            dir.display()
        )));
    }
    std::fs::canonicalize(dir).map_err(|error| Failure::write(dir, &error))
}

/// Puts the keys and identities a previous start left in `dir` into
/// `config`; returns whether there were any.
fn restore(dir: &Path, config: &mut SandboxConfig) -> Result<bool, Failure> {
    let present: Vec<&str> = NEEDED
        .iter()
        .copied()
        .filter(|name| dir.join(name).exists())
        .collect();
    if present.is_empty() {
        return Ok(false);
    }
    if present.len() != NEEDED.len() {
        let missing: Vec<&str> = NEEDED
            .iter()
            .copied()
            .filter(|name| !present.contains(name))
            .collect();
        return Err(Failure::usage(format!(
            "the state folder `{}` is incomplete (missing {}); remove it, or point --state at an empty folder",
            dir.display(),
            missing.join(", ")
        )));
    }
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).map_err(|error| Failure::read("--state", &path, &error))
    };
    let env = parse_env(&read(ENV_FILE)?);
    let variable = |name: &str| {
        env.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .filter(|value| !value.is_empty())
            .ok_or_else(|| {
                Failure::usage(format!(
                    "`{}` lacks {name}; remove the state folder to start afresh",
                    dir.join(ENV_FILE).display()
                ))
            })
    };
    config.mchid = Some(variable("WXPAY_MCHID")?);
    config.merchant_serial = Some(variable("WXPAY_SERIAL")?);
    config.public_key_id = Some(variable("WXPAY_PUBLIC_KEY_ID")?);
    config.apiv3_key = Some(variable("WXPAY_APIV3_KEY")?);
    // Written since the sandbox speaks APIv2; an older folder has none
    // (a new key is made).
    if dir.join(APIV2_KEY).exists() {
        config.apiv2_key = Some(read(APIV2_KEY)?.trim().to_owned());
    }
    // The CA and the client certificate, so that a client that trusts the
    // one and holds the other keeps working; the CA's key is written since
    // they are kept (an older folder has none: new ones are made).
    let tls = [SANDBOX_CA, SANDBOX_CA_KEY, CLIENT_CERTIFICATE, CLIENT_KEY];
    if tls.iter().all(|name| dir.join(name).exists()) {
        config.tls_identities = Some(TlsIdentities {
            ca_certificate_pem: read(SANDBOX_CA)?,
            ca_key_pem: read(SANDBOX_CA_KEY)?,
            client_certificate_pem: read(CLIENT_CERTIFICATE)?,
            client_key_pem: read(CLIENT_KEY)?,
        });
    } else {
        output::note(
            "the state folder has no APIv2 CA and client certificate to reuse: new ones are made \
             (trust the new sandbox_ca.pem, use the new apiclient_cert.p12)",
        );
    }
    config.merchant_private_key_pem = Some(read(MERCHANT_PRIVATE_KEY)?);
    config.merchant_public_key_pem = Some(read(MERCHANT_PUBLIC_KEY)?);
    config.platform_private_key_pem = Some(read(PLATFORM_PRIVATE_KEY)?);

    let certificate_pem = read(PLATFORM_CERTIFICATE)?;
    let certificate = PlatformCertificate::from_pem(&certificate_pem).map_err(|error| {
        Failure::usage(format!(
            "`{}`: {error}; remove it to have a new one made",
            dir.join(PLATFORM_CERTIFICATE).display()
        ))
    })?;
    if certificate.is_valid_at(settings::unix_now()) {
        config.platform_certificate_pem = Some(certificate_pem);
    } else {
        output::note(&format!(
            "the stored platform certificate {} is no longer valid: a new one is made for the same key",
            certificate.serial()
        ));
    }
    Ok(true)
}

/// Writes the keys and `sandbox.env` into `dir`; secrets get mode 0600.
fn save(
    dir: &Path,
    base_url: &str,
    v2_tls_url: Option<&str>,
    credentials: &Credentials,
) -> Result<(), Failure> {
    let files = [
        (
            MERCHANT_PRIVATE_KEY,
            &credentials.merchant_private_key_pem,
            true,
        ),
        (
            MERCHANT_PUBLIC_KEY,
            &credentials.merchant_public_key_pem,
            false,
        ),
        (
            PLATFORM_PRIVATE_KEY,
            &credentials.platform_private_key_pem,
            true,
        ),
        (
            PLATFORM_PUBLIC_KEY,
            &credentials.platform_public_key_pem,
            false,
        ),
        (
            PLATFORM_CERTIFICATE,
            &credentials.platform_certificate_pem,
            false,
        ),
        (APIV2_KEY, &credentials.apiv2_key, true),
        (
            CLIENT_CERTIFICATE,
            &credentials.client_certificate_pem,
            false,
        ),
        (CLIENT_KEY, &credentials.client_key_pem, true),
        (SANDBOX_CA, &credentials.tls_ca_pem, false),
        (SANDBOX_CA_KEY, &credentials.tls_ca_key_pem, true),
    ];
    for (name, contents, secret) in files {
        write_file(&dir.join(name), contents, secret)?;
    }
    crate::files::write_file(&dir.join(CLIENT_PKCS12), &credentials.client_pkcs12, 0o600)?;
    let path = |name: &str| dir.join(name).display().to_string();
    let variables = [
        ("WXPAY_BASE_URL", base_url.to_owned()),
        ("WXPAY_MCHID", credentials.mchid.clone()),
        ("WXPAY_SERIAL", credentials.merchant_serial.clone()),
        ("WXPAY_PRIVATE_KEY_FILE", path(MERCHANT_PRIVATE_KEY)),
        ("WXPAY_PUBLIC_KEY_ID", credentials.public_key_id.clone()),
        ("WXPAY_PUBLIC_KEY_FILE", path(PLATFORM_PUBLIC_KEY)),
        ("WXPAY_PLATFORM_CERT_FILE", path(PLATFORM_CERTIFICATE)),
        ("WXPAY_APIV3_KEY", credentials.apiv3_key.clone()),
        // `wxpay v2`'s settings: the APIv2 key, the client certificate
        // (its password is the mchid), and the TLS listener that asks for
        // it, trusted through the sandbox's CA.
        ("WXPAY_V2_KEY_FILE", path(APIV2_KEY)),
        (
            "WXPAY_V2_BASE_URL",
            v2_tls_url.unwrap_or_default().to_owned(),
        ),
        ("WXPAY_V2_CLIENT_CERT_FILE", path(CLIENT_PKCS12)),
        ("WXPAY_V2_CA_FILE", path(SANDBOX_CA)),
    ];
    let mut env = format!(
        "# The wxpay sandbox at {base_url}, written by `wxpay sandbox --state`.\n\
         # Load it with: set -a; . {}; set +a\n",
        shell_value(&path(ENV_FILE))
    );
    for (name, value) in variables {
        env.push_str(&format!("{name}={}\n", shell_value(&value)));
    }
    write_file(&dir.join(ENV_FILE), &env, true)
}

/// Writes `contents` to `path`, readable by the owner only when `secret`,
/// refusing a symbolic link there (see [`crate::files::write_file`]): an
/// existing file (a state folder used again) is rewritten in place.
fn write_file(path: &Path, contents: &str, secret: bool) -> Result<(), Failure> {
    crate::files::write_file(
        path,
        contents.as_bytes(),
        if secret { 0o600 } else { 0o644 },
    )
}

/// `value` as a POSIX shell word: bare when it holds only characters no
/// shell treats specially (so that other `.env` readers see it unchanged),
/// else in single quotes.
fn shell_value(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./:@%+,=-".contains(&b));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// Reads `NAME=value` lines as a POSIX shell would assign them (single
/// quotes, backslash escapes outside them); blank lines and `#` comments
/// are skipped.
fn parse_env(text: &str) -> Vec<(String, String)> {
    let mut variables = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, raw)) = line.split_once('=') else {
            continue;
        };
        let mut value = String::new();
        let mut chars = raw.chars();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match c {
                '\'' => quoted = !quoted,
                '\\' if !quoted => value.extend(chars.next()),
                c => value.push(c),
            }
        }
        variables.push((name.to_owned(), value));
    }
    variables
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Command {
        #[command(flatten)]
        args: SandboxArgs,
    }

    #[test]
    fn fault_flags_and_speedup_reach_the_config() {
        let command = Command::try_parse_from([
            "sandbox",
            "--share-500",
            "0.3",
            "--share-429",
            "0.1",
            "--latency-ms",
            "20",
            "--clock-offset-secs",
            "-400",
            "--signtest-share",
            "0.5",
            "--unsigned-share",
            "0.25",
            "--callback-signtest-share",
            "0.75",
            "--callback-speedup",
            "60",
        ])
        .expect("parses");
        let faults = command.args.faults();
        assert_eq!(
            faults,
            Faults {
                share_500: 0.3,
                share_429: 0.1,
                latency_ms: 20,
                clock_offset_secs: -400,
                signtest_share: 0.5,
                unsigned_share: 0.25,
                callback_signtest_share: 0.75,
                ..Faults::default()
            }
        );
        assert_eq!(describe(&faults).len(), 7);
        let delays = command.args.callback_retry_delays().expect("compressed");
        assert_eq!(delays.len(), 15);
        assert_eq!(delays[0], Duration::from_millis(250));
        assert_eq!(delays[14], Duration::from_secs(360));

        let defaults = Command::try_parse_from(["sandbox"]).expect("parses");
        assert_eq!(defaults.args.faults(), Faults::default());
        assert!(describe(&defaults.args.faults()).is_empty());
        assert_eq!(defaults.args.callback_retry_delays(), None);
    }

    #[test]
    fn only_loopback_listens_without_public() {
        for addr in [
            "127.0.0.1:0",
            "127.1.2.3:8080",
            "[::1]:0",
            "[::ffff:127.0.0.1]:0",
        ] {
            let addr: SocketAddr = addr.parse().expect("address");
            assert!(check_exposure(addr, false).is_ok(), "{addr}");
        }
        for addr in ["0.0.0.0:8080", "192.168.1.10:0", "[::]:0", "10.0.0.1:80"] {
            let addr: SocketAddr = addr.parse().expect("address");
            let Err(Failure::Usage(message)) = check_exposure(addr, false) else {
                panic!("{addr} must be refused");
            };
            assert!(message.contains("--public"), "{message}");
            assert!(check_exposure(addr, true).is_ok(), "{addr}");
        }
        let command = Command::try_parse_from(["sandbox", "--addr", "0.0.0.0:0", "--public"])
            .expect("parses");
        assert!(command.args.public);
    }

    #[test]
    fn shell_values_round_trip() {
        for value in [
            "http://127.0.0.1:8080",
            "/tmp/a b/it's.pem",
            "PUB_KEY_ID_0123",
            "",
            "a$b`c\"d",
        ] {
            let line = format!("X={}", shell_value(value));
            assert_eq!(
                parse_env(&line),
                vec![("X".to_owned(), value.to_owned())],
                "{line}"
            );
        }
        assert_eq!(
            shell_value("/tmp/state/sandbox.env"),
            "/tmp/state/sandbox.env"
        );
        assert_eq!(shell_value("/tmp/a b"), "'/tmp/a b'");
    }
}
