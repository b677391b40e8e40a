//! Unit tests of the key types on every compiled backend, with keys generated
//! at test time (the conformance vectors are checked in `tests/integration/conformance.rs`).

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::*;
use crate::crypto::CryptoBackend;

/// One PEM block, `\n` line ends.
fn encode_pem(label: &str, der: &[u8]) -> String {
    super::encoding::encode_pem(label, der).unwrap()
}

/// An RSA-2048 key pair made for the tests.
struct TestRsa {
    /// PKCS#8 PrivateKeyInfo.
    pkcs8: Zeroizing<Vec<u8>>,
    /// SubjectPublicKeyInfo.
    spki: Vec<u8>,
}

impl TestRsa {
    fn private_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(encode_pem("PRIVATE KEY", &self.pkcs8))
    }

    fn public_pem(&self) -> String {
        encode_pem("PUBLIC KEY", &self.spki)
    }

    /// The PKCS#1 RSAPrivateKey inside the PKCS#8 wrapper.
    fn pkcs1(&self) -> Zeroizing<Vec<u8>> {
        let (_, contents, _) = tlv(&self.pkcs8);
        let (_, _version, rest) = tlv(contents);
        let (_, _algorithm, rest) = tlv(rest);
        let (tag, pkcs1, _) = tlv(rest);
        assert_eq!(tag, 0x04);
        Zeroizing::new(pkcs1.to_vec())
    }

    /// The PKCS#1 RSAPublicKey inside the SubjectPublicKeyInfo.
    fn pkcs1_public(&self) -> Vec<u8> {
        let (_, contents, _) = tlv(&self.spki);
        let (_, _algorithm, rest) = tlv(contents);
        let (tag, bits, _) = tlv(rest);
        assert_eq!(tag, 0x03);
        bits[1..].to_vec()
    }
}

/// Splits one DER element: tag, contents, rest (test inputs are well formed).
fn tlv(input: &[u8]) -> (u8, &[u8], &[u8]) {
    let tag = input[0];
    let (len, header) = match input[1] {
        short @ 0..=0x7f => (usize::from(short), 2),
        long => {
            let count = usize::from(long & 0x7f);
            let len = input[2..2 + count]
                .iter()
                .fold(0, |len, &b| (len << 8) | usize::from(b));
            (len, 2 + count)
        }
    };
    (tag, &input[header..header + len], &input[header + len..])
}

/// Encodes one DER element.
fn der(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match contents.len() {
        len @ 0..=0x7f => out.push(len as u8),
        len @ 0x80..=0xff => out.extend_from_slice(&[0x81, len as u8]),
        len => out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]),
    }
    out.extend_from_slice(contents);
    out
}

#[cfg(feature = "aws-lc")]
fn generate() -> TestRsa {
    use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    use aws_lc_rs::signature::KeyPair as _;
    let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
    let pkcs8 = Zeroizing::new(pair.as_der().expect("PKCS#8").as_ref().to_vec());
    let spki: PublicKeyX509Der<'static> = pair.public_key().as_der().expect("SPKI");
    TestRsa {
        pkcs8,
        spki: spki.as_ref().to_vec(),
    }
}

#[cfg(not(feature = "aws-lc"))]
fn generate() -> TestRsa {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
    /// rand 0.9's generator through the rand_core 0.10 traits `rsa` takes.
    struct TestRng;
    impl rsa::rand_core::TryRng for TestRng {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(rand::random())
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Ok(rand::random())
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            rand::fill(dst);
            Ok(())
        }
    }
    impl rsa::rand_core::TryCryptoRng for TestRng {}
    let key = rsa::PrivateKey::new(&mut TestRng, 2048).expect("RSA key generation");
    let pkcs8 = key.to_pkcs8_der().expect("PKCS#8").to_bytes();
    let spki = key
        .to_public_key()
        .to_public_key_der()
        .expect("SPKI")
        .into_vec();
    TestRsa { pkcs8, spki }
}

/// Two distinct key pairs, made once per test run.
fn keys() -> &'static [TestRsa; 2] {
    static KEYS: OnceLock<[TestRsa; 2]> = OnceLock::new();
    KEYS.get_or_init(|| [generate(), generate()])
}

