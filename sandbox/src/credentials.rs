//! The merchant's and the sandbox's credentials: generated fresh for every
//! sandbox, or taken from a [`SandboxConfig`] to reuse known test keys.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize, PublicKey as RsaPublicKey};
use aws_lc_rs::signature::{KeyPair as _, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use rand::Rng;
use rand::distr::Alphanumeric;

use crate::certificates::{self, PlatformCertificate, ValidityPolicy};
use crate::{SandboxConfig, SandboxError};

/// Everything a client needs to talk to a running [`Sandbox`](crate::Sandbox),
/// as a merchant would receive it from WeChat Pay.
///
/// `Debug` prints the public parts only: the private keys and the APIv3
/// key are shown as `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Merchant id (digits), e.g. `"1912345678"`.
    pub mchid: String,
    /// Serial number of the merchant API certificate: 40 upper-case hex
    /// characters. Requests must name it in `serial_no`.
    pub merchant_serial: String,
    /// The merchant's RSA-2048 private key as a PKCS#8 PEM (`PRIVATE KEY`),
    /// used by the client to sign requests. Empty when the sandbox was
    /// configured with a merchant public key and no private key.
    pub merchant_private_key_pem: String,
    /// The merchant's public key as an SPKI PEM (`PUBLIC KEY`): the sandbox
    /// verifies request signatures with it.
    pub merchant_public_key_pem: String,
    /// Id of the "WeChat Pay public key": `PUB_KEY_ID_` followed by 28
    /// digits starting with `01`. Responses signed in public-key mode
    /// announce it in `Wechatpay-Serial`.
    pub public_key_id: String,
    /// The "WeChat Pay public key" (SPKI PEM): responses signed in
    /// public-key mode verify with it.
    pub platform_public_key_pem: String,
    /// The private half of the platform key, for tests that act as WeChat
    /// Pay (to sign a callback, say): a PKCS#8 PEM when generated, else
    /// `SandboxConfig::platform_private_key_pem` as given. It signs
    /// public-key-mode answers, and certificate-mode answers until the
    /// first [`Sandbox::rotate_platform_certificate`](crate::Sandbox::rotate_platform_certificate).
    pub platform_private_key_pem: String,
    /// The platform certificate the sandbox started with (PEM, LF line
    /// endings): an X.509 certificate, self-signed, for the platform key
    /// (the same key as [`Credentials::platform_public_key_pem`]). Served
    /// by `GET /v3/certificates`; later certificates come from
    /// [`Sandbox::rotate_platform_certificate`](crate::Sandbox::rotate_platform_certificate)
    /// and are listed by [`Sandbox::platform_certificates`](crate::Sandbox::platform_certificates).
    pub platform_certificate_pem: String,
    /// Serial number of [`Credentials::platform_certificate_pem`] as
    /// WeChat Pay shows it: upper-case hex, 40 characters for a generated
    /// certificate. Responses signed in certificate mode announce it in
    /// `Wechatpay-Serial` (until a rotation).
    pub platform_certificate_serial: String,
    /// APIv3 key: 32 random characters from `[0-9A-Za-z]`. Encrypts the
    /// certificates of `GET /v3/certificates`.
    pub apiv3_key: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("mchid", &self.mchid)
            .field("merchant_serial", &self.merchant_serial)
            .field("merchant_private_key_pem", &"<redacted>")
            .field("merchant_public_key_pem", &self.merchant_public_key_pem)
            .field("public_key_id", &self.public_key_id)
            .field("platform_public_key_pem", &self.platform_public_key_pem)
            .field("platform_private_key_pem", &"<redacted>")
            .field("platform_certificate_pem", &self.platform_certificate_pem)
            .field(
                "platform_certificate_serial",
                &self.platform_certificate_serial,
            )
            .field("apiv3_key", &"<redacted>")
            .finish()
    }
}

/// The key material the server works with, parsed once at start-up.
pub(crate) struct ServerKeys {
    /// Verifies request signatures (RSASSA-PKCS1-v1_5, SHA-256).
    pub(crate) merchant_key: ParsedPublicKey,
    /// Signs public-key-mode responses (and is certified by the first
    /// platform certificate).
    pub(crate) platform_key: Arc<RsaKeyPair>,
    /// The platform certificate the sandbox starts with.
    pub(crate) certificate: Arc<PlatformCertificate>,
    /// The validity of the certificates the sandbox issues.
    pub(crate) validity: ValidityPolicy,
}

