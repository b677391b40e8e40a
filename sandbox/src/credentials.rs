//! The merchant's and the sandbox's credentials: generated fresh for every
//! sandbox, or taken from a [`SandboxConfig`] to reuse known test keys.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize, PublicKey as RsaPublicKey};
use aws_lc_rs::signature::{KeyPair as _, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};

use crate::certificates::{self, PlatformCertificate, ValidityPolicy, encode_pem};
use crate::config::{SandboxConfig, SandboxError, TlsIdentities};
use crate::random::{random_alphanumeric, random_digits, random_upper_hex};

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
    /// APIv2 key: 32 random characters from `[0-9A-Za-z]` (or
    /// [`SandboxConfig::apiv2_key`]). Signs and verifies APIv2 requests,
    /// answers and payment notifications, and keys the refund
    /// notification's `req_info`. See [APIv2](crate#apiv2).
    pub apiv2_key: String,
    /// The sandbox's own certificate authority (PEM, ECDSA P-256,
    /// self-signed): it issued the TLS server certificate of
    /// [`Sandbox::v2_tls_url`](crate::Sandbox::v2_tls_url) and the
    /// merchant's API client certificate. Trust it as a root to talk to
    /// the TLS listener.
    pub tls_ca_pem: String,
    /// The private key of [`Credentials::tls_ca_pem`] (PKCS#8 PEM). Only
    /// needed to start a sandbox again with the same certificates
    /// ([`Credentials::tls_identities`]).
    pub tls_ca_key_pem: String,
    /// The merchant's API client certificate (PEM, RSA-2048, subject
    /// `CN=<mchid>`, issued by [`Credentials::tls_ca_pem`]), as in
    /// `apiclient_cert.pem`: present it over TLS for `/secapi/…` and
    /// `/mmpaymkttransfers/sendredpack`.
    pub client_certificate_pem: String,
    /// The private key of [`Credentials::client_certificate_pem`]
    /// (PKCS#8 PEM), as in `apiclient_key.pem`.
    pub client_key_pem: String,
    /// The same certificate and key as a PKCS#12 archive
    /// (`apiclient_cert.p12`), protected with the password `mchid` as
    /// WeChat Pay's are (PBES2 with AES-256-CBC and an HMAC-SHA256 MAC,
    /// written by `p12-keystore`).
    pub client_pkcs12: Vec<u8>,
}

impl Credentials {
    /// The CA and the client certificate with their keys, to start a
    /// sandbox again with them ([`SandboxConfig::tls_identities`]), so
    /// that a client that trusts this CA and holds this certificate keeps
    /// working.
    pub fn tls_identities(&self) -> TlsIdentities {
        TlsIdentities {
            ca_certificate_pem: self.tls_ca_pem.clone(),
            ca_key_pem: self.tls_ca_key_pem.clone(),
            client_certificate_pem: self.client_certificate_pem.clone(),
            client_key_pem: self.client_key_pem.clone(),
        }
    }
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
            .field("apiv2_key", &"<redacted>")
            .field("tls_ca_pem", &self.tls_ca_pem)
            .field("tls_ca_key_pem", &"<redacted>")
            .field("client_certificate_pem", &self.client_certificate_pem)
            .field("client_key_pem", &"<redacted>")
            .field("client_pkcs12", &"<redacted>")
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
    /// The TLS listener's certificate chain and key, and the CA that
    /// client certificates must chain to (DER).
    pub(crate) tls: TlsMaterial,
}