/// A certificate carrying `spki`, signed by nobody (the signature is not
/// checked when loading).
fn certificate(spki: &[u8], serial: &[u8]) -> String {
    const SHA256_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    let signature_algorithm = der(0x30, &[der(0x06, SHA256_WITH_RSA), der(0x05, &[])].concat());
    let common_name = der(
        0x30,
        &[der(0x06, &[0x55, 0x04, 0x03]), der(0x0c, b"Test")].concat(),
    );
    let name = der(0x30, &der(0x31, &common_name));
    let validity = der(
        0x30,
        &[der(0x17, b"250101000000Z"), der(0x17, b"350101000000Z")].concat(),
    );
    let tbs = der(
        0x30,
        &[
            der(0xa0, &der(0x02, &[2])),
            der(0x02, serial),
            signature_algorithm.clone(),
            name.clone(),
            validity,
            name,
            spki.to_vec(),
        ]
        .concat(),
    );
    let cert = der(
        0x30,
        &[tbs, signature_algorithm, der(0x03, &[0, 1, 2, 3])].concat(),
    );
    encode_pem("CERTIFICATE", &cert)
}

const API_V3_KEY: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";

fn backends() -> &'static [CryptoBackend] {
    CryptoBackend::available()
}

#[test]
fn key_types_are_send_sync_clone() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<MerchantKey>();
    check::<VerifyingKey>();
    check::<PlatformCertificate>();
    check::<ApiV3Key>();
    check_error::<KeyError>();
    check_error::<CryptoError>();
    check_error::<SignatureError>();
    fn check_error<E: std::error::Error + Send + Sync + 'static>() {}
}

#[test]
fn debug_never_shows_key_material() {
    let key = &keys()[0];
    let private_pem = key.private_pem();
    let public_pem = key.public_pem();
    let cert_pem = certificate(&key.spki, &[0x01, 0x02]);
    let secrets: Vec<String> = vec![
        private_pem.lines().nth(1).unwrap_or_default().to_owned(),
        public_pem.lines().nth(1).unwrap_or_default().to_owned(),
        cert_pem.lines().nth(1).unwrap_or_default().to_owned(),
        API_V3_KEY.to_owned(),
        API_V3_KEY[..8].to_owned(),
        STANDARD
            .encode(&key.pkcs8[..])
            .chars()
            .skip(40)
            .take(16)
            .collect(),
        format!("{:?}", &API_V3_KEY.as_bytes()[..4])
            .trim_matches(['[', ']'])
            .to_owned(),
    ];
    for &backend in backends() {
        let outputs = [
            format!(
                "{:?}",
                MerchantKey::from_pem_with(&private_pem, backend).unwrap()
            ),
            format!(
                "{:?}",
                VerifyingKey::from_public_key_pem_with(&public_pem, backend).unwrap()
            ),
            format!(
                "{:?}",
                PlatformCertificate::from_pem_with(&cert_pem, backend).unwrap()
            ),
            format!(
                "{:?}",
                ApiV3Key::new(API_V3_KEY).unwrap().with_backend(backend)
            ),
            format!(
                "{:#?}",
                ApiV3Key::new(API_V3_KEY).unwrap().with_backend(backend)
            ),
        ];
        for output in &outputs {
            assert!(!output.contains("-----"), "{output}");
            assert!(!output.contains("MII"), "{output}");
            for secret in &secrets {
                assert!(!output.contains(secret.as_str()), "{output} shows {secret}");
            }
        }
        assert_eq!(
            outputs[0],
            format!("MerchantKey {{ backend: {backend:?}, bits: 2048 }}")
        );
        assert_eq!(
            outputs[1],
            format!("VerifyingKey {{ backend: {backend:?}, bits: 2048 }}")
        );
        assert!(outputs[3].contains("<redacted>"), "{}", outputs[3]);
    }
}