/// Builds the credentials and the server's keys from `config`, generating
/// whatever the configuration leaves out. Key generation is CPU-bound, so
/// callers run this on a blocking thread.
pub(crate) fn build(
    config: &SandboxConfig,
) -> Result<(Credentials, Arc<ServerKeys>), SandboxError> {
    let mut rng = rand::rng();

    let (merchant_private_key_pem, merchant_public_key_pem) = match (
        &config.merchant_public_key_pem,
        &config.merchant_private_key_pem,
    ) {
        (Some(public), private) => {
            // Validate the public key now rather than on the first request.
            parse_public_key("merchant_public_key_pem", public)?;
            (private.clone().unwrap_or_default(), public.clone())
        }
        (None, Some(private)) => {
            let key = parse_private_key("merchant_private_key_pem", private)?;
            (private.clone(), public_key_pem(&key)?)
        }
        (None, None) => {
            let key = generate_key()?;
            (private_key_pem(&key)?, public_key_pem(&key)?)
        }
    };
    let merchant_key = parse_public_key("merchant_public_key_pem", &merchant_public_key_pem)?;

    let (platform_key, platform_private_key_pem) = match &config.platform_private_key_pem {
        Some(pem) => (
            parse_private_key("platform_private_key_pem", pem)?,
            pem.clone(),
        ),
        None => {
            let key = generate_key()?;
            let pem = private_key_pem(&key)?;
            (key, pem)
        }
    };
    let platform_public_key_pem = public_key_pem(&platform_key)?;
    let platform_key = Arc::new(platform_key);
    let validity = ValidityPolicy::from_config(config)?;
    let certificate = match (
        &config.platform_certificate_pem,
        &config.platform_private_key_pem,
    ) {
        (Some(pem), Some(_)) => certificates::from_pem(pem, Arc::clone(&platform_key))?,
        (Some(_), None) => {
            return Err(SandboxError::InvalidKey {
                what: "platform_certificate_pem",
                reason: "a certificate needs its key: set platform_private_key_pem too".to_owned(),
            });
        }
        (None, _) => certificates::issue(Arc::clone(&platform_key), validity)?,
    };

    let apiv3_key = match &config.apiv3_key {
        Some(key) if key.len() == 32 && key.bytes().all(|b| b.is_ascii_graphic()) => key.clone(),
        Some(key) => {
            return Err(SandboxError::InvalidConfig {
                what: "apiv3_key",
                reason: format!(
                    "an APIv3 key is exactly 32 printable ASCII characters, this one has {} bytes",
                    key.len()
                ),
            });
        }
        None => random_alphanumeric(&mut rng, 32),
    };
    let credentials = Credentials {
        mchid: config
            .mchid
            .clone()
            .unwrap_or_else(|| format!("19{}", random_digits(&mut rng, 8))),
        merchant_serial: config
            .merchant_serial
            .clone()
            .unwrap_or_else(|| random_upper_hex(&mut rng, 40)),
        merchant_private_key_pem,
        merchant_public_key_pem,
        public_key_id: config
            .public_key_id
            .clone()
            .unwrap_or_else(|| format!("PUB_KEY_ID_01{}", random_digits(&mut rng, 26))),
        platform_public_key_pem,
        platform_private_key_pem,
        platform_certificate_pem: certificate.pem.clone(),
        platform_certificate_serial: certificate.serial.clone(),
        apiv3_key,
    };
    let keys = ServerKeys {
        merchant_key,
        platform_key,
        certificate: Arc::new(certificate),
        validity,
    };
    Ok((credentials, Arc::new(keys)))
}

pub(crate) fn generate_key() -> Result<RsaKeyPair, SandboxError> {
    RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| SandboxError::KeyGeneration)
}

pub(crate) fn private_key_pem(key: &RsaKeyPair) -> Result<String, SandboxError> {
    let der: Pkcs8V1Der<'static> = key.as_der().map_err(|_| SandboxError::KeyGeneration)?;
    Ok(encode_pem("PRIVATE KEY", der.as_ref()))
}

