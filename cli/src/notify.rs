//! `wxpay notify`: verify and decrypt a recorded callback.

use std::path::{Path, PathBuf};

use clap::Args;
use wxpay::http::{HeaderMap, HeaderName, HeaderValue};
use wxpay::notification::NotificationDecoder;
use wxpay::{
    ApiV3Key, NotificationError, PlatformCertificate, Verifier, VerifyError, VerifyingKey,
};

use crate::config::ProfileArgs;
use crate::error::Failure;
use crate::output;
use crate::settings::{self, ApiV3Args, Missing, WechatpayKeyArgs};

/// Arguments of `wxpay notify`.
#[derive(Args)]
#[command(
    after_help = "The headers file holds `Name: value` lines (blank lines and lines starting \
    with # are skipped); the body file the exact bytes received: an editor's added final newline \
    breaks the signature. The decrypted resource goes to stdout as pretty JSON, the envelope's \
    id, event type and time to stderr. A callback that does not verify or decrypt exits 4."
)]
pub struct NotifyArgs {
    /// The callback's headers: `Name: value` lines (Wechatpay-Timestamp, -Nonce, -Signature, -Serial, …)
    #[arg(long, value_name = "FILE")]
    headers: PathBuf,

    /// The callback's body, exactly as received
    #[arg(long, value_name = "FILE")]
    body: PathBuf,

    /// Check the signature timestamp against this Unix time instead of now (to replay an older callback)
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<i64>,

    #[command(flatten)]
    keys: WechatpayKeyArgs,

    #[command(flatten)]
    apiv3: ApiV3Args,
}

/// Reads `Name: value` lines into a header map; blank lines and `#`
/// comments are skipped, a line that is neither is an error naming it.
fn parse_headers(text: &str, path: &Path) -> Result<HeaderMap, Failure> {
    let mut headers = HeaderMap::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: &str| {
            Failure::usage(format!(
                "--headers `{}` line {}: {why}; expected `Name: value`",
                path.display(),
                index + 1
            ))
        };
        let (name, value) = line.split_once(':').ok_or_else(|| bad("no `:`"))?;
        let name = HeaderName::try_from(name.trim()).map_err(|_| bad("not a header name"))?;
        let value = HeaderValue::try_from(value.trim()).map_err(|_| bad("not a header value"))?;
        headers.append(name, value);
    }
    Ok(headers)
}

/// The verifier with the configured public key and certificate; what is
/// missing goes to `missing`.
fn verifier(keys: &WechatpayKeyArgs, missing: &mut Missing) -> Result<Verifier, Failure> {
    let mut verifier = Verifier::new();
    match (&keys.public_key_id, &keys.public_key_file) {
        (Some(id), Some(path)) => {
            let key = VerifyingKey::from_public_key_pem_file(path).map_err(|error| {
                Failure::usage(format!(
                    "the WeChat Pay public key `{}` (--public-key-file, WXPAY_PUBLIC_KEY_FILE): {error}",
                    path.display()
                ))
            })?;
            verifier.add_public_key(id, key);
        }
        (Some(_), None) => missing.push(
            "the WeChat Pay public key file (the id is set): set --public-key-file or WXPAY_PUBLIC_KEY_FILE",
        ),
        (None, Some(_)) => missing.push(
            "the WeChat Pay public key id (the file is set): set --public-key-id or WXPAY_PUBLIC_KEY_ID",
        ),
        (None, None) => {}
    }
    if let Some(path) = &keys.platform_cert_file {
        let what = "--platform-cert-file, WXPAY_PLATFORM_CERT_FILE";
        let pem =
            std::fs::read_to_string(path).map_err(|error| Failure::read(what, path, &error))?;
        let certificate = PlatformCertificate::from_pem(&pem).map_err(|error| {
            Failure::usage(format!(
                "the platform certificate `{}` ({what}): {error}",
                path.display()
            ))
        })?;
        verifier.add_certificate(&certificate);
    }
    if !keys.any() {
        missing.push(
            "a key to verify the callback's signature: set --public-key-id and --public-key-file \
             (WXPAY_PUBLIC_KEY_ID, WXPAY_PUBLIC_KEY_FILE), or --platform-cert-file (WXPAY_PLATFORM_CERT_FILE)",
        );
    }
    Ok(verifier)
}