#[test]
fn sign_and_verify_on_every_backend() {
    let key = &keys()[0];
    let message = b"POST\n/v3/pay/transactions/jsapi\n1700000000\nNONCE\n{}\n";
    let mut signatures = Vec::new();
    for &signer in backends() {
        let merchant = MerchantKey::from_pem_with(&key.private_pem(), signer).unwrap();
        assert_eq!(merchant.backend(), signer);
        assert_eq!(merchant.bits(), 2048);
        let signature = merchant.sign_sha256(message).unwrap();
        assert_eq!(STANDARD.decode(&signature).unwrap().len(), 256);
        for &verifier in backends() {
            let public =
                VerifyingKey::from_public_key_pem_with(&key.public_pem(), verifier).unwrap();
            assert_eq!(public.verify_sha256(message, &signature), Ok(()));
            assert_eq!(
                public.verify_sha256(b"another message", &signature),
                Err(SignatureError::Mismatch)
            );
        }
        signatures.push(signature);
    }
    // RSASSA-PKCS1-v1_5 is deterministic: every backend signs alike.
    assert!(signatures.windows(2).all(|pair| pair[0] == pair[1]));
}

#[test]
fn verify_classifies_bad_signatures() {
    let key = &keys()[0];
    let message = b"1554209980\nnonce\n{}\n";
    for &backend in backends() {
        let merchant = MerchantKey::from_pem_with(&key.private_pem(), backend).unwrap();
        let public = VerifyingKey::from_public_key_pem_with(&key.public_pem(), backend).unwrap();
        let signature = merchant.sign_sha256(message).unwrap();
        let probe = format!("WECHATPAY/SIGNTEST/{signature}");
        assert_eq!(
            public.verify_sha256(message, &probe),
            Err(SignatureError::Probe)
        );
        assert_eq!(
            public.verify_sha256(message, "WECHATPAY/SIGNTEST/"),
            Err(SignatureError::Probe)
        );
        for malformed in [
            "",
            "!!!",
            "not base64 at all",
            "AAAA",
            &signature[..signature.len() - 4],
        ] {
            assert_eq!(
                public.verify_sha256(message, malformed),
                Err(SignatureError::Malformed),
                "{malformed}"
            );
        }
        let mut bytes = STANDARD.decode(&signature).unwrap();
        bytes[100] ^= 1;
        assert_eq!(
            public.verify_sha256(message, &STANDARD.encode(&bytes)),
            Err(SignatureError::Mismatch)
        );
        bytes.push(0);
        assert_eq!(
            public.verify_sha256(message, &STANDARD.encode(&bytes)),
            Err(SignatureError::Malformed)
        );
        // Someone else's key.
        let other =
            VerifyingKey::from_public_key_pem_with(&keys()[1].public_pem(), backend).unwrap();
        assert_eq!(
            other.verify_sha256(message, &signature),
            Err(SignatureError::Mismatch)
        );
    }
}

#[test]
fn pkcs1_keys_load_and_sign_alike() {
    let key = &keys()[0];
    let pkcs1_pem = Zeroizing::new(encode_pem("RSA PRIVATE KEY", &key.pkcs1()));
    let pkcs1_public_pem = encode_pem("RSA PUBLIC KEY", &key.pkcs1_public());
    let message = b"GET\n/v3/certificates\n1\nN\n\n";
    for &backend in backends() {
        let pkcs8 = MerchantKey::from_pem_with(&key.private_pem(), backend).unwrap();
        let pkcs1 = MerchantKey::from_pem_with(&pkcs1_pem, backend).unwrap();
        let signature = pkcs1.sign_sha256(message).unwrap();
        assert_eq!(signature, pkcs8.sign_sha256(message).unwrap());
        let public = VerifyingKey::from_public_key_pem_with(&pkcs1_public_pem, backend).unwrap();
        assert_eq!(public.verify_sha256(message, &signature), Ok(()));
        let ciphertext = public.encrypt_oaep(b"13800138000").unwrap();
        assert_eq!(
            pkcs1.decrypt_oaep(&ciphertext).unwrap().as_slice(),
            b"13800138000"
        );
    }
}