fn public_key_pem(key: &RsaKeyPair) -> Result<String, SandboxError> {
    let der: PublicKeyX509Der<'static> = key
        .public_key()
        .as_der()
        .map_err(|_| SandboxError::KeyGeneration)?;
    Ok(encode_pem("PUBLIC KEY", der.as_ref()))
}

pub(crate) fn encode_pem(tag: &str, der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(tag, der), config)
}

/// Parses an RSA private key PEM: PKCS#8 (`PRIVATE KEY`) or PKCS#1
/// (`RSA PRIVATE KEY`).
fn parse_private_key(what: &'static str, text: &str) -> Result<RsaKeyPair, SandboxError> {
    let invalid = |reason: String| SandboxError::InvalidKey { what, reason };
    let pem = pem::parse(text).map_err(|e| invalid(format!("not a PEM document: {e}")))?;
    let parsed = match pem.tag() {
        "PRIVATE KEY" => RsaKeyPair::from_pkcs8(pem.contents()),
        "RSA PRIVATE KEY" => RsaKeyPair::from_der(pem.contents()),
        other => {
            return Err(invalid(format!(
                "expected a PRIVATE KEY or RSA PRIVATE KEY PEM, found {other}"
            )));
        }
    };
    parsed.map_err(|e| invalid(format!("not a usable RSA private key: {e}")))
}

/// Parses an RSA public key PEM: SPKI (`PUBLIC KEY`) or PKCS#1
/// (`RSA PUBLIC KEY`), ready to verify RSASSA-PKCS1-v1_5/SHA-256.
fn parse_public_key(what: &'static str, text: &str) -> Result<ParsedPublicKey, SandboxError> {
    let invalid = |reason: String| SandboxError::InvalidKey { what, reason };
    let pem = pem::parse(text).map_err(|e| invalid(format!("not a PEM document: {e}")))?;
    match pem.tag() {
        "PUBLIC KEY" | "RSA PUBLIC KEY" => {}
        "CERTIFICATE" => {
            return Err(invalid(
                "expected a PUBLIC KEY PEM, found a CERTIFICATE; extract its key with \
                 `openssl x509 -pubkey -noout`"
                    .to_owned(),
            ));
        }
        other => {
            return Err(invalid(format!(
                "expected a PUBLIC KEY or RSA PUBLIC KEY PEM, found {other}"
            )));
        }
    }
    // `RsaPublicKey::from_der` accepts both encodings and checks the key.
    RsaPublicKey::from_der(pem.contents())
        .map_err(|e| invalid(format!("not a usable RSA public key: {e}")))?;
    ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pem.contents())
        .map_err(|e| invalid(format!("not usable for RSA-SHA256 verification: {e}")))
}

