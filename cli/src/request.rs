//! `wxpay request METHOD TARGET`: sign, send, verify, print.

use std::io::Read as _;
use std::path::Path;

use bytes::Bytes;
use clap::Args;
use wxpay::{
    CallOptions, Client, Error, Idempotency, Method, PreparedRequest, RetryPolicy, Target,
};

use crate::config::ProfileArgs;
use crate::error::Failure;
use crate::output;
use crate::settings::{self, ApiV3Args, MerchantArgs, ServerArgs, Verification, WechatpayKeyArgs};

/// Arguments of `wxpay request`.
#[derive(Args)]
#[command(
    after_help = "The answer's body goes to stdout as pretty JSON, its Request-ID to stderr. \
    An answer without a valid WeChat Pay signature is rejected (exit 4) and its body not printed; \
    an error answer shows its status, code, message and detail (exit 3)."
)]
pub struct RequestArgs {
    /// GET, POST, PUT, PATCH or DELETE (any case)
    #[arg(value_parser = settings::parse_method)]
    method: Method,

    /// The path, and the query if any, exactly as it is to be signed and sent (e.g. /v3/certificates)
    target: String,

    /// The JSON body, given inline, as @FILE, or as @- for stdin; sent byte for byte
    #[arg(long, short = 'd', value_name = "JSON|@FILE")]
    data: Option<String>,

    /// A query parameter to append, percent-encoded (RFC 3986); repeatable, kept in order
    #[arg(long, short = 'q', value_name = "KEY=VALUE", value_parser = parse_pair)]
    query: Vec<(String, String)>,

    #[command(flatten)]
    retry: RetryArgs,

    #[command(flatten)]
    server: ServerArgs,

    #[command(flatten)]
    merchant: MerchantArgs,

    #[command(flatten)]
    keys: WechatpayKeyArgs,

    #[command(flatten)]
    apiv3: ApiV3Args,
}

/// `--retries N` and `--idempotency-key MEMBER`: opting one command in to
/// the retry rule typed calls follow (`wxpay::retry`). An untyped request
/// has no declared key, so by default it is sent once; with `--retries`, a
/// GET, PUT or DELETE is sent again after a timeout, a broken connection,
/// 429 or a 5xx, and any other request only when it provably never left,
/// unless `--idempotency-key` names the body member that WeChat Pay
/// recognises a repeat by.
#[derive(Args, Clone, Debug, Default)]
pub struct RetryArgs {
    /// Retry up to N times under wxpay's rule: a GET, PUT or DELETE after a timeout, a broken connection, 429 or 5xx; any other request only when it never left (connection refused, DNS, TLS), unless --idempotency-key says it carries its number
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=10))]
    retries: u32,

    /// The body member WeChat Pay recognises a repeated request by (e.g. out_trade_no): with it, a POST or PATCH is retried like a GET; it must be in the --data object
    #[arg(long, value_name = "MEMBER", requires = "retries")]
    idempotency_key: Option<String>,
}

impl RetryArgs {
    /// The call's options, or `None` when the request is sent once.
    ///
    /// # Errors
    /// A usage error when `--idempotency-key` is given without retries,
    /// for a method without a body, or names a member the body lacks.
    pub(crate) fn options(
        &self,
        method: Method,
        body: Option<&Bytes>,
    ) -> Result<Option<CallOptions>, Failure> {
        if self.retries == 0 {
            if self.idempotency_key.is_some() {
                return Err(Failure::usage(
                    "--idempotency-key only changes how retries are made: add --retries N",
                ));
            }
            return Ok(None);
        }
        let policy = RetryPolicy::default().with_max_attempts(self.retries + 1);
        let mut options = CallOptions::new().retry(policy);
        if let Some(key) = &self.idempotency_key {
            if !method.has_body() {
                return Err(Failure::usage(format!(
                    "--idempotency-key names a body member, and {method} requests carry no body: \
                     they are retried without one"
                )));
            }
            let present = body
                .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(bytes).ok())
                .and_then(|value| value.get(key.as_str()).cloned())
                .is_some_and(|value| match value {
                    serde_json::Value::String(text) => !text.is_empty(),
                    serde_json::Value::Number(_) => true,
                    _ => false,
                });
            if !present {
                return Err(Failure::usage(format!(
                    "--idempotency-key {key}: the --data object has no non-empty `{key}`; WeChat \
                     Pay recognises a repeat only by a number the request carries, so put it in \
                     the body or drop the flag"
                )));
            }
            // One name per process: `Idempotency::Keyed` holds a `'static`
            // name, and a command makes one such call configuration.
            let key: &'static str = Box::leak(key.clone().into_boxed_str());
            options = options.idempotency(Idempotency::Keyed(key));
        }
        Ok(Some(options))
    }
}

