//! `wxpay`: WeChat Pay APIv3 from the shell, built on the
//! [wxpay](https://docs.rs/wxpay) SDK.
//!
//! | command | what it does |
//! |---|---|
//! | `wxpay request METHOD TARGET [--data JSON\|@file] [--query k=v …]` | signs and sends any request, verifies the answer's signature, prints the body as pretty JSON (stdout) and its `Request-ID` (stderr) |
//! | `wxpay sign --method M --target T [--body B \| --body-file F] [--timestamp TS --nonce N]` | prints the signing message (each line end shown as `\n`) and the `Authorization` header; no network |
//! | `wxpay pay-params jsapi\|app --appid APPID --prepay-id ID [--partnerid MCHID] [--timestamp TS --nonce N]` | prints the payer's invocation parameters as one JSON object, signed with the merchant key: `appId, timeStamp, nonceStr, package, signType, paySign` for JSAPI and mini-programs, `appid, partnerid, prepayid, package, noncestr, timestamp, sign` for APP; no network |
//! | `wxpay notify --headers FILE --body FILE` | verifies and decrypts a recorded callback, prints its resource |
//! | `wxpay certificates --out DIR` | downloads the platform certificates (certificate mode), writes `DIR/<serial>.pem` |
//! | `wxpay bill --date YYYY-MM-DD --out FILE\|- [--type ALL\|SUCCESS\|REFUND] [--tar-type GZIP] [--fund-flow [--account-type BASIC\|OPERATION\|FEES]]` | applies for a day's trade (or fund flow) bill, downloads it (progress bar on a terminal), decompresses it, checks its SHA-1, and only then writes FILE (or stdout); a summary line on stderr |
//! | `wxpay profiles` | lists the config file's profiles and the settings each sets, the APIv3 key hidden |
//! | `wxpay sandbox [--addr 127.0.0.1:PORT] [--state DIR]` | runs the local WeChat Pay simulator until Ctrl-C, its keys and a `sandbox.env` in `DIR` |
//! | `wxpay bench [--requests N] [--concurrency C] [--json] METHOD TARGET…` | a load generator: N signed and verified requests, C in flight; requests/s, latency p50/p90/p99, CPU per request, peak RSS, errors by kind (an embedded sandbox when no base URL is set) |
//! | `wxpay endpoints [--json] [FILTER]` | lists the built-in endpoints (method, template, Rust path), only the rows containing FILTER; no network |
//! | `wxpay v2 METHOD PATH [--data JSON\|@file] [--sign-type MD5\|HMAC-SHA256] [--client-cert FILE [--client-key FILE]]` | signs and sends an APIv2 request (fields from the JSON object; merchant id, `nonce_str`, `sign_type` and `sign` added), checks the answer's `return_code`, signature and `result_code`, prints its fields as one JSON object; a catalogue operation's own sign type, certificate and host rules apply |
//! | `wxpay doctor [--json]` | checks the configuration against the server, one line per check (`ok`, `warn`, `FAIL`, `skip`) with the fix for each failure: the keys load, secret files are readable by their owner only, WeChat Pay accepts the signature, answers and callbacks name a key the configuration has (public-key vs certificate mode), the APIv3 key decrypts a certificate download, the clock is within 300 s of the server's; exit 1 when a check fails |
//!
//! # Settings
//!
//! Each setting is a flag, an environment variable, or a key of the
//! selected profile of the config file: the flag wins over the variable,
//! the variable over the profile.
//!
//! | flag | variable | profile key | what |
//! |---|---|---|---|
//! | `--base-url` | `WXPAY_BASE_URL` | `base_url` | scheme, host and port; default `https://api.mch.weixin.qq.com` |
//! | `--timeout` | | `timeout` | seconds to wait for an answer (and for each piece of a download); default 30 |
//! | `--mchid` | `WXPAY_MCHID` | `mchid` | the merchant id |
//! | `--serial` | `WXPAY_SERIAL` | `serial` | the merchant API certificate's serial |
//! | `--private-key-file` | `WXPAY_PRIVATE_KEY_FILE` | `private_key_file` | the merchant private key (`apiclient_key.pem`) |
//! | `--public-key-id` | `WXPAY_PUBLIC_KEY_ID` | `public_key_id` | the WeChat Pay public key's id (`PUB_KEY_ID_…`) |
//! | `--public-key-file` | `WXPAY_PUBLIC_KEY_FILE` | `public_key_file` | the WeChat Pay public key (`pub_key.pem`) |
//! | `--platform-cert-file` | `WXPAY_PLATFORM_CERT_FILE` | `platform_cert_file` | a platform certificate (certificate mode) |
//! | `--apiv3-key` | `WXPAY_APIV3_KEY` | `apiv3_key` | the APIv3 key: callbacks, certificate downloads |
//! | `--apiv3-key-file` | `WXPAY_APIV3_KEY_FILE` | `apiv3_key_file` | a file holding the APIv3 key (one of the two per level) |
//! | `--v2-key` | `WXPAY_V2_KEY` | | the APIv2 key (`wxpay v2`) |
//! | `--v2-key-file` | `WXPAY_V2_KEY_FILE` | `v2_key_file` | a file holding the APIv2 key |
//! | `--client-cert` | `WXPAY_V2_CLIENT_CERT_FILE` | `v2_client_cert_file` | the API client certificate for `wxpay v2`'s secapi and fund operations: `apiclient_cert.p12` (password: `--client-cert-password`, `WXPAY_V2_CLIENT_CERT_PASSWORD`, default the mchid) or PEM |
//! | `--client-key` | `WXPAY_V2_CLIENT_KEY_FILE` | `v2_client_key_file` | its private key when the certificate is PEM |
//!
//! A command missing a setting it needs names every missing flag and
//! variable at once. The APIv3 key and the private keys are never printed:
//! `--help` hides the variable's value, `wxpay profiles` shows the key as
//! `<hidden>`, `Debug` of the settings redacts it, and messages name
//! files, never their contents.
//!
//! # Profiles
//!
//! A TOML config file holds named profiles, one per merchant (or sandbox):
//!
//! ```toml
//! default_profile = "shop"          # optional
//!
//! [profiles.shop]
//! mchid = "1900009191"
//! serial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
//! private_key_file = "shop/apiclient_key.pem"   # relative to this file's folder; ~/… works too
//! public_key_id = "PUB_KEY_ID_0114232134912410000000000000"
//! public_key_file = "shop/pub_key.pem"
//! apiv3_key_file = "shop/apiv3.key"
//!
//! [profiles.sandbox]
//! base_url = "http://127.0.0.1:8080"
//! # …
//! ```
//!
//! The file is `--config FILE`, else `WXPAY_CONFIG`, else
//! `$XDG_CONFIG_HOME/wxpay/config.toml`, else `~/.config/wxpay/config.toml`.
//! The profile is `--profile NAME`, else `WXPAY_PROFILE`, else the file's
//! `default_profile`, else none. Both flags may come before or after the
//! subcommand. A file named by flag or variable must exist; the default
//! one may be missing. An unknown profile is refused listing the known
//! ones, an unknown key naming the key, the profile and the file. A
//! profile's settings only fill what flags and variables left unset.
//!
//! # Exit status
//!
//! | status | meaning |
//! |---|---|
//! | 0 | done |
//! | 1 | the request or the answer did not make it (network, timeout), or another run-time failure (writing a file, the sandbox) |
//! | 2 | wrong usage: a missing or unusable setting, an unreadable input file, bad JSON |
//! | 3 | the server answered with an error status (`code`, `message`, `detail` are shown) |
//! | 4 | an answer or a callback was rejected: its signature, timestamp or encryption did not check out; or a bill did not match its announced SHA-1 (nothing is written) |
//!
//! # Dependencies, and why each is here
//!
//! - `wxpay`: signing, verification, callbacks and certificates: the SDK
//!   this tool exposes.
//! - `wxpay-sandbox`: the embedded simulator behind `wxpay sandbox`.
//! - `clap` (`derive`, `env`): the command line, with every setting also
//!   read from its `WXPAY_…` variable.
//! - `tokio` (`signal` on top of the workspace's features): the runtime the
//!   client and the sandbox run on, and Ctrl-C / SIGTERM for the sandbox.
//! - `serde_json`: pretty-printing answers and resources, checking
//!   `--data` before it is signed.
//! - `bytes`: the body type of `Client::prepare_raw` (already in the tree
//!   through wxpay).
//! - `indicatif`: the download progress bar of `wxpay bill` (drawn only
//!   when stderr is a terminal): byte counts against `Content-Length`, a
//!   spinner when the length is unknown, rate-limited redraws.
//! - `toml`: reading the profiles' config file (already in the lock file
//!   through the workspace's dev-dependencies).
//! - `zeroize`: the APIv3 key, the config file's text and decrypted
//!   callback resources are held in `Zeroizing` buffers, wiped on drop.
//! - `reqwest`: `wxpay doctor` sends its signed probes itself, to see
//!   every header of an answer (`Wechatpay-Serial`, `Date`) whether or
//!   not it verifies (already in the tree through wxpay).
//! - `httpdate`: reads the server's `Date` header for the clock check
//!   (already in the tree through wxpay).
//! - `libc` (Unix): `O_NOFOLLOW`, so that files the command writes are
//!   never written through a symbolic link planted at their path.
//! - `tempfile`: the private temporary folder `wxpay bill --out -`
//!   downloads and checks the bill in before any byte goes to stdout (also
//!   the tests' temporary folders).
//! - `etcetera`: the config file's default place, by the XDG rule on every
//!   platform (`$XDG_CONFIG_HOME/wxpay`, else `~/.config/wxpay`), which is
//!   what `--help` and the README promise; `directories` would pick
//!   `~/Library/Application Support` on macOS and brings an MPL-2.0
//!   dependency `deny.toml` does not allow.
//! - `serde`: the config file's profiles, derived with
//!   `deny_unknown_fields` rather than walked by hand.
//!
//! Tests only: `sha1`, to check a downloaded bill against its announced
//! hash independently of the code under test.
//!
//! Errors are a small enum of our own ([`error::Failure`]) rather than
//! `anyhow`: each failure maps to an exit status and an API error is
//! printed over several lines (status, code, message, detail,
//! `Request-ID`), which a type-erased error would only give back through
//! downcasting; it also keeps one dependency out.

