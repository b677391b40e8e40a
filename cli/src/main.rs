//! `wxpay`: WeChat Pay APIv3 from the shell, built on the
//! [wxpay](https://docs.rs/wxpay) SDK.
//!
//! | command | what it does |
//! |---|---|
//! | `wxpay request METHOD TARGET [--data JSON\|@file] [--query k=v …]` | signs and sends any request, verifies the answer's signature, prints the body as pretty JSON (stdout) and its `Request-ID` (stderr) |
//! | `wxpay sign --method M --target T [--body B \| --body-file F] [--timestamp TS --nonce N]` | prints the signing message (each line end shown as `\n`) and the `Authorization` header; no network |
//! | `wxpay notify --headers FILE --body FILE` | verifies and decrypts a recorded callback, prints its resource |
//! | `wxpay certificates --out DIR` | downloads the platform certificates (certificate mode), writes `DIR/<serial>.pem` |
//! | `wxpay sandbox [--addr 127.0.0.1:PORT] [--state DIR]` | runs the local WeChat Pay simulator until Ctrl-C, its keys and a `sandbox.env` in `DIR` |
//!
//! # Settings
//!
//! Each setting is a flag or an environment variable (the flag wins):
//!
//! | flag | variable | what |
//! |---|---|---|
//! | `--base-url` | `WXPAY_BASE_URL` | scheme, host and port; default `https://api.mch.weixin.qq.com` |
//! | `--mchid` | `WXPAY_MCHID` | the merchant id |
//! | `--serial` | `WXPAY_SERIAL` | the merchant API certificate's serial |
//! | `--private-key-file` | `WXPAY_PRIVATE_KEY_FILE` | the merchant private key (`apiclient_key.pem`) |
//! | `--public-key-id` | `WXPAY_PUBLIC_KEY_ID` | the WeChat Pay public key's id (`PUB_KEY_ID_…`) |
//! | `--public-key-file` | `WXPAY_PUBLIC_KEY_FILE` | the WeChat Pay public key (`pub_key.pem`) |
//! | `--platform-cert-file` | `WXPAY_PLATFORM_CERT_FILE` | a platform certificate (certificate mode) |
//! | `--apiv3-key` | `WXPAY_APIV3_KEY` | the APIv3 key: callbacks, certificate downloads |
//!
//! A command missing a setting it needs names every missing flag and
//! variable at once. The APIv3 key and the private keys are never printed:
//! `--help` hides the variable's value, and messages name files, never
//! their contents.
//!
//! # Exit status
//!
//! | status | meaning |
//! |---|---|
//! | 0 | done |
//! | 1 | the request or the answer did not make it (network, timeout), or another run-time failure (writing a file, the sandbox) |
//! | 2 | wrong usage: a missing or unusable setting, an unreadable input file, bad JSON |
//! | 3 | the server answered with an error status (`code`, `message`, `detail` are shown) |
//! | 4 | an answer or a callback was rejected: its signature, timestamp or encryption did not check out |
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
//!
//! Errors are a small enum of our own ([`error::Failure`]) rather than
//! `anyhow`: each failure maps to an exit status and an API error is
//! printed over several lines (status, code, message, detail,
//! `Request-ID`), which a type-erased error would only give back through
//! downcasting; it also keeps one dependency out.
//!
//! There is no progress bar (so no `indicatif`): every command is one
//! request or a long-running server.

mod bill;
mod certificates;
mod config;
mod error;
mod notify;
mod output;
mod request;
mod sandbox;
mod settings;
mod sign;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::Failure;

/// `wxpay`: WeChat Pay APIv3 from the shell.
#[derive(Parser)]
#[command(name = "wxpay", version, about, long_about = None)]
#[command(after_help = "Every setting is a flag or its WXPAY_… variable; \
    `wxpay sandbox --state DIR` writes a DIR/sandbox.env to load with `set -a; . DIR/sandbox.env; set +a`.\n\
    Exit status: 0 done, 1 network or other failure, 2 usage or settings, 3 error answer, 4 answer or callback rejected.")]
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
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Request(args) => request::run(args, &cli.profile).await,
        Command::Sign(args) => sign::run(args, &cli.profile),
        Command::Notify(args) => notify::run(args, &cli.profile),
        Command::Certificates(args) => certificates::run(args, &cli.profile).await,
        Command::Bill(args) => bill::run(args, &cli.profile).await,
        Command::Profiles => config::run_profiles(&cli.profile),
        Command::Sandbox(args) => sandbox::run(args).await,
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
