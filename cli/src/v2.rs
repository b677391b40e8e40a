//! `wxpay v2 METHOD PATH --data JSON`: sign an APIv2 request, send it,
//! check the answer, print it as JSON.
//!
//! The fields come from a JSON object (strings, numbers, booleans; nested
//! objects are sent as JSON text, as APIv2's `detail` and `scene_info`
//! expect). The merchant id, `nonce_str`, `sign_type` and `sign` are added.
//! When PATH is an operation of the catalogue, its own rules apply (which
//! sign types it accepts, whether it needs the client certificate, whether
//! its answer is signed, its host); otherwise the request is signed with
//! `--sign-type` (MD5 without a `sign_type` member by default) and its
//! answer must be signed.

use std::path::{Path, PathBuf};

use clap::Args;
use wxpay::api::{CATALOGUE, EndpointInfo, Protocol};
use wxpay::v2::{ClientIdentity, Fields, RawV2Settings, SignType, Signing, V2Client, V2Error};
use wxpay::{Error, Method};
use zeroize::Zeroizing;

use crate::config::{Profile, ProfileArgs};
use crate::error::Failure;
use crate::output;
use crate::settings::{self, KeyKind, ServerArgs, read_key_file};

/// Arguments of `wxpay v2`.
#[derive(Args)]
#[command(
    after_help = "The answer's fields go to stdout as one JSON object (values as WeChat Pay sent them, \
    text). An answer whose signature does not check out is rejected (exit 4); WeChat Pay's refusal \
    (return_code FAIL) or an operation's failure (result_code FAIL, err_code) exits 3."
)]
pub struct V2Args {
    /// POST (or GET for the signed-link operations), any case
    #[arg(value_parser = settings::parse_method)]
    method: Method,

    /// The APIv2 path, such as /pay/orderquery or /secapi/pay/refund
    path: String,

    /// The fields as a JSON object, inline, as @FILE, or @- for stdin
    #[arg(long, short = 'd', value_name = "JSON|@FILE")]
    data: Option<String>,

    /// The sign type where the operation accepts either (an operation that takes one type uses it); for a path outside the catalogue, HMAC-SHA256 also sends `sign_type`
    #[arg(long, value_name = "MD5|HMAC-SHA256", value_parser = parse_sign_type)]
    sign_type: Option<SignType>,

    /// The merchant id (digits)
    #[arg(long, env = "WXPAY_MCHID", value_name = "DIGITS")]
    mchid: Option<String>,

    /// The APIv2 key (32 characters); prefer WXPAY_V2_KEY or --v2-key-file, which `ps` does not show
    #[arg(long, env = "WXPAY_V2_KEY", value_name = "KEY", hide_env_values = true)]
    v2_key: Option<Zeroizing<String>>,

    /// A file holding the APIv2 key (surrounding whitespace ignored)
    #[arg(long, env = "WXPAY_V2_KEY_FILE", value_name = "FILE")]
    v2_key_file: Option<PathBuf>,

    /// The API client certificate: apiclient_cert.p12, or apiclient_cert.pem with --client-key
    #[arg(long, env = "WXPAY_V2_CLIENT_CERT_FILE", value_name = "FILE")]
    client_cert: Option<PathBuf>,

    /// The client certificate's private key (apiclient_key.pem) when --client-cert is PEM
    #[arg(long, env = "WXPAY_V2_CLIENT_KEY_FILE", value_name = "FILE")]
    client_key: Option<PathBuf>,

    /// The .p12 password [default: the merchant id, as WeChat Pay sets it]
    #[arg(
        long,
        env = "WXPAY_V2_CLIENT_CERT_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    client_cert_password: Option<Zeroizing<String>>,

    /// A CA certificate (PEM) to trust besides the system's, for a test server such as `wxpay sandbox`'s APIv2 TLS port
    #[arg(long, env = "WXPAY_V2_CA_FILE", value_name = "FILE")]
    ca_file: Option<PathBuf>,