mod bench;
mod bill;
mod certificates;
mod config;
mod doctor;
mod endpoints;
mod error;
mod files;
mod notify;
mod output;
mod pay_params;
mod request;
mod sandbox;
mod settings;
mod sign;
mod v2;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::Failure;

/// `wxpay`: WeChat Pay APIv3 from the shell.
#[derive(Parser)]
#[command(name = "wxpay", version, about, long_about = None)]
#[command(after_help = "Every setting is a flag or its WXPAY_… variable; \
    `wxpay sandbox --state DIR` writes a DIR/sandbox.env to load with `set -a; . DIR/sandbox.env; set +a`.\n\
    Settings missing from flags and variables come from a profile of the config file: --profile NAME, \
    --config FILE (default $XDG_CONFIG_HOME/wxpay/config.toml or ~/.config/wxpay/config.toml); see `wxpay profiles`.\n\
    Exit status: 0 done, 1 network or other failure, 2 usage or settings, 3 error answer, 4 answer, callback or bill rejected.")]
struct Cli {
    #[command(subcommand)]
    command: Command,

    #[command(flatten)]
    profile: config::ProfileArgs,
}

/// The subcommands.
#[derive(Subcommand)]
enum Command {
    /// Sign and send a request, verify the answer, print its body.
    Request(request::RequestArgs),
    /// Print the signing message and the Authorization header of a request
    /// (no network).
    Sign(sign::SignArgs),
    /// Sign the parameters a payer's JSAPI page, mini-program or APP passes to WeChat (no network).
    PayParams(pay_params::PayParamsArgs),
    /// Verify and decrypt a recorded callback, print its resource.
    Notify(notify::NotifyArgs),
    /// Download the platform certificates and write one PEM file each.
    Certificates(certificates::CertificatesArgs),
    /// Download a day's trade or fund flow bill, check its SHA-1, write it.
    Bill(bill::BillArgs),
    /// List the config file's profiles and the settings each sets (secrets hidden).
    Profiles,
    /// Run the local WeChat Pay simulator until Ctrl-C.
    Sandbox(sandbox::SandboxArgs),
    /// Load-test an API: N signed and verified requests, C in flight (embedded sandbox by default).
    Bench(bench::BenchArgs),
    /// List the built-in endpoints: method, template, Rust path.
    Endpoints(endpoints::EndpointsArgs),
    /// Check the configuration against the server: key and serial, public-key vs certificate mode, APIv3 key, clock, file permissions.
    Doctor(doctor::DoctorArgs),
    /// Sign and send an APIv2 request (XML, MD5/HMAC-SHA256), check the answer, print its fields as JSON.
    V2(v2::V2Args),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Request(args) => request::run(args, &cli.profile).await,
        Command::Sign(args) => sign::run(args, &cli.profile),
        Command::PayParams(args) => pay_params::run(args, &cli.profile),
        Command::Notify(args) => notify::run(args, &cli.profile),
        Command::Certificates(args) => certificates::run(args, &cli.profile).await,
        Command::Bill(args) => bill::run(args, &cli.profile).await,
        Command::Profiles => config::run_profiles(&cli.profile),
        Command::Sandbox(args) => sandbox::run(args).await,
        Command::Bench(args) => bench::run(args, &cli.profile).await,
        Command::Endpoints(args) => endpoints::run(args),
        Command::Doctor(args) => doctor::run(args, &cli.profile).await,
        Command::V2(args) => v2::run(args, &cli.profile).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => report(&failure),
    }
}

/// Prints `failure` on stderr and returns its exit status.
fn report(failure: &Failure) -> ExitCode {
    output::error_lines(&failure.render());
    failure.exit_code()
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
