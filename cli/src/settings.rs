//! The settings commands share: each a flag or its `WXPAY_…` variable, in
//! groups a command flattens into its arguments, then (for what neither
//! sets) the selected profile of the config file ([`crate::config`]), and
//! the checks that name every missing setting at once.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use wxpay::client::PRODUCTION_BASE_URL;
use wxpay::{Client, ClientBuilder, MerchantKey, Method};
use zeroize::Zeroizing;

use crate::config::Profile;
use crate::error::Failure;

/// The timeout when no flag, variable or profile sets one.
const DEFAULT_TIMEOUT_SECONDS: u64 = 30;

/// Where requests go.
#[derive(Args)]
pub struct ServerArgs {
    /// Where requests go: scheme, host and port only; production when unset.
    #[arg(
        long,
        env = "WXPAY_BASE_URL",
        value_name = "URL",
        help = "Where requests go: scheme, host and port only [default: https://api.mch.weixin.qq.com]"
    )]
    pub base_url: Option<String>,

    /// How long to wait for the answer, in seconds [default: 30]
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
}

impl ServerArgs {
    /// The base URL: the setting, else production.
    pub fn base_url(&self) -> &str {
        self.base_url.as_deref().unwrap_or(PRODUCTION_BASE_URL)
    }

    /// The timeout: the setting, else 30 seconds.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout.unwrap_or(DEFAULT_TIMEOUT_SECONDS))
    }

    /// Takes from `profile` what flags and variables left unset.
    pub fn fill(&mut self, profile: Option<&Profile>) {
        if let Some(profile) = profile {
            fill(&mut self.base_url, &profile.base_url);
            fill(&mut self.timeout, &profile.timeout);
        }
    }
}

/// Sets `value` to `fallback` when it is unset.
fn fill<T: Clone>(value: &mut Option<T>, fallback: &Option<T>) {
    if value.is_none() {
        value.clone_from(fallback);
    }
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

/// The APIv3 key, inline or from a file. `Debug` hides the key, and the
/// key is held in a buffer wiped when it is dropped.
#[derive(Args)]
pub struct ApiV3Args {
    /// The APIv3 key (32 characters); prefer the variable or --apiv3-key-file, which `ps` does not show
    #[arg(
        long,
        env = "WXPAY_APIV3_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub apiv3_key: Option<Zeroizing<String>>,

    /// A file holding the APIv3 key (surrounding whitespace ignored)
    #[arg(long, env = "WXPAY_APIV3_KEY_FILE", value_name = "FILE")]
    pub apiv3_key_file: Option<PathBuf>,
}

impl std::fmt::Debug for ApiV3Args {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiV3Args")
            .field("apiv3_key", &self.apiv3_key.as_ref().map(|_| "<hidden>"))
            .field("apiv3_key_file", &self.apiv3_key_file)
            .finish()
    }
}

impl ApiV3Args {
    /// Settles the key into `apiv3_key`: `--apiv3-key` / `WXPAY_APIV3_KEY`,
    /// else the file of `--apiv3-key-file` / `WXPAY_APIV3_KEY_FILE`, else
    /// the profile's `apiv3_key` or `apiv3_key_file`.
    ///
    /// # Errors
    /// A usage failure when both the key and a key file are given by flags
    /// or variables, or when a key file cannot be read or is empty.
    pub fn resolve(&mut self, profile: Option<&Profile>) -> Result<(), Failure> {
        self.resolve_with(profile, true)
    }

    /// [`ApiV3Args::resolve`] without the warning about a key file others
    /// can read (`wxpay doctor` reports it as a failed check instead).
    ///
    /// # Errors
    /// As [`ApiV3Args::resolve`].
    pub fn resolve_quietly(&mut self, profile: Option<&Profile>) -> Result<(), Failure> {
        self.resolve_with(profile, false)
    }