    /// Where APIv2 requests go instead of --base-url (scheme, host and port), such as `wxpay sandbox`'s TLS listener
    #[arg(long, env = "WXPAY_V2_BASE_URL", value_name = "URL")]
    v2_base_url: Option<String>,

    /// Send the request again after a timeout or a broken connection, up to N times, where the operation allows it (queries; requests carrying their own number)
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=10))]
    retries: u32,

    #[command(flatten)]
    server: ServerArgs,
}

fn parse_sign_type(text: &str) -> Result<SignType, String> {
    text.to_ascii_uppercase()
        .parse::<SignType>()
        .map_err(|error| error.to_string())
}

/// The catalogue's APIv2 operation at `method` `path`, if there is one.
fn catalogue_entry(method: Method, path: &str) -> Option<&'static EndpointInfo> {
    CATALOGUE.iter().find(|info| {
        info.protocol == Protocol::V2 && info.method == method && info.template == path
    })
}

/// How the request is signed and sent: the catalogue's rules for a known
/// operation, the cautious defaults otherwise.
fn settings_for(
    entry: Option<&EndpointInfo>,
    sign_type: Option<SignType>,
) -> Result<RawV2Settings, Failure> {
    let Some(entry) = entry else {
        let signing = match sign_type {
            None | Some(SignType::Md5) => Signing::Md5Only,
            Some(SignType::HmacSha256) => Signing::HmacSha256Only,
        };
        return Ok(RawV2Settings {
            signing,
            ..RawV2Settings::default()
        });
    };
    let signing = entry.v2_signing.unwrap_or(Signing::Md5Only);
    if let Some(asked) = sign_type
        && signing.choose(asked) != asked
    {
        return Err(Failure::usage(format!(
            "{} {} accepts {} only: drop --sign-type {asked}",
            entry.method,
            entry.template,
            signing.choose(asked)
        )));
    }
    Ok(RawV2Settings {
        signing,
        client_cert: entry.client_cert,
        merchant_field: entry.v2_merchant_field,
        signed_answer: entry.v2_signed_answer,
        host: entry.host,
        idempotency: entry.idempotency,
    })
}

/// The `--data` object as fields: strings as they are, numbers and
/// booleans as text, nested objects and arrays as compact JSON, `null`
/// left out.
fn fields_of(data: Option<&str>) -> Result<Fields, Failure> {
    let Some(data) = data else {
        return Ok(Fields::new());
    };
    let bytes = crate::request::read_data(data)?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|error| Failure::usage(format!("--data is not JSON: {error}")))?;
    let serde_json::Value::Object(object) = value else {
        return Err(Failure::usage(
            "--data must be a JSON object: its members are the request's fields",
        ));
    };
    Fields::from_serialize(&object).map_err(|error| Failure::usage(format!("--data: {error}")))
}

/// The APIv2 key: flag or variable, else its file, else the profile's file.
fn key_text(args: &V2Args, profile: Option<&Profile>) -> Result<Zeroizing<String>, Failure> {
    match (&args.v2_key, &args.v2_key_file) {
        (Some(_), Some(_)) => Err(Failure::usage(
            "both --v2-key (WXPAY_V2_KEY) and --v2-key-file (WXPAY_V2_KEY_FILE) are set; keep one",
        )),
        (Some(key), None) => Ok(key.clone()),
        (None, Some(file)) => read_key_file(
            KeyKind::ApiV2,
            "--v2-key-file (WXPAY_V2_KEY_FILE)",
            file,
            true,
        ),
        (None, None) => {
            match profile.and_then(|profile| Some((profile, profile.v2_key_file.as_ref()?))) {
                Some((profile, file)) => read_key_file(
                    KeyKind::ApiV2,
                    &format!("v2_key_file of profile `{}`", profile.name),
                    file,
                    true,
                ),
                None => Err(Failure::usage(
                    "the APIv2 key is missing: set WXPAY_V2_KEY, --v2-key-file FILE \
                 (WXPAY_V2_KEY_FILE) or the profile key v2_key_file",
                )),
            }
        }
    }
}