/// DER material of the APIv2 TLS listener.
pub(crate) struct TlsMaterial {
    /// The sandbox CA's certificate.
    pub(crate) ca_der: Vec<u8>,
    /// The server certificate for `127.0.0.1` and `localhost`.
    pub(crate) server_der: Vec<u8>,
    /// Its PKCS#8 private key.
    pub(crate) server_key_der: Vec<u8>,
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
    let apiv2_key = match &config.apiv2_key {
        Some(key) if key.len() == 32 && key.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            key.clone()
        }
        Some(key) => {
            return Err(SandboxError::InvalidConfig {
                what: "apiv2_key",
                reason: format!(
                    "an APIv2 key is exactly 32 characters of [0-9A-Za-z], this one has {} bytes",
                    key.len()
                ),
            });
        }
        None => random_alphanumeric(&mut rng, 32),
    };
    let mchid = config
        .mchid
        .clone()
        .unwrap_or_else(|| format!("19{}", random_digits(&mut rng, 8)));
    let issued = issue_tls(&mchid, config.tls_identities.as_ref())?;
    let credentials = Credentials {
        mchid,
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
        apiv2_key,
        tls_ca_pem: issued.ca_pem,
        tls_ca_key_pem: issued.ca_key_pem,
        client_certificate_pem: issued.client_pem,
        client_key_pem: issued.client_key_pem,
        client_pkcs12: issued.client_pkcs12,
    };
    let keys = ServerKeys {
        merchant_key,
        platform_key,
        certificate: Arc::new(certificate),
        validity,
        tls: issued.material,
    };
    Ok((credentials, Arc::new(keys)))
}

/// What [`issue_tls`] makes.
struct IssuedTls {
    ca_pem: String,
    ca_key_pem: String,
    client_pem: String,
    client_key_pem: String,
    client_pkcs12: Vec<u8>,
    material: TlsMaterial,
}

/// Makes the sandbox CA (ECDSA P-256), the TLS server certificate for
/// `127.0.0.1`, `::1` and `localhost` (ECDSA P-256), and the merchant's
/// API client certificate (RSA-2048, `CN=<mchid>`), all valid from a day
/// ago for ten years, and the client's PKCS#12 archive (password `mchid`).
/// With `reuse`, the CA and the client certificate are those, once checked
/// ([`check_reused`]), and only the server certificate is new.
fn issue_tls(mchid: &str, reuse: Option<&TlsIdentities>) -> Result<IssuedTls, SandboxError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
        IsCa, Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, PKCS_RSA_SHA256,
    };
    let failed = |step: &str, error: rcgen::Error| SandboxError::Certificate {
        reason: format!("{step}: {error}"),
    };
    let now = time::OffsetDateTime::now_utc();
    let validity = |params: &mut CertificateParams| {
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(3650);
    };
    let name = |common: &str| {
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, "CN");
        dn.push(DnType::OrganizationName, "wxpay sandbox");
        dn.push(DnType::CommonName, common);
        dn
    };

    let mut ca_params = CertificateParams::default();
    validity(&mut ca_params);
    ca_params.distinguished_name = name("wxpay sandbox CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let (ca_key, ca_der) = match reuse {
        Some(reused) => {
            let key = read_tls_key("tls_identities.ca_key_pem", &reused.ca_key_pem)?;
            let key = KeyPair::try_from(key.as_slice()).map_err(|e| SandboxError::InvalidKey {
                what: "tls_identities.ca_key_pem",
                reason: format!("not a usable private key: {e}"),
            })?;
            let der = read_tls_certificate(
                "tls_identities.ca_certificate_pem",
                &reused.ca_certificate_pem,
            )?;
            (key, der)
        }
        None => {
            let key =
                KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| failed("CA key", e))?;
            let certificate = ca_params
                .self_signed(&key)
                .map_err(|e| failed("CA certificate", e))?;
            let der = certificate.der().to_vec();
            (key, der)
        }
    };
    // A reused CA's certificate was made with these same parameters: the
    // certificates issued now name its subject as their issuer (checked
    // below, with the keys).
    let issuer = Issuer::new(ca_params, &ca_key);

    let server_key =
        KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| failed("server key", e))?;
    let mut server_params = CertificateParams::new(vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ])
    .map_err(|e| failed("server certificate names", e))?;
    validity(&mut server_params);
    server_params.distinguished_name = name("localhost");
    server_params.is_ca = IsCa::ExplicitNoCa;
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = server_params
        .signed_by(&server_key, &issuer)
        .map_err(|e| failed("server certificate", e))?;

    let (client_key_der, client_der) = match reuse {
        Some(reused) => (
            read_tls_key("tls_identities.client_key_pem", &reused.client_key_pem)?,
            read_tls_certificate(
                "tls_identities.client_certificate_pem",
                &reused.client_certificate_pem,
            )?,
        ),
        None => {
            let client_key =
                KeyPair::generate_for(&PKCS_RSA_SHA256).map_err(|e| failed("client key", e))?;
            let mut client_params = CertificateParams::default();
            validity(&mut client_params);
            client_params.distinguished_name = name(mchid);
            client_params.is_ca = IsCa::ExplicitNoCa;
            client_params.key_usages = vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ];
            client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            let client_cert = client_params
                .signed_by(&client_key, &issuer)
                .map_err(|e| failed("client certificate", e))?;
            (client_key.serialize_der(), client_cert.der().to_vec())
        }
    };
    if reuse.is_some() {
        check_reused(
            mchid,
            &ca_key,
            &ca_der,
            server_cert.der(),
            &client_key_der,
            &client_der,
        )?;
    }
    let client_pkcs12 = pkcs12(&client_key_der, &client_der, &ca_der, mchid)?;

    Ok(IssuedTls {
        ca_pem: encode_pem("CERTIFICATE", &ca_der),
        ca_key_pem: encode_pem("PRIVATE KEY", &ca_key.serialize_der()),
        client_pem: encode_pem("CERTIFICATE", &client_der),
        client_key_pem: encode_pem("PRIVATE KEY", &client_key_der),
        client_pkcs12,
        material: TlsMaterial {
            ca_der,
            server_der: server_cert.der().to_vec(),
            server_key_der: server_key.serialize_der(),
        },
    })
}