/// Why the callback was rejected, with a hint where one helps.
fn rejected(error: &NotificationError, body: &[u8]) -> Failure {
    let mut message = format!("the callback was rejected: {}", wxpay::Report::new(error));
    match error {
        NotificationError::Signature(VerifyError::Mismatch { .. }) if body.ends_with(b"\n") => {
            message.push_str(
                "\n  hint: the body file ends with a newline; if the callback did not, remove it (the signature covers every byte)",
            );
        }
        NotificationError::Signature(VerifyError::Stale { .. }) => {
            message.push_str(
                "\n  hint: to replay a recorded callback, pass --now with a time near its Wechatpay-Timestamp",
            );
        }
        _ => {}
    }
    Failure::Rejected(message)
}

/// The exact decrypted bytes of the (already verified) envelope's resource,
/// so that the printed JSON keeps the order WeChat Pay wrote it in (in a
/// buffer wiped on drop: it may hold payers' details).
fn plaintext(key: &ApiV3Key, body: &[u8]) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    let envelope: serde_json::Value = serde_json::from_slice(body).ok()?;
    let resource = envelope.get("resource")?;
    let field = |name: &str| resource.get(name).and_then(serde_json::Value::as_str);
    let clear = key
        .decrypt(
            field("nonce")?,
            field("associated_data").unwrap_or_default(),
            field("ciphertext")?,
        )
        .ok()?;
    Some(clear)
}

/// Runs `wxpay notify`.
pub fn run(mut args: NotifyArgs, profile: &ProfileArgs) -> Result<(), Failure> {
    let profile = profile.selected()?;
    args.keys.fill(profile.as_ref());
    args.apiv3.resolve(profile.as_ref())?;
    let mut missing = Missing::default();
    let apiv3 = missing.check(
        &args.apiv3.apiv3_key,
        "the APIv3 key (the resource is encrypted under it)",
        "--apiv3-key",
        "WXPAY_APIV3_KEY",
    );
    let verifier = verifier(&args.keys, &mut missing)?;
    missing.into_result()?;
    let key =
        ApiV3Key::new(apiv3.map(|key| key.as_str()).unwrap_or_default()).map_err(|error| {
            Failure::usage(format!(
                "the APIv3 key (--apiv3-key, WXPAY_APIV3_KEY): {error}"
            ))
        })?;
    let text = std::fs::read_to_string(&args.headers)
        .map_err(|error| Failure::read("--headers", &args.headers, &error))?;
    let headers = parse_headers(&text, &args.headers)?;
    let body =
        std::fs::read(&args.body).map_err(|error| Failure::read("--body", &args.body, &error))?;

    let decoder = NotificationDecoder::new(verifier, key.clone());
    let now = args.now.unwrap_or_else(settings::unix_now);
    let notification = decoder
        .decode_at::<serde_json::Value>(&headers, &body, now)
        .map_err(|error| rejected(&error, &body))?;

    let mut about = format!(
        "{} {} created {}",
        notification.event_type, notification.id, notification.create_time
    );
    if !notification.summary.is_empty() {
        about.push_str(&format!(" ({})", notification.summary));
    }
    output::note(&about);
    if let Some(id) = &notification.request_id {
        output::note(&format!("Request-ID: {id}"));
    }
    let pretty = plaintext(&key, &body)
        .and_then(|clear| output::pretty_json(&clear))
        .unwrap_or_else(|| {
            serde_json::to_string_pretty(&notification.resource).unwrap_or_default()
        });
    output::line(&pretty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_files_skip_comments_and_blank_lines() {
        let text = "# recorded\r\n\r\nWechatpay-Serial: PUB_KEY_ID_1\r\nwechatpay-nonce:  n o \n";
        let headers = parse_headers(text, Path::new("h")).expect("parsed");
        assert_eq!(headers.len(), 2);
        assert_eq!(headers["wechatpay-serial"], "PUB_KEY_ID_1");
        assert_eq!(headers["Wechatpay-Nonce"], "n o");
        let Err(Failure::Usage(message)) = parse_headers("# c\nno colon here\n", Path::new("h"))
        else {
            panic!("a usage failure");
        };
        assert!(message.contains("line 2"), "{message}");
    }
}
