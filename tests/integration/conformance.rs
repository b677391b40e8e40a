//! Known-answer conformance of the crypto layer against the shared vectors
//! (`../shared/vectors`: golden.json and keys/), on every compiled backend.
//!
//! The vectors are third-party data kept outside the project: when the folder
//! is absent, every test says so loudly on stderr and passes without checking.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use wxpay::{
    ApiV3Key, CryptoBackend, CryptoError, MerchantKey, PlatformCertificate, SignatureError,
    VerifyingKey,
};

const PLATFORM_CERTIFICATE_SERIAL: &str = "440024045C4A427599D09BB4E3DE0279F2E813FD";
const MERCHANT_CERTIFICATE_SERIAL: &str = "5F1C72E2A8931B72A2E13AF8DEE92471EB397115";

struct Vectors {
    dir: PathBuf,
    golden: Value,
}

impl Vectors {
    /// The vectors, or `None` (after a loud notice) when they are absent.
    /// `WXPAY_VECTORS_DIR` overrides the folder.
    fn load(test: &str) -> Option<Self> {
        let dir = std::env::var_os("WXPAY_VECTORS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors"));
        let golden = dir.join("golden.json");
        if !golden.is_file() {
            // Straight to the process's stderr, past the test harness's capture.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: {} not found; conformance vectors not checked",
                dir.display()
            );
            return None;
        }
        let text = std::fs::read_to_string(&golden).expect("read golden.json");
        let golden = serde_json::from_str(&text).expect("golden.json is JSON");
        Some(Self { dir, golden })
    }

    fn file(&self, name: &str) -> String {
        let path = self.dir.join("keys").join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    fn cases(&self, section: &str) -> &[Value] {
        let cases = self.golden[section]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        assert!(!cases.is_empty(), "golden.json has no `{section}` cases");
        cases
    }
}

fn field<'a>(case: &'a Value, name: &str) -> &'a str {
    case[name]
        .as_str()
        .unwrap_or_else(|| panic!("case field `{name}` missing: {case}"))
}

#[test]
fn request_signatures_match_byte_for_byte() {
    let Some(vectors) = Vectors::load("request_signatures_match_byte_for_byte") else {
        return;
    };
    let pem = vectors.file("merchant_private_key.pem");
    for &backend in CryptoBackend::available() {
        let key = MerchantKey::from_pem_with(&pem, backend).expect("merchant key");
        for case in vectors.cases("requests") {
            let built = format!(
                "{}\n{}\n{}\n{}\n{}\n",
                field(case, "method"),
                field(case, "uri"),
                field(case, "timestamp"),
                field(case, "nonce"),
                field(case, "body"),
            );
            assert_eq!(built, field(case, "message"), "signing message of {case}");
            let signature = key.sign_sha256(built.as_bytes()).expect("sign");
            assert_eq!(
                signature,
                field(case, "signature"),
                "{} on {}",
                backend,
                field(case, "uri")
            );
        }
    }
}

#[test]
fn merchant_certificate_matches_merchant_key() {
    let Some(vectors) = Vectors::load("merchant_certificate_matches_merchant_key") else {
        return;
    };
    for &backend in CryptoBackend::available() {
        let cert =
            PlatformCertificate::from_pem_with(&vectors.file("merchant_certificate.pem"), backend)
                .expect("merchant certificate");
        assert_eq!(cert.serial(), MERCHANT_CERTIFICATE_SERIAL);
        assert_eq!(
            vectors.golden["merchant"]["serial"].as_str(),
            Some(cert.serial())
        );
        for case in vectors.cases("requests") {
            let message = field(case, "message").as_bytes();
            assert_eq!(
                cert.verifying_key()
                    .verify_sha256(message, field(case, "signature")),
                Ok(())
            );
        }
    }
}

/// Rebuilds a response's message with one byte of one part flipped.
fn flipped(timestamp: &[u8], nonce: &[u8], body: &[u8], part: usize, at: usize) -> Vec<u8> {
    let mut parts = [timestamp.to_vec(), nonce.to_vec(), body.to_vec()];
    parts[part][at] ^= 0x01;
    let mut message = Vec::new();
    for line in &parts {
        message.extend_from_slice(line);
        message.push(b'\n');
    }
    message
}