/// The DER of a `PRIVATE KEY` PEM given in [`TlsIdentities`].
fn read_tls_key(what: &'static str, text: &str) -> Result<Vec<u8>, SandboxError> {
    let pem = pem::parse(text).map_err(|e| SandboxError::InvalidKey {
        what,
        reason: format!("not a PEM document: {e}"),
    })?;
    if pem.tag() != "PRIVATE KEY" {
        return Err(SandboxError::InvalidKey {
            what,
            reason: format!("expected a PRIVATE KEY (PKCS#8) PEM, found {}", pem.tag()),
        });
    }
    Ok(pem.into_contents())
}

/// The DER of a `CERTIFICATE` PEM given in [`TlsIdentities`].
fn read_tls_certificate(what: &'static str, text: &str) -> Result<Vec<u8>, SandboxError> {
    let pem = pem::parse(text).map_err(|e| SandboxError::InvalidConfig {
        what,
        reason: format!("not a PEM document: {e}"),
    })?;
    if pem.tag() != "CERTIFICATE" {
        return Err(SandboxError::InvalidConfig {
            what,
            reason: format!("expected a CERTIFICATE PEM, found {}", pem.tag()),
        });
    }
    Ok(pem.into_contents())
}

/// Checks reused TLS identities before the listener serves them: the CA
/// certificate is a CA, valid now, and certifies the CA key; the server
/// certificate just issued names it as issuer; the client certificate is
/// valid now, was issued by it to `mchid`, and certifies the client key.
/// Anything else would only show later, as handshakes that fail.
fn check_reused(
    mchid: &str,
    ca_key: &rcgen::KeyPair,
    ca_der: &[u8],
    server_der: &[u8],
    client_key_der: &[u8],
    client_der: &[u8],
) -> Result<(), SandboxError> {
    use rcgen::PublicKeyData as _;
    let invalid = |what: &'static str, reason: String| SandboxError::InvalidConfig { what, reason };
    let parse = |what: &'static str, der| {
        x509_parser::parse_x509_certificate(der)
            .map(|(_, certificate)| certificate)
            .map_err(|e| invalid(what, format!("not an X.509 certificate: {e}")))
    };
    let ca = parse("tls_identities.ca_certificate_pem", ca_der)?;
    let server = parse("tls_identities.ca_certificate_pem", server_der)?;
    let client = parse("tls_identities.client_certificate_pem", client_der)?;

    const CA: &str = "tls_identities.ca_certificate_pem";
    if !ca.is_ca() {
        return Err(invalid(CA, "not a CA certificate".to_owned()));
    }
    if !ca.validity().is_valid() {
        return Err(invalid(CA, "expired or not yet valid".to_owned()));
    }
    if ca.public_key().raw != ca_key.subject_public_key_info().as_slice() {
        return Err(invalid(
            CA,
            "does not certify tls_identities.ca_key_pem".to_owned(),
        ));
    }
    if server.issuer().as_raw() != ca.subject().as_raw() {
        return Err(invalid(
            CA,
            "its subject is not the sandbox CA's (`C=CN, O=wxpay sandbox, CN=wxpay sandbox CA`)"
                .to_owned(),
        ));
    }

    const CLIENT: &str = "tls_identities.client_certificate_pem";
    // Every sandbox CA has the same name: only the signature tells them apart.
    if client.issuer().as_raw() != ca.subject().as_raw()
        || client.verify_signature(Some(ca.public_key())).is_err()
    {
        return Err(invalid(CLIENT, "not issued by the CA".to_owned()));
    }
    if !client.validity().is_valid() {
        return Err(invalid(CLIENT, "expired or not yet valid".to_owned()));
    }
    let cn = client
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok());
    if cn != Some(mchid) {
        return Err(invalid(
            CLIENT,
            format!(
                "issued to `{}`, not to the merchant id `{mchid}`",
                cn.unwrap_or_default()
            ),
        ));
    }
    let client_key =
        rcgen::KeyPair::try_from(client_key_der).map_err(|e| SandboxError::InvalidKey {
            what: "tls_identities.client_key_pem",
            reason: format!("not a usable private key: {e}"),
        })?;
    let client_public = client_key.subject_public_key_info();
    if client.public_key().raw != client_public.as_slice() {
        return Err(invalid(
            CLIENT,
            "does not certify tls_identities.client_key_pem".to_owned(),
        ));
    }
    Ok(())
}