pub(crate) fn random_digits(rng: &mut impl Rng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

pub(crate) fn random_upper_hex(rng: &mut impl Rng, len: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    (0..len)
        .map(|_| char::from(HEX[rng.random_range(0..16usize)]))
        .collect()
}

pub(crate) fn random_alphanumeric(rng: &mut impl Rng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(rng.sample(Alphanumeric)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_credentials_have_the_documented_shapes() {
        let (c, _) = build(&SandboxConfig::default()).expect("credentials");
        assert_eq!(c.mchid.len(), 10);
        assert!(c.mchid.starts_with("19") && c.mchid.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(c.merchant_serial.len(), 40);
        assert!(
            c.merchant_serial
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        );
        assert!(
            c.merchant_private_key_pem
                .starts_with("-----BEGIN PRIVATE KEY-----\n")
        );
        assert!(
            c.merchant_public_key_pem
                .starts_with("-----BEGIN PUBLIC KEY-----\n")
        );
        assert!(
            c.platform_public_key_pem
                .starts_with("-----BEGIN PUBLIC KEY-----\n")
        );
        let digits = c.public_key_id.strip_prefix("PUB_KEY_ID_").expect("prefix");
        assert_eq!(digits.len(), 28);
        assert!(digits.starts_with("01") && digits.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(c.apiv3_key.len(), 32);
        assert!(c.apiv3_key.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(c.merchant_public_key_pem, c.platform_public_key_pem);
        assert!(
            c.platform_private_key_pem
                .starts_with("-----BEGIN PRIVATE KEY-----\n")
        );
        assert!(
            c.platform_certificate_pem
                .starts_with("-----BEGIN CERTIFICATE-----\n")
        );
        assert_eq!(c.platform_certificate_serial.len(), 40);
        assert!(
            c.platform_certificate_serial
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        );
    }

    #[test]
    fn certificate_configuration_errors_name_the_field() {
        let (first, _) = build(&SandboxConfig::default()).expect("credentials");
        let config = SandboxConfig {
            platform_certificate_pem: Some(first.platform_certificate_pem.clone()),
            ..SandboxConfig::default()
        };
        match build(&config) {
            Err(SandboxError::InvalidKey { what, reason }) => {
                assert_eq!(what, "platform_certificate_pem");
                assert!(reason.contains("platform_private_key_pem"), "{reason}");
            }
            other => panic!("unexpected {:?}", other.map(|(c, _)| c)),
        }

        let config = SandboxConfig {
            platform_private_key_pem: Some(first.platform_private_key_pem.clone()),
            platform_certificate_pem: Some(first.merchant_public_key_pem.clone()),
            ..SandboxConfig::default()
        };
        match build(&config) {
            Err(SandboxError::InvalidKey { what, reason }) => {
                assert_eq!(what, "platform_certificate_pem");
                assert!(reason.contains("expected a CERTIFICATE"), "{reason}");
            }
            other => panic!("unexpected {:?}", other.map(|(c, _)| c)),
        }

        let now = std::time::SystemTime::now();
        let config = SandboxConfig {
            platform_private_key_pem: Some(first.platform_private_key_pem.clone()),
            platform_certificate_validity: Some((now, now)),
            ..SandboxConfig::default()
        };
        match build(&config) {
            Err(SandboxError::InvalidConfig { what, reason }) => {
                assert_eq!(what, "platform_certificate_validity");
                assert!(reason.contains("must be earlier"), "{reason}");
            }
            other => panic!("unexpected {:?}", other.map(|(c, _)| c)),
        }
    }

    #[test]
    fn a_given_certificate_and_key_are_served_as_given() {
        let (first, _) = build(&SandboxConfig::default()).expect("credentials");
        let config = SandboxConfig {
            platform_private_key_pem: Some(first.platform_private_key_pem.clone()),
            platform_certificate_pem: Some(first.platform_certificate_pem.clone()),
            ..SandboxConfig::default()
        };
        let (second, keys) = build(&config).expect("credentials");
        assert_eq!(
            second.platform_certificate_serial,
            first.platform_certificate_serial
        );
        assert_eq!(
            second.platform_certificate_pem,
            first.platform_certificate_pem
        );
        assert_eq!(
            second.platform_private_key_pem,
            first.platform_private_key_pem
        );
        assert_eq!(keys.certificate.serial, first.platform_certificate_serial);
    }

    #[test]
    fn debug_redacts_secrets() {
        let (c, _) = build(&SandboxConfig::default()).expect("credentials");
        let shown = format!("{c:?}");
        assert!(!shown.contains("PRIVATE KEY"));
        assert!(!shown.contains(&c.apiv3_key));
        assert!(shown.contains(&c.mchid));
    }

    #[test]
    fn a_private_key_alone_yields_its_public_key() {
        let (first, _) = build(&SandboxConfig::default()).expect("credentials");
        let config = SandboxConfig {
            merchant_private_key_pem: Some(first.merchant_private_key_pem.clone()),
            ..SandboxConfig::default()
        };
        let (second, _) = build(&config).expect("credentials");
        assert_eq!(
            second.merchant_public_key_pem,
            first.merchant_public_key_pem
        );
    }

    #[test]
    fn bad_pem_is_reported_with_the_config_field() {
        let config = SandboxConfig {
            merchant_public_key_pem: Some("not a pem".into()),
            ..SandboxConfig::default()
        };
        match build(&config) {
            Err(SandboxError::InvalidKey { what, .. }) => {
                assert_eq!(what, "merchant_public_key_pem");
            }
            other => panic!("unexpected {:?}", other.map(|(c, _)| c)),
        }
    }
}