#[test]
fn response_signatures_verify_and_tampering_fails() {
    let Some(vectors) = Vectors::load("response_signatures_verify_and_tampering_fails") else {
        return;
    };
    let public_pem = vectors.file("platform_public_key.pem");
    let cert_pem = vectors.file("platform_certificate.pem");
    for &backend in CryptoBackend::available() {
        let public =
            VerifyingKey::from_public_key_pem_with(&public_pem, backend).expect("public key");
        let cert = PlatformCertificate::from_pem_with(&cert_pem, backend).expect("certificate");
        assert_eq!(public.backend(), backend);
        assert_eq!(cert.verifying_key().backend(), backend);
        for key in [&public, cert.verifying_key()] {
            for case in vectors.cases("responses") {
                let (timestamp, nonce, body) = (
                    field(case, "timestamp"),
                    field(case, "nonce"),
                    field(case, "body"),
                );
                let message = format!("{timestamp}\n{nonce}\n{body}\n");
                assert_eq!(message, field(case, "message"));
                let signature = field(case, "signature");
                assert_eq!(
                    key.verify_sha256(message.as_bytes(), signature),
                    Ok(()),
                    "{backend}: {case}"
                );

                let (timestamp, nonce, body) =
                    (timestamp.as_bytes(), nonce.as_bytes(), body.as_bytes());
                let mut tampered = Vec::new();
                tampered
                    .extend((0..timestamp.len()).map(|at| flipped(timestamp, nonce, body, 0, at)));
                tampered.extend((0..nonce.len()).map(|at| flipped(timestamp, nonce, body, 1, at)));
                let mut body_positions: Vec<usize> = (0..body.len()).step_by(7).collect();
                body_positions.extend(body.len().checked_sub(1));
                tampered.extend(
                    body_positions
                        .into_iter()
                        .map(|at| flipped(timestamp, nonce, body, 2, at)),
                );
                // The body without its final line feed, and with an extra one.
                tampered.push(message.as_bytes()[..message.len() - 1].to_vec());
                tampered.push(format!("{message}\n").into_bytes());
                for bad in &tampered {
                    assert_eq!(
                        key.verify_sha256(bad, signature),
                        Err(SignatureError::Mismatch),
                        "{backend}: {}",
                        String::from_utf8_lossy(bad)
                    );
                }

                let probe = format!("WECHATPAY/SIGNTEST/{signature}");
                assert_eq!(
                    key.verify_sha256(message.as_bytes(), &probe),
                    Err(SignatureError::Probe)
                );
                for garbage in ["", "garbage!", "@@@@", "QUJD", &signature[4..]] {
                    assert_eq!(
                        key.verify_sha256(message.as_bytes(), garbage),
                        Err(SignatureError::Malformed),
                        "{backend}: {garbage}"
                    );
                }
                let mut bytes = STANDARD.decode(signature).expect("base64");
                bytes[0] ^= 0x80;
                assert_eq!(
                    key.verify_sha256(message.as_bytes(), &STANDARD.encode(&bytes)),
                    Err(SignatureError::Mismatch)
                );
            }
        }
        // The merchant's key did not sign WeChat Pay's answers.
        let merchant_cert =
            PlatformCertificate::from_pem_with(&vectors.file("merchant_certificate.pem"), backend)
                .expect("merchant certificate");
        let case = &vectors.cases("responses")[0];
        assert_eq!(
            merchant_cert
                .verifying_key()
                .verify_sha256(field(case, "message").as_bytes(), field(case, "signature")),
            Err(SignatureError::Mismatch)
        );
    }
}

#[test]
fn aead_vectors_decrypt_and_encrypt() {
    let Some(vectors) = Vectors::load("aead_vectors_decrypt_and_encrypt") else {
        return;
    };
    for &backend in CryptoBackend::available() {
        for case in vectors.cases("aead") {
            let key = ApiV3Key::new(field(case, "key"))
                .expect("APIv3 key")
                .with_backend(backend);
            let (nonce, aad, plaintext, ciphertext) = (
                field(case, "nonce"),
                field(case, "associated_data"),
                field(case, "plaintext"),
                field(case, "ciphertext"),
            );
            let opened = key.decrypt(nonce, aad, ciphertext).expect("decrypt");
            assert_eq!(opened.as_slice(), plaintext.as_bytes(), "{backend}: {case}");
            assert_eq!(
                key.encrypt(nonce, aad, plaintext.as_bytes()).as_deref(),
                Ok(ciphertext)
            );

            let mut bytes = STANDARD.decode(ciphertext).expect("base64");
            for at in [0, bytes.len() / 2, bytes.len() - 1] {
                bytes[at] ^= 0x01;
                let altered = STANDARD.encode(&bytes);
                assert!(
                    matches!(
                        key.decrypt(nonce, aad, &altered),
                        Err(CryptoError::Decrypt { .. })
                    ),
                    "{backend}: flipped byte {at} of {case}"
                );
                bytes[at] ^= 0x01;
            }
            assert!(matches!(
                key.decrypt(nonce, &format!("{aad}x"), ciphertext),
                Err(CryptoError::Decrypt { .. })
            ));
            let other_nonce: String = nonce.chars().rev().collect();
            if other_nonce != nonce {
                assert!(matches!(
                    key.decrypt(&other_nonce, aad, ciphertext),
                    Err(CryptoError::Decrypt { .. })
                ));
            }
            let mut wrong = field(case, "key").as_bytes().to_vec();
            wrong[0] ^= 0x01;
            let wrong = ApiV3Key::new(&wrong)
                .expect("32 bytes")
                .with_backend(backend);
            assert!(matches!(
                wrong.decrypt(nonce, aad, ciphertext),
                Err(CryptoError::Decrypt { .. })
            ));
            assert!(matches!(
                key.decrypt(&nonce[1..], aad, ciphertext),
                Err(CryptoError::BadNonce { len: 11 })
            ));
        }
    }
}

