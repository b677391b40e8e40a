//! PEM and key loading: `MerchantKey`, `VerifyingKey`,
//! `PlatformCertificate` and `ApiV3Key` from text the fuzzer wrote. The
//! first byte chooses how the rest is used: as PEM text (0), or as DER
//! that the target wraps in PEM armour of a given label (1–5), so that the
//! fuzzer works on the DER structure directly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wxpay_core::{ApiV3Key, MerchantKey, PlatformCertificate, VerifyingKey};
use wxpay_fuzz::pem;

const LABELS: [&str; 5] = [
    "PRIVATE KEY",
    "RSA PRIVATE KEY",
    "PUBLIC KEY",
    "RSA PUBLIC KEY",
    "CERTIFICATE",
];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = match usize::from(mode) % 6 {
        0 => String::from_utf8_lossy(rest).into_owned(),
        label => pem(LABELS[label - 1], rest),
    };
    if let Ok(key) = MerchantKey::from_pem(&text) {
        assert!(
            key.bits() >= 2048,
            "a short key loaded: {} bits",
            key.bits()
        );
        key.sign_sha256(b"message").expect("a loaded key signs");
    }
    if let Ok(key) = VerifyingKey::from_public_key_pem(&text) {
        assert!(
            key.bits() >= 2048,
            "a short key loaded: {} bits",
            key.bits()
        );
        let _ = key.verify_sha256(b"message", "c2lnbmF0dXJl");
    }
    if let Ok(certificate) = PlatformCertificate::from_pem(&text) {
        let _ = certificate.is_valid_at(1_700_000_000);
        assert!(certificate.verifying_key().bits() >= 2048);
    }
    let _ = ApiV3Key::new(rest);
});