/// Whether `path` holds a PKCS#12 file rather than PEM text.
fn is_pkcs12(path: &Path, bytes: &[u8]) -> bool {
    let named = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("p12") || ext.eq_ignore_ascii_case("pfx"));
    named || !bytes.starts_with(b"-----")
}

/// The client certificate of `--client-cert` (and `--client-key`), if any.
fn identity(
    args: &V2Args,
    profile: Option<&Profile>,
    mchid: &str,
) -> Result<Option<ClientIdentity>, Failure> {
    let certificate = args
        .client_cert
        .clone()
        .or_else(|| profile.and_then(|profile| profile.v2_client_cert_file.clone()));
    let Some(certificate) = certificate else {
        return Ok(None);
    };
    let bytes = std::fs::read(&certificate)
        .map_err(|error| Failure::read("--client-cert", &certificate, &error))?;
    let loaded = if is_pkcs12(&certificate, &bytes) {
        let password = args
            .client_cert_password
            .clone()
            .unwrap_or_else(|| Zeroizing::new(mchid.to_owned()));
        ClientIdentity::from_pkcs12(&bytes, &password)
    } else {
        let key = args
            .client_key
            .clone()
            .or_else(|| profile.and_then(|profile| profile.v2_client_key_file.clone()));
        let Some(key) = key else {
            return Err(Failure::usage(format!(
                "--client-cert `{}` is PEM: give its private key with --client-key FILE \
                 (apiclient_key.pem), or pass apiclient_cert.p12 instead",
                certificate.display()
            )));
        };
        let key_pem = crate::files::read_secret("the client certificate's key", &key)
            .map_err(|error| Failure::read("--client-key", &key, &error))?;
        ClientIdentity::from_pem(&bytes, key_pem.as_bytes())
    };
    loaded.map(Some).map_err(|error| {
        Failure::usage(format!(
            "--client-cert `{}`: {error}",
            certificate.display()
        ))
    })
}