/// `apiclient_cert.p12`: the client key and its chain, under `password`.
fn pkcs12(
    key_der: &[u8],
    cert_der: &[u8],
    ca_der: &[u8],
    password: &str,
) -> Result<Vec<u8>, SandboxError> {
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    let failed = |error: p12_keystore::error::Error| SandboxError::Certificate {
        reason: format!("writing apiclient_cert.p12: {error}"),
    };
    let key = PrivateKey::from_der(key_der).map_err(failed)?;
    let chain = [
        Certificate::from_der(cert_der).map_err(failed)?,
        Certificate::from_der(ca_der).map_err(failed)?,
    ];
    let mut store = KeyStore::new();
    store.add_entry(
        "Tenpay Certificate",
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(b"apiclient".as_slice(), key, chain)),
    );
    store.writer(password).write().map_err(failed)
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
    fn the_apiv2_credentials_have_the_documented_shapes() {
        let (c, keys) = build(&SandboxConfig::default()).expect("credentials");
        assert_eq!(c.apiv2_key.len(), 32);
        assert!(c.apiv2_key.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(c.apiv2_key, c.apiv3_key);
        assert!(c.tls_ca_pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(
            c.client_key_pem
                .starts_with("-----BEGIN PRIVATE KEY-----\n")
        );
        let client_pem = pem::parse(&c.client_certificate_pem).expect("PEM");
        let (_, client) =
            x509_parser::parse_x509_certificate(client_pem.contents()).expect("X.509");
        let (_, ca) = x509_parser::parse_x509_certificate(&keys.tls.ca_der).expect("X.509");
        assert_eq!(client.issuer(), ca.subject());
        let cn = client
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok());
        assert_eq!(cn, Some(c.mchid.as_str()));
        // The PKCS#12 archive opens with the merchant id.
        let store = p12_keystore::KeyStore::from_pkcs12(
            &c.client_pkcs12,
            &c.mchid,
            p12_keystore::Pkcs12ImportPolicy::Relaxed,
        )
        .expect("the archive opens with the mchid");
        let (_, chain) = store.private_key_chain().expect("a key and its chain");
        assert_eq!(chain.certs()[0].as_der(), client_pem.contents());

        let config = SandboxConfig {
            apiv2_key: Some("short".to_owned()),
            ..SandboxConfig::default()
        };
        match build(&config) {
            Err(SandboxError::InvalidConfig { what, .. }) => assert_eq!(what, "apiv2_key"),
            other => panic!("unexpected {:?}", other.map(|(c, _)| c)),
        }
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
    fn reused_tls_identities_come_back_with_a_new_server_certificate() {
        let (first, first_keys) = build(&SandboxConfig::default()).expect("credentials");
        let config = SandboxConfig {
            mchid: Some(first.mchid.clone()),
            tls_identities: Some(first.tls_identities()),
            ..SandboxConfig::default()
        };
        let (again, keys) = build(&config).expect("credentials from reused identities");
        assert_eq!(again.tls_ca_pem, first.tls_ca_pem);
        assert_eq!(again.tls_ca_key_pem, first.tls_ca_key_pem);
        assert_eq!(again.client_certificate_pem, first.client_certificate_pem);
        assert_eq!(again.client_key_pem, first.client_key_pem);
        assert_eq!(keys.tls.ca_der, first_keys.tls.ca_der);
        // The listener's certificate is new, and chains to the same CA.
        assert_ne!(keys.tls.server_der, first_keys.tls.server_der);
        let (_, server) = x509_parser::parse_x509_certificate(&keys.tls.server_der).expect("X.509");
        let (_, ca) = x509_parser::parse_x509_certificate(&keys.tls.ca_der).expect("X.509");
        assert_eq!(server.issuer(), ca.subject());
        // The archive holds the reused certificate.
        let store = p12_keystore::KeyStore::from_pkcs12(
            &again.client_pkcs12,
            &again.mchid,
            p12_keystore::Pkcs12ImportPolicy::Relaxed,
        )
        .expect("the archive opens with the mchid");
        let (_, chain) = store.private_key_chain().expect("a key and its chain");
        let client_pem = pem::parse(&first.client_certificate_pem).expect("PEM");
        assert_eq!(chain.certs()[0].as_der(), client_pem.contents());
    }

    #[test]
    fn reused_tls_identities_that_do_not_fit_are_refused_by_name() {
        let (first, _) = build(&SandboxConfig::default()).expect("credentials");
        let (other, _) = build(&SandboxConfig::default()).expect("credentials");
        let refused = |mchid: &str, identities: TlsIdentities| {
            let config = SandboxConfig {
                mchid: Some(mchid.to_owned()),
                tls_identities: Some(identities),
                ..SandboxConfig::default()
            };
            match build(&config) {
                Err(SandboxError::InvalidConfig { what, reason })
                | Err(SandboxError::InvalidKey { what, reason }) => (what, reason),
                other => panic!("accepted: {:?}", other.map(|(c, _)| c)),
            }
        };
        let mine = || first.tls_identities();
        let (what, reason) = refused(
            &first.mchid,
            TlsIdentities {
                ca_key_pem: other.tls_ca_key_pem.clone(),
                ..mine()
            },
        );
        assert_eq!(what, "tls_identities.ca_certificate_pem");
        assert!(reason.contains("does not certify"), "{reason}");

        let (what, reason) = refused(
            &first.mchid,
            TlsIdentities {
                client_key_pem: other.client_key_pem.clone(),
                ..mine()
            },
        );
        assert_eq!(what, "tls_identities.client_certificate_pem");
        assert!(reason.contains("does not certify"), "{reason}");

        let (what, reason) = refused(
            &first.mchid,
            TlsIdentities {
                client_certificate_pem: other.client_certificate_pem.clone(),
                ..mine()
            },
        );
        assert_eq!(what, "tls_identities.client_certificate_pem");
        assert!(reason.contains("not issued by the CA"), "{reason}");

        let (what, reason) = refused("1900000001", mine());
        assert_eq!(what, "tls_identities.client_certificate_pem");
        assert!(reason.contains("1900000001"), "{reason}");

        let (what, reason) = refused(
            &first.mchid,
            TlsIdentities {
                ca_key_pem: "not a key".to_owned(),
                ..mine()
            },
        );
        assert_eq!(what, "tls_identities.ca_key_pem");
        assert!(reason.contains("PEM"), "{reason}");

        let (what, _) = refused(
            &first.mchid,
            TlsIdentities {
                ca_certificate_pem: first.client_certificate_pem.clone(),
                ..mine()
            },
        );
        assert_eq!(what, "tls_identities.ca_certificate_pem");
    }

    #[test]
    fn debug_redacts_secrets() {
        let (c, _) = build(&SandboxConfig::default()).expect("credentials");
        let shown = format!("{c:?}");
        assert!(!shown.contains("PRIVATE KEY"));
        assert!(!shown.contains(&c.apiv3_key));
        assert!(!shown.contains(&c.apiv2_key));
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
