//! Shared fixtures of the fuzz targets: one RSA key pair and one APIv3 key,
//! made once per process, so that targets can sign what the fuzzer wrote
//! and reach the code behind signature checks.

use std::sync::OnceLock;

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderValue};
use wxpay_core::verification::{Verifier, verification_message};
use wxpay_core::{ApiV3Key, MerchantKey, VerifyingKey};

/// The serial the fixture key is configured under.
pub const SERIAL: &str = "PUB_KEY_ID_0114232134912410000000000000";
/// The fixed clock of the targets (Unix seconds).
pub const NOW: i64 = 1_700_000_000;
/// The fixture APIv3 key.
pub const APIV3_KEY: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";

/// The fixtures.
pub struct Fixtures {
    /// Signs as WeChat Pay would.
    pub signer: MerchantKey,
    /// Knows the signer's public key under [`SERIAL`].
    pub verifier: Verifier,
    /// The APIv3 key.
    pub apiv3: ApiV3Key,
    /// The signer's private key, PEM.
    pub private_pem: String,
    /// The signer's public key, PEM.
    pub public_pem: String,
}

/// The fixtures, made on first use.
pub fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
        let pkcs8 = pair.as_der().expect("PKCS#8");
        let spki: PublicKeyX509Der<'static> = pair.public_key().as_der().expect("SPKI");
        let private_pem = pem("PRIVATE KEY", pkcs8.as_ref());
        let public_pem = pem("PUBLIC KEY", spki.as_ref());
        let signer = MerchantKey::from_pem(&private_pem).expect("fixture key loads");
        let mut verifier = Verifier::new();
        verifier.add_public_key(
            SERIAL,
            VerifyingKey::from_public_key_pem(&public_pem).expect("fixture public key loads"),
        );
        Fixtures {
            signer,
            verifier,
            apiv3: ApiV3Key::new(APIV3_KEY).expect("32 bytes"),
            private_pem,
            public_pem,
        }
    })
}

/// PEM armour, 64 characters a line.
pub fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The five signature headers of `body`, validly signed by the fixture key
/// at [`NOW`].
pub fn signed_headers(body: &[u8]) -> HeaderMap {
    let timestamp = NOW.to_string();
    let nonce = "fuzznoncefuzznoncefuzznoncefuzzn";
    let signature = fixtures()
        .signer
        .sign_sha256(&verification_message(&timestamp, nonce, body))
        .expect("signing works");
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("wechatpay-timestamp", timestamp.as_str()),
        ("wechatpay-nonce", nonce),
        ("wechatpay-signature", signature.as_str()),
        ("wechatpay-serial", SERIAL),
        ("wechatpay-signature-type", "WECHATPAY2-SHA256-RSA2048"),
    ] {
        headers.insert(name, HeaderValue::from_str(value).expect("ASCII"));
    }
    headers
}

/// Splits fuzz input into `n` parts at 0xFF bytes (missing parts are empty).
pub fn split(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut parts: Vec<&[u8]> = data.splitn(n, |&b| b == 0xFF).collect();
    parts.resize(n, &[]);
    parts
}