/// Runs `wxpay v2`.
pub async fn run(mut args: V2Args, profile: &ProfileArgs) -> Result<(), Failure> {
    if !matches!(args.method, Method::Post | Method::Get) {
        return Err(Failure::usage(format!(
            "APIv2 operations are sent with POST (or GET for signed links), not {}",
            args.method
        )));
    }
    if !args.path.starts_with('/')
        || args.path.contains(['?', '#'])
        || args.path.starts_with("/v3/")
    {
        return Err(Failure::usage(format!(
            "PATH `{}` is not an APIv2 path: write it like /pay/orderquery (APIv3 paths go to `wxpay request`)",
            args.path
        )));
    }
    let fields = fields_of(args.data.as_deref())?;
    let entry = catalogue_entry(args.method, &args.path);
    let settings = settings_for(entry, args.sign_type)?;
    let profile = profile.selected()?;
    args.server.fill(profile.as_ref());
    if args.mchid.is_none() {
        args.mchid = profile.as_ref().and_then(|profile| profile.mchid.clone());
    }
    let Some(mchid) = args.mchid.clone() else {
        return Err(Failure::usage(
            "the merchant id is missing: set --mchid (WXPAY_MCHID) or the profile key mchid",
        ));
    };
    let key = key_text(&args, profile.as_ref())?;
    let identity = identity(&args, profile.as_ref(), &mchid)?;
    if settings.client_cert && identity.is_none() {
        return Err(Failure::usage(format!(
            "{} {} needs the merchant's API client certificate: pass --client-cert apiclient_cert.p12 \
             (WXPAY_V2_CLIENT_CERT_FILE, profile key v2_client_cert_file); its password is the merchant id",
            args.method, args.path
        )));
    }
    let mut builder = V2Client::builder()
        .mchid(&mchid)
        .key(key.as_str())
        .base_url(
            args.v2_base_url
                .as_deref()
                .filter(|url| !url.is_empty())
                .unwrap_or(args.server.base_url()),
        )
        .timeout(args.server.timeout());
    if let Some(sign_type) = args.sign_type {
        builder = builder.sign_type(sign_type);
    }
    if let Some(identity) = identity {
        builder = builder.client_identity(identity);
    }
    if let Some(ca) = &args.ca_file {
        let pem = std::fs::read(ca).map_err(|error| Failure::read("--ca-file", ca, &error))?;
        builder = builder.root_certificate_pem(pem);
    }
    let client = builder.build().map_err(Failure::from)?;
    let request = client
        .prepare_raw(args.method, &args.path, fields, &settings)
        .map_err(Failure::from)?;
    let mut options = wxpay::CallOptions::new();
    if args.retries > 0 {
        options = options
            .retry(wxpay::RetryPolicy::default().with_max_attempts(args.retries + 1))
            .idempotency(settings.idempotency);
    } else {
        options = options.retry(wxpay::RetryPolicy::none());
    }
    let answer = client
        .send_raw(&request, &options)
        .await
        .map_err(|error| v2_failure(error, args.method, &args.path))?;
    let object: serde_json::Map<String, serde_json::Value> = answer
        .iter()
        .map(|(name, value)| (name.to_owned(), serde_json::Value::String(value.to_owned())))
        .collect();
    let text = serde_json::to_string_pretty(&object)
        .map_err(|error| Failure::Other(format!("the answer could not be printed: {error}")))?;
    output::line(&text)
}

/// An APIv2 error as a command failure, named by `method` and `path`:
/// WeChat Pay's refusal or an operation's failure exits 3, an answer that
/// does not check out 4.
fn v2_failure(error: Error, method: Method, path: &str) -> Failure {
    match &error {
        Error::V2 { source, .. } => match source {
            V2Error::Return { .. } | V2Error::Business { .. } | V2Error::Status { .. } => {
                Failure::Answered(format!("{method} {path}: {source}"))
            }
            V2Error::Unsigned | V2Error::BadSignature | V2Error::SignType(_) => Failure::Rejected(
                format!("{method} {path}: {source}; the answer was not printed"),
            ),
            _ => Failure::Other(format!("{method} {path}: {source}")),
        },
        _ => Failure::from(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_the_catalogue_the_sign_type_decides() {
        let settings = settings_for(None, None).unwrap();
        assert_eq!(settings.signing, Signing::Md5Only);
        assert_eq!(settings.merchant_field, Some("mch_id"));
        assert!(settings.signed_answer);
        let settings = settings_for(None, Some(SignType::HmacSha256)).unwrap();
        assert_eq!(settings.signing, Signing::HmacSha256Only);
    }

    #[test]
    fn data_becomes_fields() {
        let fields = fields_of(Some(
            r#"{"out_trade_no":"T1","total_fee":888,"scene_info":{"id":"S"},"note":null}"#,
        ))
        .unwrap();
        assert_eq!(fields.get("out_trade_no"), Some("T1"));
        assert_eq!(fields.get("total_fee"), Some("888"));
        assert_eq!(fields.get("scene_info"), Some(r#"{"id":"S"}"#));
        assert_eq!(fields.get("note"), None);
        assert!(matches!(fields_of(Some("[1]")), Err(Failure::Usage(_))));
    }

    #[test]
    fn sign_types_parse_in_any_case() {
        assert_eq!(parse_sign_type("hmac-sha256"), Ok(SignType::HmacSha256));
        assert_eq!(parse_sign_type("MD5"), Ok(SignType::Md5));
        assert!(parse_sign_type("SHA1").is_err());
    }
}