/// PKCS#1 as the `rsa` crate itself encodes it.
#[cfg(feature = "rust-crypto")]
#[test]
fn pkcs1_reencoded_by_the_rsa_crate() {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let key = &keys()[0];
    let parsed = rsa::PrivateKey::from_pkcs8_der(&key.pkcs8).unwrap();
    let pkcs1_pem = parsed.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    assert!(pkcs1_pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let message = b"message";
    for &backend in backends() {
        let pkcs1 = MerchantKey::from_pem_with(&pkcs1_pem, backend).unwrap();
        let pkcs8 = MerchantKey::from_pem_with(&key.private_pem(), backend).unwrap();
        assert_eq!(
            pkcs1.sign_sha256(message).unwrap(),
            pkcs8.sign_sha256(message).unwrap()
        );
    }
}

#[test]
fn oaep_round_trip_and_errors() {
    let key = &keys()[0];
    for &encrypter in backends() {
        let public = VerifyingKey::from_public_key_pem_with(&key.public_pem(), encrypter).unwrap();
        let first = public.encrypt_oaep("张三".as_bytes()).unwrap();
        let second = public.encrypt_oaep("张三".as_bytes()).unwrap();
        assert_ne!(first, second, "OAEP is randomized");
        assert!(public.encrypt_oaep(&[7; 214]).is_ok());
        assert!(matches!(
            public.encrypt_oaep(&[7; 215]),
            Err(CryptoError::Encrypt { .. })
        ));
        for &decrypter in backends() {
            let merchant = MerchantKey::from_pem_with(&key.private_pem(), decrypter).unwrap();
            assert_eq!(
                merchant.decrypt_oaep(&first).unwrap().as_slice(),
                "张三".as_bytes()
            );
            assert_eq!(
                merchant.decrypt_oaep(&second).unwrap().as_slice(),
                "张三".as_bytes()
            );
            let empty = public.encrypt_oaep(b"").unwrap();
            assert!(merchant.decrypt_oaep(&empty).unwrap().is_empty());
            assert!(matches!(
                merchant.decrypt_oaep("not base64!"),
                Err(CryptoError::BadBase64 { .. })
            ));
            for bad in ["", "AAAA", &first[..first.len() - 4]] {
                assert!(
                    matches!(merchant.decrypt_oaep(bad), Err(CryptoError::Decrypt { .. })),
                    "{bad}"
                );
            }
            let mut bytes = STANDARD.decode(&first).unwrap();
            bytes[0] ^= 0x40;
            let error = merchant.decrypt_oaep(&STANDARD.encode(&bytes)).unwrap_err();
            assert!(matches!(error, CryptoError::Decrypt { .. }));
            assert!(
                error.to_string().contains("merchant private key"),
                "{error}"
            );
            let other = MerchantKey::from_pem_with(&keys()[1].private_pem(), decrypter).unwrap();
            assert!(matches!(
                other.decrypt_oaep(&first),
                Err(CryptoError::Decrypt { .. })
            ));
        }
    }
}

#[test]
fn aead_round_trip_and_errors() {
    let mut ciphertexts = Vec::new();
    for &backend in backends() {
        let key = ApiV3Key::new(API_V3_KEY).unwrap().with_backend(backend);
        assert_eq!(key.backend(), backend);
        let sealed = key
            .encrypt("0123456789ab", "transaction", b"{\"a\":1}")
            .unwrap();
        assert_eq!(
            key.decrypt("0123456789ab", "transaction", &sealed)
                .unwrap()
                .as_slice(),
            b"{\"a\":1}"
        );
        let empty = key.encrypt("0123456789ab", "", b"").unwrap();
        assert_eq!(STANDARD.decode(&empty).unwrap().len(), 16);
        assert!(key.decrypt("0123456789ab", "", &empty).unwrap().is_empty());

        for nonce in ["", "01234567890", "0123456789abc", "一二三"] {
            assert_eq!(
                key.decrypt(nonce, "transaction", &sealed),
                Err(CryptoError::BadNonce { len: nonce.len() })
            );
            assert_eq!(
                key.encrypt(nonce, "", b"x"),
                Err(CryptoError::BadNonce { len: nonce.len() })
            );
        }
        assert!(matches!(
            key.decrypt("0123456789ab", "transaction", "%%%"),
            Err(CryptoError::BadBase64 { .. })
        ));
        assert!(matches!(
            key.decrypt("0123456789ab", "transaction", ""),
            Err(CryptoError::Truncated {
                len: 0,
                min: 16,
                ..
            })
        ));
        assert!(matches!(
            key.decrypt("0123456789ab", "transaction", "AAAAAAAAAAAAAAAAAAAA"),
            Err(CryptoError::Truncated { len: 15, .. })
        ));
        let decrypt_failed = |result: Result<Zeroizing<Vec<u8>>, CryptoError>| {
            matches!(
                result,
                Err(CryptoError::Decrypt {
                    algorithm: "AEAD_AES_256_GCM",
                    ..
                })
            )
        };
        assert!(decrypt_failed(key.decrypt(
            "0123456789ab",
            "certificate",
            &sealed
        )));
        assert!(decrypt_failed(key.decrypt(
            "0123456789aX",
            "transaction",
            &sealed
        )));
        let mut bytes = STANDARD.decode(&sealed).unwrap();
        for position in 0..bytes.len() {
            bytes[position] ^= 0x01;
            assert!(decrypt_failed(key.decrypt(
                "0123456789ab",
                "transaction",
                &STANDARD.encode(&bytes)
            )));
            bytes[position] ^= 0x01;
        }
        let truncated = STANDARD.encode(&bytes[..bytes.len() - 1]);
        assert!(decrypt_failed(key.decrypt(
            "0123456789ab",
            "transaction",
            &truncated
        )));
        let wrong = ApiV3Key::new("b7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb")
            .unwrap()
            .with_backend(backend);
        let error = wrong
            .decrypt("0123456789ab", "transaction", &sealed)
            .unwrap_err();
        assert!(error.to_string().contains("APIv3 key"), "{error}");
        ciphertexts.push(sealed);
    }
    // AES-GCM is deterministic for a fixed key and nonce.
    assert!(ciphertexts.windows(2).all(|pair| pair[0] == pair[1]));
}

#[test]
fn api_v3_key_length() {
    for len in [0, 16, 31, 33, 64] {
        let key = "k".repeat(len);
        match ApiV3Key::new(&key) {
            Err(error @ KeyError::ApiV3KeyLength { found }) => {
                assert_eq!(found, len);
                let message = error.to_string();
                assert!(
                    message.contains("32") && message.contains(&format!("found {len} bytes")),
                    "{message}"
                );
            }
            other => panic!("length {len}: {other:?}"),
        }
    }
    assert!(ApiV3Key::new([0u8; 32]).is_ok());
    assert!(ApiV3Key::new(API_V3_KEY.as_bytes()).is_ok());
}

#[test]
fn certificate_fields() {
    let key = &keys()[0];
    let pem = certificate(&key.spki, &[0x0A, 0xBC, 0x00, 0xFF]);
    for &backend in backends() {
        let cert =
            PlatformCertificate::from_pem_with(&format!("text before\n{pem}"), backend).unwrap();
        assert_eq!(cert.serial(), "0ABC00FF");
        assert_eq!(cert.not_before(), 1_735_689_600);
        assert_eq!(cert.not_after(), 2_051_222_400);
        assert!(cert.is_valid_at(1_735_689_600));
        assert!(cert.is_valid_at(2_000_000_000));
        assert!(cert.is_valid_at(2_051_222_400));
        assert!(!cert.is_valid_at(1_735_689_599));
        assert!(!cert.is_valid_at(2_051_222_401));
        assert_eq!(cert.pem(), pem);
        assert_eq!(cert.verifying_key().backend(), backend);
        let merchant = MerchantKey::from_pem_with(&key.private_pem(), backend).unwrap();
        let signature = merchant.sign_sha256(b"m").unwrap();
        assert_eq!(cert.verifying_key().verify_sha256(b"m", &signature), Ok(()));
        let reloaded = PlatformCertificate::from_pem_with(cert.pem(), backend).unwrap();
        assert_eq!(reloaded.serial(), cert.serial());
    }
    let high = certificate(&key.spki, &[0x00, 0x9F, 0x01]);
    assert_eq!(
        PlatformCertificate::from_pem(&high).unwrap().serial(),
        "9F01"
    );
}

#[test]
fn load_errors() {
    let key = &keys()[0];
    for &backend in backends() {
        assert!(matches!(
            MerchantKey::from_pem_with("", backend),
            Err(KeyError::NotPem { .. })
        ));
        assert!(matches!(
            MerchantKey::from_pem_with(&key.public_pem(), backend),
            Err(KeyError::UnexpectedPemLabel { .. })
        ));
        assert!(matches!(
            VerifyingKey::from_public_key_pem_with(&key.private_pem(), backend),
            Err(KeyError::UnexpectedPemLabel { .. })
        ));
        // A PEM body of the right label but the wrong contents.
        let junk = encode_pem("PRIVATE KEY", &[0x30, 0x03, 0x02, 0x01, 0x00]);
        assert!(matches!(
            MerchantKey::from_pem_with(&junk, backend),
            Err(KeyError::InvalidKey { .. })
        ));
        let junk = encode_pem("PUBLIC KEY", b"not DER");
        assert!(matches!(
            VerifyingKey::from_public_key_pem_with(&junk, backend),
            Err(KeyError::InvalidKey { .. })
        ));
        // Truncated key: the DER ends early.
        let truncated = encode_pem("PRIVATE KEY", &key.pkcs8[..key.pkcs8.len() - 10]);
        assert!(MerchantKey::from_pem_with(&truncated, backend).is_err());
        // A damaged modulus inside a well-formed structure.
        let mut damaged = key.pkcs8.to_vec();
        let last = damaged.len() - 1;
        damaged[last] ^= 0xff;
        let _ = MerchantKey::from_pem_with(&encode_pem("PRIVATE KEY", &damaged), backend);

        // A 1024-bit RSA public key is refused with its size.
        let mut modulus = vec![0x00, 0xC0];
        modulus.extend_from_slice(&[0x5A; 127]);
        let small = der(0x30, &[der(0x02, &modulus), der(0x02, &[1, 0, 1])].concat());
        match VerifyingKey::from_public_key_pem_with(&encode_pem("RSA PUBLIC KEY", &small), backend)
        {
            Err(error @ KeyError::KeyTooSmall { bits: 1024, .. }) => {
                assert!(error.to_string().contains("1024-bit"));
            }
            other => panic!("expected KeyTooSmall, got {other:?}"),
        }
        // An EC key is refused as not RSA.
        let ec_algorithm = der(
            0x30,
            &[
                der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]),
                der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]),
            ]
            .concat(),
        );
        let ec = der(0x30, &[ec_algorithm, der(0x03, &[0, 4, 1, 2])].concat());
        assert!(matches!(
            VerifyingKey::from_public_key_pem_with(&encode_pem("PUBLIC KEY", &ec), backend),
            Err(KeyError::NotRsa { .. })
        ));
    }
}

