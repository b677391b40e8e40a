//! The merchant's API client certificate, for APIv2 operations that need
//! mutual TLS.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p12_keystore::Pkcs12Archive;
use p12_keystore::error::Error as P12Error;
use zeroize::Zeroizing;

use super::{IdentityError, V2Error};

const CERTIFICATE: &str = "CERTIFICATE";
const PRIVATE_KEY: &str = "PRIVATE KEY";
/// The key block labels accepted in PEM input (PKCS#8, PKCS#1, SEC1).
const KEY_LABELS: [&str; 3] = [PRIVATE_KEY, "RSA PRIVATE KEY", "EC PRIVATE KEY"];

/// The merchant's API client certificate and its private key: what the
/// secapi and fund operations of APIv2 (refunds, red packets, payments to
/// a wallet, …) present in the TLS handshake.
///
/// Load it from `apiclient_cert.p12` ([`ClientIdentity::from_pkcs12`];
/// its password is the mchid unless it was exported with another), or from
/// `apiclient_cert.pem` and `apiclient_key.pem`
/// ([`ClientIdentity::from_pem`]). The key is wiped when dropped; `Debug`
/// shows the certificate's serial only.
#[derive(Clone)]
pub struct ClientIdentity {
    certificate_pem: String,
    key_pem: Zeroizing<String>,
    serial: String,
}

impl ClientIdentity {
    /// From PEM text: the certificate (`CERTIFICATE` blocks, the merchant's
    /// first) and the private key (`PRIVATE KEY`, `RSA PRIVATE KEY` or `EC
    /// PRIVATE KEY`).
    ///
    /// # Errors
    /// [`V2Error::Identity`] when a block is missing, the certificate cannot
    /// be read, or the HTTP client refuses the pair.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, V2Error> {
        let cert_text = String::from_utf8_lossy(cert_pem);
        let certificates = pem_blocks(&cert_text, &[CERTIFICATE]);
        let Some((_, first)) = certificates.first() else {
            return Err(IdentityError::Pem {
                what: "certificate",
                label: CERTIFICATE,
            }
            .into());
        };
        let serial = serial_of(&pem_der(first)?)?;
        let key_text = Zeroizing::new(String::from_utf8_lossy(key_pem).into_owned());
        let key_blocks = pem_blocks(&key_text, &KEY_LABELS);
        let Some((_, key_block)) = key_blocks.first() else {
            return Err(IdentityError::Pem {
                what: "private key",
                label: PRIVATE_KEY,
            }
            .into());
        };
        let identity = Self {
            certificate_pem: certificates
                .iter()
                .map(|(_, block)| format!("{block}\n"))
                .collect(),
            key_pem: Zeroizing::new(format!("{key_block}\n")),
            serial,
        };
        identity.reqwest_identity()?;
        Ok(identity)
    }

    /// From a PKCS#12 file (`apiclient_cert.p12`), as WeChat Pay issues it
    /// (legacy RC2 / 3DES encryption) or as exported by current tools
    /// (PBES2 with AES).
    ///
    /// # Errors
    /// [`IdentityError::WrongPassword`], [`IdentityError::NotPkcs12`],
    /// [`IdentityError::NoKeyPair`] (as [`V2Error::Identity`]).
    pub fn from_pkcs12(der: &[u8], password: &str) -> Result<Self, V2Error> {
        let archive = Pkcs12Archive::from_pkcs12(der, password).map_err(pkcs12_error)?;
        let Some(key) = archive.keys.first() else {
            return Err(IdentityError::NoKeyPair.into());
        };
        // The key's certificate first (matched by local key id), then the
        // others as its chain.
        let matches = |bag: &&p12_keystore::CertificateBag| {
            key.local_key_id
                .as_ref()
                .is_some_and(|id| bag.local_key_id.as_deref() == Some(id.0.as_slice()))
        };
        let leaf = archive
            .certs
            .iter()
            .find(matches)
            .or_else(|| archive.certs.first())
            .ok_or(IdentityError::NoKeyPair)?;
        let mut certificate_pem = pem_encode(CERTIFICATE, leaf.cert.as_der());
        for bag in &archive.certs {
            if !std::ptr::eq(bag, leaf) {
                certificate_pem.push_str(&pem_encode(CERTIFICATE, bag.cert.as_der()));
            }
        }
        let identity = Self {
            serial: serial_of(leaf.cert.as_der())?,
            certificate_pem,
            key_pem: Zeroizing::new(pem_encode(PRIVATE_KEY, key.key.as_der())),
        };
        identity.reqwest_identity()?;
        Ok(identity)
    }

    /// The certificates as PEM, the merchant's first.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The merchant certificate's serial number, upper-case hex.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The identity for reqwest's `ClientBuilder::identity`.
    ///
    /// # Errors
    /// [`IdentityError::Client`] (as [`V2Error::Identity`]) when reqwest
    /// refuses the certificate or the key.
    pub fn reqwest_identity(&self) -> Result<reqwest::Identity, V2Error> {
        let mut pem = Zeroizing::new(Vec::with_capacity(
            self.certificate_pem.len() + self.key_pem.len(),
        ));
        pem.extend_from_slice(self.certificate_pem.as_bytes());
        pem.extend_from_slice(self.key_pem.as_bytes());
        reqwest::Identity::from_pem(&pem).map_err(|error| {
            IdentityError::Client {
                reason: error.to_string(),
            }
            .into()
        })
    }
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("serial", &self.serial)
            .field("key", &format_args!("<redacted>"))
            .finish()
    }
}

fn pkcs12_error(error: P12Error) -> V2Error {
    match error {
        // A MAC that does not check, or (without a MAC) padding that does
        // not after decryption: the password is wrong.
        P12Error::MacError(_) | P12Error::UnpadError => IdentityError::WrongPassword.into(),
        other => IdentityError::NotPkcs12 {
            reason: other.to_string(),
        }
        .into(),
    }
}

/// The PEM blocks of `text` whose label is one of `labels`, as
/// `(label, whole block text)`, in order.
fn pem_blocks<'t>(text: &'t str, labels: &[&'static str]) -> Vec<(&'static str, &'t str)> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(begin) = rest.find("-----BEGIN ") {
        let after = &rest[begin + "-----BEGIN ".len()..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = &after[..label_end];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = rest[begin..].find(&end_marker) else {
            break;
        };
        let block_end = begin + end + end_marker.len();
        if let Some(known) = labels.iter().find(|known| **known == label) {
            blocks.push((*known, &rest[begin..block_end]));
        }
        rest = &rest[block_end..];
    }
    blocks
}

/// The DER inside one PEM block.
fn pem_der(block: &str) -> Result<Vec<u8>, IdentityError> {
    let body: String = block
        .lines()
        .filter(|line| !line.starts_with("-----") && !line.contains(':'))
        .flat_map(|line| line.chars().filter(|c| !c.is_whitespace()))
        .collect();
    STANDARD
        .decode(body)
        .map_err(|_| IdentityError::Certificate {
            reason: "its PEM block is not base64".to_owned(),
        })
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The certificate's serial number, upper-case hex.
fn serial_of(der: &[u8]) -> Result<String, IdentityError> {
    let (_, certificate) =
        x509_parser::parse_x509_certificate(der).map_err(|error| IdentityError::Certificate {
            reason: format!("it is not an X.509 certificate ({error})"),
        })?;
    Ok(certificate
        .raw_serial()
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect())
}