    /// [`ApiV3Args::resolve`], warning about an exposed key file when `warn`.
    fn resolve_with(&mut self, profile: Option<&Profile>, warn: bool) -> Result<(), Failure> {
        match (&self.apiv3_key, &self.apiv3_key_file) {
            (Some(_), Some(_)) => {
                return Err(Failure::usage(
                    "both --apiv3-key (WXPAY_APIV3_KEY) and --apiv3-key-file (WXPAY_APIV3_KEY_FILE) are set; keep one",
                ));
            }
            (Some(_), None) => return Ok(()),
            (None, Some(file)) => {
                self.apiv3_key = Some(read_key_file(
                    KeyKind::ApiV3,
                    "--apiv3-key-file (WXPAY_APIV3_KEY_FILE)",
                    file,
                    warn,
                )?);
                return Ok(());
            }
            (None, None) => {}
        }
        let Some(profile) = profile else {
            return Ok(());
        };
        if let Some(key) = &profile.apiv3_key {
            self.apiv3_key = Some(Zeroizing::new(key.as_str().to_owned()));
        } else if let Some(file) = &profile.apiv3_key_file {
            let origin = format!("apiv3_key_file of profile `{}`", profile.name);
            self.apiv3_key = Some(read_key_file(KeyKind::ApiV3, &origin, file, warn)?);
        }
        Ok(())
    }
}

/// The secret a key file holds, named in the errors about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// The APIv3 key (`--apiv3-key-file`, a profile's `apiv3_key_file`).
    ApiV3,
    /// The APIv2 key of `wxpay v2` (`--v2-key-file`, `v2_key_file`).
    ApiV2,
}

impl KeyKind {
    /// "APIv3 key" or "APIv2 key".
    fn name(self) -> &'static str {
        match self {
            KeyKind::ApiV3 => "APIv3 key",
            KeyKind::ApiV2 => "APIv2 key",
        }
    }
}

/// The `kind` key in `file`, trimmed, in a buffer wiped on drop; `origin`
/// says where the file was named. Warns when others can read the file and
/// `warn` is set.
///
/// # Errors
/// A failure naming `origin` and the file when it cannot be read or is
/// empty.
pub fn read_key_file(
    kind: KeyKind,
    origin: &str,
    file: &Path,
    warn: bool,
) -> Result<Zeroizing<String>, Failure> {
    let text = if warn {
        crate::files::read_secret(&format!("the {} file", kind.name()), file)
    } else {
        crate::files::read_protected(file).map(|(text, _)| text)
    }
    .map_err(|error| Failure::read(origin, file, &error))?;
    let key = text.trim();
    if key.is_empty() {
        return Err(Failure::usage(format!(
            "{origin}: `{}` is empty; it should hold the 32-character {}",
            file.display(),
            kind.name()
        )));
    }
    Ok(Zeroizing::new(key.to_owned()))
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
        message.push_str(
            "\n  (or set them in a profile of the config file and pick it with --profile NAME; see `wxpay profiles`)",
        );
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
    /// Takes from `profile` what flags and variables left unset.
    pub fn fill(&mut self, profile: Option<&Profile>) {
        if let Some(profile) = profile {
            fill(&mut self.mchid, &profile.mchid);
            fill(&mut self.serial, &profile.serial);
            fill(&mut self.private_key_file, &profile.private_key_file);
        }
    }

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
    /// Takes from `profile` what flags and variables left unset. The
    /// public key id and file are one setting: a profile gives both or
    /// neither when a flag or variable already set one of them.
    pub fn fill(&mut self, profile: Option<&Profile>) {
        if let Some(profile) = profile {
            if self.public_key_id.is_none() && self.public_key_file.is_none() {
                self.public_key_id.clone_from(&profile.public_key_id);
                self.public_key_file.clone_from(&profile.public_key_file);
            }
            fill(&mut self.platform_cert_file, &profile.platform_cert_file);
        }
    }

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
    client_with_backend(server, merchant, verification, None)
}