#[test]
fn key_files() {
    let dir = std::env::temp_dir().join(format!("wxpay-keys-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("missing.pem");
    match MerchantKey::from_pem_file(&missing) {
        Err(error @ KeyError::Io { .. }) => {
            assert!(error.to_string().contains("missing.pem"), "{error}");
            // The I/O failure is the source, not repeated in the message.
            let source = std::error::Error::source(&error).expect("the I/O failure");
            assert!(source.is::<std::io::Error>());
            assert!(!error.to_string().contains(&source.to_string()), "{error}");
        }
        other => panic!("expected Io, got {other:?}"),
    }
    let good = dir.join("apiclient_key.pem");
    std::fs::write(&good, keys()[0].private_pem().as_bytes()).unwrap();
    assert_eq!(MerchantKey::from_pem_file(&good).unwrap().bits(), 2048);
    let public = dir.join("pub_key.pem");
    std::fs::write(&public, keys()[0].public_pem()).unwrap();
    assert_eq!(
        VerifyingKey::from_public_key_pem_file(&public)
            .unwrap()
            .bits(),
        2048
    );
    // A certificate given as the key: the error names the file, not its contents.
    let cert = dir.join("apiclient_cert.pem");
    let cert_pem = certificate(&keys()[0].spki, &[1]);
    std::fs::write(&cert, &cert_pem).unwrap();
    match MerchantKey::from_pem_file(&cert) {
        Err(error @ KeyError::File { .. }) => {
            let message = error.to_string();
            assert!(message.contains("apiclient_cert.pem"), "{message}");
            assert!(
                !message.contains(cert_pem.lines().nth(1).unwrap_or_default()),
                "{message}"
            );
        }
        other => panic!("expected File, got {other:?}"),
    }
    let binary = dir.join("key.der");
    std::fs::write(&binary, [0x30, 0x82, 0xff, 0xfe]).unwrap();
    assert!(matches!(
        MerchantKey::from_pem_file(&binary),
        Err(KeyError::File { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
