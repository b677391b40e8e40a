//! The settings commands share: each a flag or its `WXPAY_…` variable, in
//! groups a command flattens into its arguments, and the checks that name
//! every missing setting at once.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use wxpay::client::PRODUCTION_BASE_URL;
use wxpay::{Client, ClientBuilder, Method};

use crate::error::Failure;

/// Where requests go.
#[derive(Args)]
pub struct ServerArgs {
    /// Where requests go: scheme, host and port only
    #[arg(long, env = "WXPAY_BASE_URL", value_name = "URL", default_value = PRODUCTION_BASE_URL)]
    pub base_url: String,

    /// How long to wait for the answer, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
}

/// Who signs: the merchant's id, certificate serial and private key.
#[derive(Args)]
pub struct MerchantArgs {
    /// The merchant id (digits)
    #[arg(long, env = "WXPAY_MCHID", value_name = "DIGITS")]
    pub mchid: Option<String>,

    /// The merchant API certificate's serial (hex)
    #[arg(long, env = "WXPAY_SERIAL", value_name = "HEX")]
    pub serial: Option<String>,

    /// The merchant private key, PEM (apiclient_key.pem; PKCS#8 or PKCS#1)
    #[arg(long, env = "WXPAY_PRIVATE_KEY_FILE", value_name = "FILE")]
    pub private_key_file: Option<PathBuf>,
}

/// WeChat Pay's keys, to verify its signatures with.
#[derive(Args)]
pub struct WechatpayKeyArgs {
    /// The WeChat Pay public key's id (PUB_KEY_ID_…)
    #[arg(long, env = "WXPAY_PUBLIC_KEY_ID", value_name = "ID")]
    pub public_key_id: Option<String>,

    /// The WeChat Pay public key, PEM (pub_key.pem)
    #[arg(long, env = "WXPAY_PUBLIC_KEY_FILE", value_name = "FILE")]
    pub public_key_file: Option<PathBuf>,

    /// A platform certificate, PEM (certificate mode)
    #[arg(long, env = "WXPAY_PLATFORM_CERT_FILE", value_name = "FILE")]
    pub platform_cert_file: Option<PathBuf>,
}

/// The APIv3 key. Not `Debug`: it is a secret.
#[derive(Args)]
pub struct ApiV3Args {
    /// The APIv3 key (32 characters); prefer the variable, which `ps` does not show
    #[arg(
        long,
        env = "WXPAY_APIV3_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub apiv3_key: Option<String>,
}

/// Collects the settings a command lacks, to name them all at once.
#[derive(Default)]
pub struct Missing(Vec<String>);

impl Missing {
    /// Records `what` (set by `flag` or `variable`) as missing when `value`
    /// is `None`, and returns `value`.
    pub fn check<'a, T>(
        &mut self,
        value: &'a Option<T>,
        what: &str,
        flag: &str,
        variable: &str,
    ) -> Option<&'a T> {
        if value.is_none() {
            self.0.push(format!("{what}: set {flag} or {variable}"));
        }
        value.as_ref()
    }

    /// Records a missing setting described by the caller.
    pub fn push(&mut self, line: impl Into<String>) {
        self.0.push(line.into());
    }

    /// A usage failure listing everything missing, if anything is.
    pub fn into_result(self) -> Result<(), Failure> {
        if self.0.is_empty() {
            return Ok(());
        }
        let mut message = String::from("missing settings:");
        for line in self.0 {
            message.push_str("\n  ");
            message.push_str(&line);
        }
        Err(Failure::Usage(message))
    }
}

/// The merchant's settings, all present.
pub struct Merchant<'a> {
    /// The merchant id.
    pub mchid: &'a str,
    /// The certificate serial.
    pub serial: &'a str,
    /// The private key file.
    pub private_key_file: &'a PathBuf,
}

impl MerchantArgs {
    /// The three settings, or the names of those missing (added to
    /// `missing`).
    pub fn require(&self, missing: &mut Missing) -> Option<Merchant<'_>> {
        let mchid = missing.check(&self.mchid, "the merchant id", "--mchid", "WXPAY_MCHID");
        let serial = missing.check(
            &self.serial,
            "the merchant certificate serial",
            "--serial",
            "WXPAY_SERIAL",
        );
        let private_key_file = missing.check(
            &self.private_key_file,
            "the merchant private key file",
            "--private-key-file",
            "WXPAY_PRIVATE_KEY_FILE",
        );
        Some(Merchant {
            mchid: mchid?,
            serial: serial?,
            private_key_file: private_key_file?,
        })
    }
}

impl WechatpayKeyArgs {
    /// Whether any key is set.
    pub fn any(&self) -> bool {
        self.public_key_id.is_some()
            || self.public_key_file.is_some()
            || self.platform_cert_file.is_some()
    }