/// Sends `request` once, or under `options` when retries were asked for.
pub(crate) async fn send(
    client: &Client,
    request: &PreparedRequest,
    options: Option<&CallOptions>,
) -> Result<wxpay::client::raw::RawAnswer, Error> {
    match options {
        None => client.send_raw(request).await,
        Some(options) => client.send_raw_with(request.clone(), options).await,
    }
}

/// Parses `key=value` (the value may be empty and may hold `=`).
fn parse_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some(("", _)) => Err(format!("`{text}` has an empty key")),
        Some((key, value)) => Ok((key.to_owned(), value.to_owned())),
        None => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

/// `target` with `pairs` appended, each key and value percent-encoded as
/// wxpay's [`Target`] encodes query values.
fn target_with_query(target: &str, pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return target.to_owned();
    }
    let mut query = Target::new();
    for (key, value) in pairs {
        query.push_query_pair(key, value);
    }
    let rendered = query.into_string();
    let pairs = rendered.strip_prefix('?').unwrap_or(&rendered);
    let separator = match target.find('?') {
        None => "?",
        Some(_) if target.ends_with('?') || target.ends_with('&') => "",
        Some(_) => "&",
    };
    format!("{target}{separator}{pairs}")
}

/// The body bytes of `--data`: inline text, `@FILE` or `@-` (stdin),
/// checked to be JSON and otherwise sent unchanged.
pub(crate) fn read_data(data: &str) -> Result<Bytes, Failure> {
    let bytes = match data.strip_prefix('@') {
        Some("-") => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|error| Failure::read("--data", Path::new("<stdin>"), &error))?;
            bytes
        }
        Some(path) => {
            let path = Path::new(path);
            std::fs::read(path).map_err(|error| Failure::read("--data", path, &error))?
        }
        None => data.as_bytes().to_vec(),
    };
    if let Err(error) = serde_json::from_slice::<serde_json::Value>(&bytes) {
        return Err(Failure::usage(format!(
            "--data is not JSON: {error}; the body is signed and sent as given, so it must be a JSON document"
        )));
    }
    Ok(Bytes::from(bytes))
}

/// Runs `wxpay request`.
pub async fn run(mut args: RequestArgs, profile: &ProfileArgs) -> Result<(), Failure> {
    settings::check_target("TARGET", &args.target)?;
    let body = match &args.data {
        Some(_) if !args.method.has_body() => {
            return Err(Failure::usage(format!(
                "{} requests carry no body: drop --data, or pass parameters with --query",
                args.method
            )));
        }
        Some(data) => Some(read_data(data)?),
        None => None,
    };
    let options = args.retry.options(args.method, body.as_ref())?;
    let target = target_with_query(&args.target, &args.query);
    let profile = profile.selected()?;
    args.server.fill(profile.as_ref());
    args.merchant.fill(profile.as_ref());
    args.keys.fill(profile.as_ref());
    args.apiv3.resolve(profile.as_ref())?;
    let client = settings::client(
        &args.server,
        &args.merchant,
        Verification::Configured(&args.keys, &args.apiv3),
    )?;
    let request = client.prepare_raw(args.method, &target, body)?;
    let answer = send(&client, &request, options.as_ref()).await?;
    if let Some(id) = answer.request_id() {
        output::note(&format!("Request-ID: {id}"));
    }
    if answer.body.is_empty() {
        output::note(&format!("HTTP {} (no body)", answer.status));
        return Ok(());
    }
    match output::pretty_json(&answer.body) {
        Some(pretty) => output::line(&pretty),
        // Verified, but not JSON: shown as it came.
        None => output::stdout(&answer.body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn query_pairs_are_encoded_and_appended() {
        let q = pairs(&[("stock_creator_mchid", "1900009191"), ("note", "a b/c|d~")]);
        assert_eq!(
            target_with_query("/v3/x", &q),
            "/v3/x?stock_creator_mchid=1900009191&note=a%20b%2Fc%7Cd~"
        );
        assert_eq!(
            target_with_query("/v3/x?offset=0", &q[..1]),
            "/v3/x?offset=0&stock_creator_mchid=1900009191"
        );
        assert_eq!(
            target_with_query("/v3/x?", &q[..1]),
            "/v3/x?stock_creator_mchid=1900009191"
        );
        assert_eq!(
            target_with_query("/v3/x?a=1&", &q[..1]),
            "/v3/x?a=1&stock_creator_mchid=1900009191"
        );
        assert_eq!(target_with_query("/v3/x?a=1", &[]), "/v3/x?a=1");
    }

    #[test]
    fn pairs_need_a_key_and_an_equals_sign() {
        assert_eq!(parse_pair("a=b=c"), Ok(("a".to_owned(), "b=c".to_owned())));
        assert_eq!(parse_pair("a="), Ok(("a".to_owned(), String::new())));
        assert!(parse_pair("=b").is_err());
        assert!(parse_pair("ab").is_err());
    }
}