#[test]
fn oaep_vectors_decrypt_and_round_trip() {
    let Some(vectors) = Vectors::load("oaep_vectors_decrypt_and_round_trip") else {
        return;
    };
    let private_pem = vectors.file("platform_private_key.pem");
    let public_pem = vectors.file("platform_public_key.pem");
    let cert_pem = vectors.file("platform_certificate.pem");
    for &backend in CryptoBackend::available() {
        let private =
            MerchantKey::from_pem_with(&private_pem, backend).expect("platform private key");
        let public =
            VerifyingKey::from_public_key_pem_with(&public_pem, backend).expect("public key");
        let cert = PlatformCertificate::from_pem_with(&cert_pem, backend).expect("certificate");
        for case in vectors.cases("oaep") {
            let plaintext = field(case, "plaintext");
            let opened = private
                .decrypt_oaep(field(case, "ciphertext"))
                .expect("decrypt");
            assert_eq!(opened.as_slice(), plaintext.as_bytes(), "{backend}: {case}");
            for key in [&public, cert.verifying_key()] {
                let sealed = key.encrypt_oaep(plaintext.as_bytes()).expect("encrypt");
                assert_eq!(
                    private.decrypt_oaep(&sealed).expect("decrypt").as_slice(),
                    plaintext.as_bytes()
                );
            }
            // The merchant key cannot open what was encrypted for the platform.
            let merchant =
                MerchantKey::from_pem_with(&vectors.file("merchant_private_key.pem"), backend)
                    .expect("merchant key");
            assert!(matches!(
                merchant.decrypt_oaep(field(case, "ciphertext")),
                Err(CryptoError::Decrypt { .. })
            ));
        }
    }
}

/// Extracts the PKCS#1 RSAPrivateKey from a PKCS#8 PEM and re-wraps it as an
/// `RSA PRIVATE KEY` block: PrivateKeyInfo ::= SEQUENCE { version,
/// algorithm, privateKey OCTET STRING (the PKCS#1 key) }.
fn pkcs8_to_pkcs1_pem(pkcs8_pem: &str) -> String {
    fn element(input: &[u8]) -> (u8, &[u8], &[u8]) {
        let (tag, first) = (input[0], input[1]);
        let (len, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let count = usize::from(first & 0x7f);
            (
                input[2..2 + count]
                    .iter()
                    .fold(0, |len, &b| (len << 8) | usize::from(b)),
                2 + count,
            )
        };
        (tag, &input[header..header + len], &input[header + len..])
    }
    let body: String = pkcs8_pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = STANDARD.decode(body).expect("PEM body");
    let (tag, info, _) = element(&der);
    assert_eq!(tag, 0x30);
    let (_, _version, rest) = element(info);
    let (_, _algorithm, rest) = element(rest);
    let (tag, pkcs1, _) = element(rest);
    assert_eq!(tag, 0x04, "privateKey OCTET STRING");
    let encoded = STANDARD.encode(pkcs1);
    let mut pem = String::from("-----BEGIN RSA PRIVATE KEY-----\n");
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END RSA PRIVATE KEY-----\n");
    pem
}

#[test]
fn pkcs1_merchant_key_signs_identically() {
    let Some(vectors) = Vectors::load("pkcs1_merchant_key_signs_identically") else {
        return;
    };
    let pkcs8 = vectors.file("merchant_private_key.pem");
    let pkcs1 = pkcs8_to_pkcs1_pem(&pkcs8);
    assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    for &backend in CryptoBackend::available() {
        let key = MerchantKey::from_pem_with(&pkcs1, backend).expect("PKCS#1 key");
        for case in vectors.cases("requests") {
            let signature = key
                .sign_sha256(field(case, "message").as_bytes())
                .expect("sign");
            assert_eq!(signature, field(case, "signature"), "{backend}: PKCS#1");
        }
    }
}

#[test]
fn certificates_parse() {
    let Some(vectors) = Vectors::load("certificates_parse") else {
        return;
    };
    for &backend in CryptoBackend::available() {
        let platform =
            PlatformCertificate::from_pem_with(&vectors.file("platform_certificate.pem"), backend)
                .expect("platform certificate");
        assert_eq!(platform.serial(), PLATFORM_CERTIFICATE_SERIAL);
        assert!(platform.not_before() < platform.not_after());
        assert!(platform.is_valid_at(platform.not_before()));
        assert!(!platform.is_valid_at(platform.not_after() + 1));
        assert!(platform.pem().starts_with("-----BEGIN CERTIFICATE-----\n"));
        let again =
            PlatformCertificate::from_pem_with(platform.pem(), backend).expect("re-encoded PEM");
        assert_eq!(again.serial(), PLATFORM_CERTIFICATE_SERIAL);
        assert!(!format!("{platform:?}").contains("-----"));

        let merchant =
            PlatformCertificate::from_pem_with(&vectors.file("merchant_certificate.pem"), backend)
                .expect("merchant certificate");
        assert_eq!(merchant.serial(), MERCHANT_CERTIFICATE_SERIAL);
    }
}
