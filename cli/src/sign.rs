//! `wxpay sign`: the signing message and the `Authorization` header of a
//! request, computed locally, to compare with what a server says it
//! checked (a sandbox's `SIGN_ERROR` quotes its signing message).

use std::path::PathBuf;

use clap::Args;
use wxpay::Method;
use wxpay::signing::{RequestSigner, new_nonce, signing_message};

use crate::config::ProfileArgs;
use crate::error::Failure;
use crate::output;
use crate::settings::{self, MerchantArgs, Missing};

/// Arguments of `wxpay sign`.
#[derive(Args)]
#[command(
    after_help = "Prints the five lines of the signing message, each line end shown as a literal \\n, \
    then a blank line and the Authorization header. Without --timestamp and --nonce, the current time \
    and a fresh nonce are used. No request is sent."
)]
pub struct SignArgs {
    /// The HTTP method (any case)
    #[arg(long, value_parser = settings::parse_method)]
    method: Method,

    /// The path and query exactly as sent (e.g. /v3/marketing/favor/stocks/98065001/start)
    #[arg(long)]
    target: String,

    /// The body, byte for byte (empty for GET and most DELETE requests)
    #[arg(long, conflicts_with = "body_file")]
    body: Option<String>,

    /// The body from a file, byte for byte (a trailing newline is part of it)
    #[arg(long, value_name = "FILE")]
    body_file: Option<PathBuf>,

    /// The signature timestamp, Unix seconds (with --nonce)
    #[arg(long, requires = "nonce", allow_negative_numbers = true)]
    timestamp: Option<i64>,

    /// The signature nonce, letters and digits (with --timestamp)
    #[arg(long, requires = "timestamp")]
    nonce: Option<String>,

    /// Print only the signing message, its exact bytes (for `| xxd` or diff)
    #[arg(long)]
    raw: bool,

    #[command(flatten)]
    merchant: MerchantArgs,
}

/// The message with each line end shown as a literal `\n` before the real
/// one (and a carriage return as `\r`), so that the lines can be read and
/// their ends seen.
fn visible(message: &[u8]) -> String {
    let text = String::from_utf8_lossy(message);
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// Runs `wxpay sign`.
pub fn run(mut args: SignArgs, profile: &ProfileArgs) -> Result<(), Failure> {
    settings::check_target("--target", &args.target)?;
    args.merchant.fill(profile.selected()?.as_ref());
    let mut missing = Missing::default();
    let merchant = args.merchant.require(&mut missing);
    missing.into_result()?;
    let Some(merchant) = merchant else {
        return Err(Failure::usage("missing settings"));
    };
    if merchant.mchid.is_empty() || !merchant.mchid.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Failure::usage(format!(
            "the merchant id `{}` (--mchid, WXPAY_MCHID) must be digits",
            merchant.mchid
        )));
    }
    if merchant.serial.is_empty() || !merchant.serial.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Failure::usage(format!(
            "the merchant certificate serial `{}` (--serial, WXPAY_SERIAL) must be hexadecimal",
            merchant.serial
        )));
    }
    let body = match (&args.body, &args.body_file) {
        (Some(body), _) => body.as_bytes().to_vec(),
        (None, Some(path)) => {
            std::fs::read(path).map_err(|error| Failure::read("--body-file", path, &error))?
        }
        (None, None) => Vec::new(),
    };
    let (timestamp, nonce) = match (args.timestamp, &args.nonce) {
        (Some(timestamp), Some(nonce)) => (timestamp, nonce.clone()),
        _ => (settings::unix_now(), new_nonce()),
    };
    if nonce.is_empty() || !nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Failure::usage(
            "--nonce must be ASCII letters and digits (WeChat Pay uses 32 of them)",
        ));
    }
    let key = settings::merchant_key(merchant.private_key_file)?;
    let message = signing_message(args.method, &args.target, timestamp, &nonce, &body);
    if args.raw {
        return output::stdout(&message);
    }
    let signer = RequestSigner::new(merchant.mchid, merchant.serial, key);
    let authorization = signer
        .authorization(args.method, &args.target, &body, timestamp, &nonce)
        .map_err(|error| Failure::Other(format!("the merchant key could not sign: {error}")))?;
    output::stdout(visible(&message).as_bytes())?;
    output::line("")?;
    output::line(&format!("Authorization: {authorization}"))
}

#[cfg(test)]
mod tests {
    use super::visible;

    #[test]
    fn line_ends_are_shown() {
        assert_eq!(
            visible(b"GET\n/v3/x\n1\nN\n\n"),
            "GET\\n\n/v3/x\\n\n1\\n\nN\\n\n\\n\n"
        );
        assert_eq!(visible(b"a\r\n"), "a\\r\\n\n");
    }
}