/// [`client`] with the crypto backend chosen (the default when `None`).
pub fn client_with_backend(
    server: &ServerArgs,
    merchant: &MerchantArgs,
    verification: Verification<'_>,
    backend: Option<wxpay::CryptoBackend>,
) -> Result<Client, Failure> {
    let mut missing = Missing::default();
    let signer = merchant.require(&mut missing);
    let mut builder = Client::builder()
        .base_url(server.base_url())
        .timeout(server.timeout());
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
    // wxpay reads the key file itself, into a buffer it wipes.
    crate::files::warn_if_exposed("the merchant private key", signer.private_key_file);
    if let Some(backend) = backend {
        builder = builder.crypto_backend(backend);
    }
    builder
        .mchid(signer.mchid)
        .merchant_key_file(signer.serial, signer.private_key_file)
        .build()
        .map_err(Failure::from)
}

/// Loads the merchant private key of `--private-key-file`; a usage failure
/// naming the file (never its contents) otherwise.
pub fn merchant_key(path: &Path) -> Result<MerchantKey, Failure> {
    crate::files::warn_if_exposed("the merchant private key", path);
    MerchantKey::from_pem_file(path).map_err(|error| {
        Failure::usage(format!(
            "the merchant private key `{}` (--private-key-file, WXPAY_PRIVATE_KEY_FILE): {error}",
            path.display()
        ))
    })
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
    fn debug_hides_the_apiv3_key() {
        let key = "0123456789abcdefghijABCDEFGHIJ01";
        let args = ApiV3Args {
            apiv3_key: Some(Zeroizing::new(key.to_owned())),
            apiv3_key_file: None,
        };
        let shown = format!("{args:?}");
        assert!(!shown.contains(key), "{shown}");
        assert!(shown.contains("<hidden>"), "{shown}");
    }

    #[test]
    fn the_profile_fills_only_what_is_unset() {
        let profile = Profile {
            name: "p".to_owned(),
            mchid: Some("1".to_owned()),
            serial: Some("AA".to_owned()),
            public_key_id: Some("PUB_KEY_ID_1".to_owned()),
            public_key_file: Some("p.pem".into()),
            apiv3_key: Some(Zeroizing::new("from-profile".to_owned())),
            ..Profile::default()
        };
        let mut merchant = MerchantArgs {
            mchid: None,
            serial: Some("BB".to_owned()),
            private_key_file: None,
        };
        merchant.fill(Some(&profile));
        assert_eq!(merchant.mchid.as_deref(), Some("1"));
        assert_eq!(merchant.serial.as_deref(), Some("BB"));
        assert_eq!(merchant.private_key_file, None);

        // The public key id and file stay one setting.
        let mut keys = WechatpayKeyArgs {
            public_key_id: Some("PUB_KEY_ID_2".to_owned()),
            public_key_file: None,
            platform_cert_file: None,
        };
        keys.fill(Some(&profile));
        assert_eq!(keys.public_key_file, None);

        let mut apiv3 = ApiV3Args {
            apiv3_key: Some(Zeroizing::new("from-flag".to_owned())),
            apiv3_key_file: None,
        };
        assert!(apiv3.resolve(Some(&profile)).is_ok());
        assert_eq!(
            apiv3.apiv3_key.as_deref().map(String::as_str),
            Some("from-flag")
        );
        let mut apiv3 = ApiV3Args {
            apiv3_key: None,
            apiv3_key_file: None,
        };
        assert!(apiv3.resolve(Some(&profile)).is_ok());
        assert_eq!(
            apiv3.apiv3_key.as_deref().map(String::as_str),
            Some("from-profile")
        );
        let mut both = ApiV3Args {
            apiv3_key: Some(Zeroizing::new("k".to_owned())),
            apiv3_key_file: Some("f".into()),
        };
        assert!(matches!(both.resolve(None), Err(Failure::Usage(m)) if m.contains("keep one")));
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
