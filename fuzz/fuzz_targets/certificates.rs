//! Certificate download decoding: `decode_certificates` (the answer of
//! `GET /v3/certificates`) on (0) a body the fuzzer wrote, which must never
//! yield a certificate (it cannot forge the AES-GCM tag); (1) a listing the
//! target builds around a fuzzer-written serial, nonce, associated data and
//! certificate (DER it wraps in PEM armour, or PEM text), encrypted under
//! the fixture APIv3 key, to reach decryption and X.509 parsing: whatever
//! is accepted carries the serial it was listed under, is valid at the
//! clock given, and reads back the same from its own PEM; a flipped
//! ciphertext byte or a wrong algorithm is refused with its typed error.
//! Input: mode byte, then serial, nonce, associated data, certificate,
//! separated by 0xFF.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use wxpay_core::certificates::{CertificateError, decode_certificates};
use wxpay_core::{CryptoBackend, PlatformCertificate};
use wxpay_fuzz::{NOW, fixtures, pem, split};

/// A nonce of the right length, for when the fuzzer's is not.
const GOOD_NONCE: &str = "0123456789ab";

fn listing(entries: &[Value]) -> Vec<u8> {
    json!({ "data": entries }).to_string().into_bytes()
}

fn entry(
    serial: &str,
    algorithm: &str,
    nonce: &str,
    associated_data: &str,
    ciphertext: &str,
) -> Value {
    json!({
        "serial_no": serial,
        "effective_time": "2023-01-01T00:00:00+08:00",
        "expire_time": "2033-01-01T00:00:00+08:00",
        "encrypt_certificate": {
            "algorithm": algorithm,
            "nonce": nonce,
            "associated_data": associated_data,
            "ciphertext": ciphertext,
        }
    })
}

fn decode(body: &[u8]) -> Result<Vec<PlatformCertificate>, CertificateError> {
    decode_certificates(body, &fixtures().apiv3, CryptoBackend::default(), NOW)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let result = decode(rest);
        assert!(
            result.is_err(),
            "a certificate list the fuzzer wrote was accepted: {result:?}"
        );
        if serde_json::from_slice::<serde::de::IgnoredAny>(rest).is_err() {
            assert!(
                matches!(result, Err(CertificateError::Malformed(_))),
                "not JSON, yet {result:?}"
            );
        }
        return;
    }

    let parts = split(rest, 4);
    let serial = String::from_utf8_lossy(parts[0]).into_owned();
    let nonce = String::from_utf8_lossy(parts[1]).into_owned();
    let associated_data = String::from_utf8_lossy(parts[2]).into_owned();
    let plaintext = if mode & 2 == 0 {
        pem("CERTIFICATE", parts[3]).into_bytes()
    } else {
        parts[3].to_vec()
    };
    let apiv3 = &fixtures().apiv3;

    let Ok(ciphertext) = apiv3.encrypt(&nonce, &associated_data, &plaintext) else {
        // A nonce that is not 12 bytes: listed as it is, with a ciphertext
        // made under another nonce, it can only be refused.
        let ciphertext = apiv3
            .encrypt(GOOD_NONCE, &associated_data, &plaintext)
            .expect("encryption works");
        let body = listing(&[entry(
            &serial,
            "AEAD_AES_256_GCM",
            &nonce,
            &associated_data,
            &ciphertext,
        )]);
        let result = decode(&body);
        assert!(
            matches!(result, Err(CertificateError::Decrypt { .. })),
            "a {}-byte nonce: {result:?}",
            nonce.len()
        );
        return;
    };

    let body = listing(&[entry(
        &serial,
        "AEAD_AES_256_GCM",
        &nonce,
        &associated_data,
        &ciphertext,
    )]);
    match decode(&body) {
        Ok(certificates) => {
            assert_eq!(certificates.len(), 1);
            let certificate = &certificates[0];
            assert!(
                certificate.serial().eq_ignore_ascii_case(&serial),
                "listed as {serial:?}, carries {:?}",
                certificate.serial()
            );
            assert!(certificate.is_valid_at(NOW));
            assert!(certificate.not_before() <= certificate.not_after());
            let again = PlatformCertificate::from_pem(certificate.pem())
                .expect("an accepted certificate's own PEM loads");
            assert_eq!(again.serial(), certificate.serial());
            assert_eq!(again.not_before(), certificate.not_before());
            assert_eq!(again.not_after(), certificate.not_after());
            assert_eq!(again.pem(), certificate.pem());

            // The same entry under another algorithm name is refused.
            let renamed = listing(&[entry(
                &serial,
                "AEAD_AES_128_GCM",
                &nonce,
                &associated_data,
                &ciphertext,
            )]);
            assert!(matches!(
                decode(&renamed),
                Err(CertificateError::UnsupportedAlgorithm { .. })
            ));
        }
        Err(
            CertificateError::Certificate { .. }
            | CertificateError::SerialMismatch { .. }
            | CertificateError::NoneValid,
        ) => {}
        Err(other) => panic!("a validly encrypted entry failed as {other:?}"),
    }

    // Any flipped byte of the sealed data fails the tag.
    let mut sealed = STANDARD.decode(&ciphertext).expect("our own base64");
    let at = usize::from(mode >> 2) % sealed.len();
    sealed[at] ^= 0x20;
    let altered = STANDARD.encode(&sealed);
    let body = listing(&[entry(
        &serial,
        "AEAD_AES_256_GCM",
        &nonce,
        &associated_data,
        &altered,
    )]);
    let result = decode(&body);
    assert!(
        matches!(result, Err(CertificateError::Decrypt { .. })),
        "an altered ciphertext: {result:?}"
    );
});