    /// Adds the configured keys to `builder`; a public key id without its
    /// file (or the reverse) is recorded in `missing`.
    pub fn apply(&self, mut builder: ClientBuilder, missing: &mut Missing) -> ClientBuilder {
        match (&self.public_key_id, &self.public_key_file) {
            (Some(id), Some(file)) => {
                builder = builder.wechatpay_public_key_file(id, file);
            }
            (Some(_), None) => missing.push(
                "the WeChat Pay public key file (the id is set): set --public-key-file or WXPAY_PUBLIC_KEY_FILE",
            ),
            (None, Some(_)) => missing.push(
                "the WeChat Pay public key id (the file is set): set --public-key-id or WXPAY_PUBLIC_KEY_ID",
            ),
            (None, None) => {}
        }
        if let Some(file) = &self.platform_cert_file {
            builder = builder.platform_certificate_file(file);
        }
        builder
    }
}

/// How a client checks WeChat Pay's signatures.
pub enum Verification<'a> {
    /// With the configured public key and/or certificate files; the APIv3
    /// key, when set, is given to the client too.
    Configured(&'a WechatpayKeyArgs, &'a ApiV3Args),
    /// With the certificates downloaded with the APIv3 key (required), and
    /// nothing else.
    DownloadOnly(&'a ApiV3Args),
}

/// Builds a client from the settings, or names every missing setting.
pub fn client(
    server: &ServerArgs,
    merchant: &MerchantArgs,
    verification: Verification<'_>,
) -> Result<Client, Failure> {
    let mut missing = Missing::default();
    let signer = merchant.require(&mut missing);
    let mut builder = Client::builder()
        .base_url(&server.base_url)
        .timeout(Duration::from_secs(server.timeout));
    match verification {
        Verification::Configured(keys, apiv3) => {
            builder = keys.apply(builder, &mut missing);
            if let Some(key) = &apiv3.apiv3_key {
                builder = builder.apiv3_key(key.as_str());
                if !keys.any() {
                    // No key given: certificate mode, downloading them.
                    builder = builder.download_platform_certificates();
                }
            } else if !keys.any() {
                missing.push(
                    "a key to verify WeChat Pay's signatures: set --public-key-id and --public-key-file \
                     (WXPAY_PUBLIC_KEY_ID, WXPAY_PUBLIC_KEY_FILE), or --platform-cert-file \
                     (WXPAY_PLATFORM_CERT_FILE), or --apiv3-key (WXPAY_APIV3_KEY) to download the platform certificates",
                );
            }
        }
        Verification::DownloadOnly(apiv3) => {
            if let Some(key) = missing.check(
                &apiv3.apiv3_key,
                "the APIv3 key (the certificates are encrypted under it)",
                "--apiv3-key",
                "WXPAY_APIV3_KEY",
            ) {
                builder = builder
                    .apiv3_key(key.as_str())
                    .download_platform_certificates();
            }
        }
    }
    missing.into_result()?;
    let Some(signer) = signer else {
        return Err(Failure::usage("missing settings"));
    };
    builder
        .mchid(signer.mchid)
        .merchant_key_file(signer.serial, signer.private_key_file)
        .build()
        .map_err(Failure::from)
}

/// The current Unix time in seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Parses an HTTP method name, in any case.
pub fn parse_method(text: &str) -> Result<Method, String> {
    match text.to_ascii_uppercase().as_str() {
        "GET" => Ok(Method::Get),
        "POST" => Ok(Method::Post),
        "PUT" => Ok(Method::Put),
        "PATCH" => Ok(Method::Patch),
        "DELETE" => Ok(Method::Delete),
        _ => Err(format!(
            "`{text}` is not a method WeChat Pay APIv3 uses: GET, POST, PUT, PATCH or DELETE"
        )),
    }
}

/// Checks that `target` is a path (and query) rather than a URL.
pub fn check_target(flag: &str, target: &str) -> Result<(), Failure> {
    if target.starts_with("http://") || target.starts_with("https://") {
        return Err(Failure::usage(format!(
            "{flag} `{target}` is a URL; give the path and query only (like /v3/certificates) and the scheme and host with --base-url or WXPAY_BASE_URL"
        )));
    }
    if !target.starts_with('/') {
        return Err(Failure::usage(format!(
            "{flag} `{target}` must start with `/` (like /v3/certificates)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_parse_in_any_case() {
        assert_eq!(parse_method("post"), Ok(Method::Post));
        assert_eq!(parse_method("Delete"), Ok(Method::Delete));
        assert!(parse_method("HEAD").is_err());
    }

    #[test]
    fn missing_settings_are_listed_together() {
        let mut missing = Missing::default();
        let merchant = MerchantArgs {
            mchid: None,
            serial: Some("AB".to_owned()),
            private_key_file: None,
        };
        assert!(merchant.require(&mut missing).is_none());
        let Err(Failure::Usage(message)) = missing.into_result() else {
            panic!("a usage failure");
        };
        assert!(message.contains("--mchid or WXPAY_MCHID"), "{message}");
        assert!(
            message.contains("--private-key-file or WXPAY_PRIVATE_KEY_FILE"),
            "{message}"
        );
        assert!(!message.contains("WXPAY_SERIAL"), "{message}");
    }
}
