//! Platform certificate mode: the `GET /v3/certificates` download, the
//! choice of signing key by the request's `Wechatpay-Serial`, rotation.
//!
//! Everything a client must do is done here by hand: AES-256-GCM with
//! `aws-lc-rs`, reading the X.509 certificate with `x509-parser`.

use std::time::{Duration, SystemTime};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wxpay_sandbox::{Faults, Sandbox, SandboxConfig, SandboxError};

use crate::common::{Answer, Merchant, is_beijing_rfc3339, now, sign, test_keys};

const CERTIFICATES: &str = "/v3/certificates";

/// One entry of a `/v3/certificates` answer, decrypted.
#[derive(Debug)]
struct Downloaded {
    serial_no: String,
    effective_time: i64,
    expire_time: i64,
    nonce: String,
    ciphertext: String,
    pem: String,
}

/// What a client reads from a certificate.
#[derive(Debug)]
struct CertificateFacts {
    serial: String,
    not_before: i64,
    not_after: i64,
    subject: String,
    /// SubjectPublicKeyInfo DER.
    spki: Vec<u8>,
}

impl CertificateFacts {
    fn public_key_pem(&self) -> String {
        pem::encode(&pem::Pem::new("PUBLIC KEY", self.spki.clone()))
    }
}

fn read_certificate(certificate_pem: &str) -> CertificateFacts {
    let pem = pem::parse(certificate_pem).expect("certificate PEM");
    assert_eq!(pem.tag(), "CERTIFICATE");
    let (rest, certificate) =
        x509_parser::parse_x509_certificate(pem.contents()).expect("X.509 certificate");
    assert!(rest.is_empty(), "trailing bytes after the certificate");
    // Self-signed: the signature over the TBS part verifies with its own key.
    let own_key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, certificate.public_key().raw)
        .expect("RSA public key");
    own_key
        .verify_sig(
            certificate.tbs_certificate.as_ref(),
            &certificate.signature_value.data,
        )
        .expect("self-signature verifies");
    let serial = certificate
        .raw_serial()
        .iter()
        .skip_while(|b| **b == 0)
        .map(|b| format!("{b:02X}"))
        .collect();
    CertificateFacts {
        serial,
        not_before: certificate.validity().not_before.timestamp(),
        not_after: certificate.validity().not_after.timestamp(),
        subject: certificate.subject().to_string(),
        spki: certificate.public_key().raw.to_vec(),
    }
}

/// AES-256-GCM as the protocol says: key = APIv3 key bytes, nonce = the 12
/// ASCII bytes, AAD = `associated_data`, tag at the end of the ciphertext.
fn decrypt(apiv3_key: &str, resource: &Value) -> String {
    let text = |key: &str| resource[key].as_str().expect(key).to_owned();
    assert_eq!(text("algorithm"), "AEAD_AES_256_GCM");
    assert_eq!(text("associated_data"), "certificate");
    let nonce = text("nonce");
    assert_eq!(nonce.len(), 12, "{nonce}");
    assert!(nonce.bytes().all(|b| b.is_ascii_alphanumeric()), "{nonce}");
    let key =
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, apiv3_key.as_bytes()).expect("32-byte key"));
    let mut bytes = BASE64.decode(text("ciphertext")).expect("base64");
    let plain = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce.as_bytes().try_into().expect("12 bytes")),
            Aad::from(text("associated_data").as_bytes()),
            &mut bytes,
        )
        .expect("decrypts and authenticates with the APIv3 key");
    String::from_utf8(plain.to_vec()).expect("PEM is text")
}

fn unix(rfc3339: &str) -> i64 {
    assert!(is_beijing_rfc3339(rfc3339), "{rfc3339}");
    OffsetDateTime::parse(rfc3339, &Rfc3339)
        .expect("RFC 3339")
        .unix_timestamp()
}

/// Downloads the certificates and decrypts them; checks the answer's
/// shape, and that it is signed by one of the certificates it delivers
/// (the bootstrap rule). Returns the answer and the entries in order.
async fn download(merchant: &Merchant) -> (Answer, Vec<Downloaded>) {
    let answer = merchant.get(CERTIFICATES).await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let json = answer.json();
    let data = json["data"].as_array().expect("data");
    let entries: Vec<Downloaded> = data
        .iter()
        .map(|entry| {
            let resource = &entry["encrypt_certificate"];
            Downloaded {
                serial_no: entry["serial_no"].as_str().expect("serial_no").to_owned(),
                effective_time: unix(entry["effective_time"].as_str().expect("effective")),
                expire_time: unix(entry["expire_time"].as_str().expect("expire")),
                nonce: resource["nonce"].as_str().expect("nonce").to_owned(),
                ciphertext: resource["ciphertext"].as_str().expect("ct").to_owned(),
                pem: decrypt(&merchant.credentials.apiv3_key, resource),
            }
        })
        .collect();
    for entry in &entries {
        let facts = read_certificate(&entry.pem);
        assert_eq!(facts.serial, entry.serial_no);
        assert_eq!(facts.not_before, entry.effective_time);
        assert_eq!(facts.not_after, entry.expire_time);
    }
    let signer = answer.header("wechatpay-serial").expect("signed");
    let signed_by = entries
        .iter()
        .find(|entry| entry.serial_no == signer)
        .unwrap_or_else(|| panic!("signed by {signer}, which the answer does not deliver"));
    answer
        .verify_with(signer, &read_certificate(&signed_by.pem).public_key_pem())
        .expect("the answer verifies with a certificate it delivers");
    (answer, entries)
}

fn is_upper_hex_40(serial: &str) -> bool {
    serial.len() == 40
        && serial
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

fn list_target(merchant: &Merchant) -> String {
    format!(
        "/v3/marketing/favor/stocks?offset=0&limit=10&stock_creator_mchid={}",
        merchant.mchid()
    )
}

async fn certificate_mode_sandbox() -> Sandbox {
    let keys = test_keys();
    Sandbox::start_with(SandboxConfig {
        merchant_private_key_pem: Some(keys.merchant_private_key_pem.clone()),
        platform_private_key_pem: Some(keys.platform_private_key_pem.clone()),
        certificate_mode: true,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts")
}

#[tokio::test]
async fn the_download_decrypts_to_the_certificate_that_signed_it() {
    let sandbox = crate::common::sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    assert!(is_upper_hex_40(&credentials.platform_certificate_serial));

    let (answer, entries) = download(&merchant).await;
    // Signed by the certificate even though this sandbox defaults to
    // public-key mode, as the real service does.
    assert_eq!(
        answer.header("wechatpay-serial"),
        Some(credentials.platform_certificate_serial.as_str())
    );
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry.serial_no, credentials.platform_certificate_serial);
    assert_eq!(entry.pem, credentials.platform_certificate_pem);
    assert_eq!(
        sandbox.platform_certificates(),
        vec![(entry.serial_no.clone(), entry.pem.clone())]
    );

    let facts = read_certificate(&entry.pem);
    assert!(facts.subject.contains("wxpay-sandbox"), "{}", facts.subject);
    // It certifies the platform key: the same key as the public key mode's.
    let platform_spki = pem::parse(&credentials.platform_public_key_pem).expect("PEM");
    assert_eq!(facts.spki, platform_spki.contents());
    // Valid from a day ago to five years on.
    assert!(
        (facts.not_before - (now() - 86_400)).abs() <= 60,
        "{facts:?}"
    );
    let lifetime_days = (facts.not_after - now()) / 86_400;
    assert!((1824..=1827).contains(&lifetime_days), "{lifetime_days}");

    // Each download encrypts afresh.
    let (_, again) = download(&merchant).await;
    assert_ne!(again[0].nonce, entry.nonce);
    assert_ne!(again[0].ciphertext, entry.ciphertext);
    assert_eq!(again[0].pem, entry.pem);

    // The download needs a signed request like any call, and its refusal
    // is signed by the certificate too.
    let refused = merchant.send_raw("GET", CERTIFICATES, "", None, None).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json()["code"], "SIGN_ERROR");
    refused
        .verify_with(&entry.serial_no, &facts.public_key_pem())
        .expect("signed by the certificate");
}

#[tokio::test]
async fn the_wechatpay_serial_header_selects_the_signing_key() {
    let sandbox = crate::common::sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let target = list_target(&merchant);
    let certificate_key = read_certificate(&credentials.platform_certificate_pem).public_key_pem();

    // Public-key mode is the default: no header, the public key id, or a
    // value the sandbox does not know.
    for header in [
        None,
        Some(credentials.public_key_id.as_str()),
        Some("0123456789ABCDEF0123456789ABCDEF01234567"),
    ] {
        let answer = merchant.get_expecting(&target, header).await;
        assert_eq!(answer.status, 200, "{header:?}");
        answer.assert_verified(credentials);
    }

    // Naming the certificate switches to certificate mode, errors too.
    let serial = credentials.platform_certificate_serial.as_str();
    let answer = merchant.get_expecting(&target, Some(serial)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("wechatpay-serial"), Some(serial));
    answer
        .verify_with(serial, &certificate_key)
        .expect("signed by the certificate");
    let missing = merchant
        .get_expecting(
            &format!(
                "/v3/marketing/favor/stocks/1?stock_creator_mchid={}",
                merchant.mchid()
            ),
            Some(serial),
        )
        .await;
    assert_eq!(missing.status, 404);
    missing
        .verify_with(serial, &certificate_key)
        .expect("errors follow the header too");
}

#[tokio::test]
async fn certificate_mode_signs_with_the_certificate_unless_the_public_key_is_named() {
    let sandbox = certificate_mode_sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let target = list_target(&merchant);
    let serial = credentials.platform_certificate_serial.as_str();
    let certificate_key = read_certificate(&credentials.platform_certificate_pem).public_key_pem();

    for header in [None, Some(serial), Some("PUB_KEY_ID_0000")] {
        let answer = merchant.get_expecting(&target, header).await;
        assert_eq!(answer.status, 200, "{header:?}");
        answer
            .verify_with(serial, &certificate_key)
            .unwrap_or_else(|e| panic!("{header:?}: {e}"));
    }
    let answer = merchant
        .get_expecting(&target, Some(&credentials.public_key_id))
        .await;
    answer.assert_verified(credentials);

    // The faults work in certificate mode too: an unknown serial of the
    // same shape, over a valid signature.
    sandbox.set_faults(Faults {
        wrong_serial: true,
        ..Faults::default()
    });
    let answer = merchant.get(&target).await;
    let announced = answer.header("wechatpay-serial").expect("serial");
    assert_ne!(announced, serial);
    assert!(is_upper_hex_40(announced), "{announced}");
    answer
        .verify_with(announced, &certificate_key)
        .expect("valid signature under an unknown serial");
}

#[tokio::test]
async fn rotation_lists_both_and_switches_the_signing_serial() {
    let sandbox = certificate_mode_sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let target = list_target(&merchant);
    let old_serial = credentials.platform_certificate_serial.clone();
    let old_key = read_certificate(&credentials.platform_certificate_pem).public_key_pem();

    let rotated = sandbox.rotate_platform_certificate().expect("rotation");
    assert!(is_upper_hex_40(&rotated.serial));
    assert_ne!(rotated.serial, old_serial);
    let shown = format!("{rotated:?}");
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    let new_facts = read_certificate(&rotated.certificate_pem);
    assert_eq!(new_facts.serial, rotated.serial);
    let new_key = new_facts.public_key_pem();
    // A new key pair, whose private half is handed out.
    assert_ne!(new_key, old_key);
    let probe = b"1700000000\nnonce\n{}\n";
    crate::common::verify_signature(&new_key, probe, &sign(&rotated.private_key_pem, probe))
        .expect("the rotated private key matches the certificate");

    assert_eq!(
        sandbox.platform_certificates(),
        vec![
            (rotated.serial.clone(), rotated.certificate_pem.clone()),
            (
                old_serial.clone(),
                credentials.platform_certificate_pem.clone()
            ),
        ]
    );
    // The credentials keep describing the start.
    assert_eq!(credentials.platform_certificate_serial, old_serial);

    // Both are served, newest first; the answer is signed by the new one.
    let (answer, entries) = download(&merchant).await;
    let serials: Vec<&str> = entries.iter().map(|e| e.serial_no.as_str()).collect();
    assert_eq!(serials, [rotated.serial.as_str(), old_serial.as_str()]);
    assert_eq!(entries[0].pem, rotated.certificate_pem);
    assert_eq!(entries[1].pem, credentials.platform_certificate_pem);
    assert_eq!(
        answer.header("wechatpay-serial"),
        Some(rotated.serial.as_str())
    );

    // Certificate mode signs with the new key, whichever certificate the
    // request names; the old key no longer verifies.
    for header in [
        None,
        Some(old_serial.as_str()),
        Some(rotated.serial.as_str()),
    ] {
        let answer = merchant.get_expecting(&target, header).await;
        assert_eq!(answer.status, 200);
        answer
            .verify_with(&rotated.serial, &new_key)
            .unwrap_or_else(|e| panic!("{header:?}: {e}"));
        assert!(answer.verify_with(&rotated.serial, &old_key).is_err());
    }

    // Public-key mode keeps its key and id.
    let answer = merchant
        .get_expecting(&target, Some(&credentials.public_key_id))
        .await;
    answer.assert_verified(credentials);

    // Another rotation: three served.
    let third = sandbox.rotate_platform_certificate().expect("rotation");
    let (answer, entries) = download(&merchant).await;
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0].serial_no, third.serial);
    assert_eq!(
        answer.header("wechatpay-serial"),
        Some(third.serial.as_str())
    );
}

#[tokio::test]
async fn public_key_mode_is_unaffected_by_rotation() {
    let sandbox = crate::common::sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let rotated = sandbox.rotate_platform_certificate().expect("rotation");

    let stock_id = merchant.create_stock("after-rotation").await;
    let answer = merchant.act(&stock_id, "start").await;
    assert_eq!(answer.status, 200);
    answer.assert_verified(credentials);
    merchant
        .get(&list_target(&merchant))
        .await
        .assert_verified(credentials);

    // Naming the new certificate still selects certificate mode.
    let answer = merchant
        .get_expecting(&list_target(&merchant), Some(&rotated.serial))
        .await;
    answer
        .verify_with(
            &rotated.serial,
            &read_certificate(&rotated.certificate_pem).public_key_pem(),
        )
        .expect("certificate mode on request");
}

#[tokio::test]
async fn a_given_certificate_and_validity_are_served() {
    let keys = test_keys();
    let first = crate::common::sandbox().await;
    let given = Sandbox::start_with(SandboxConfig {
        merchant_private_key_pem: Some(keys.merchant_private_key_pem.clone()),
        platform_private_key_pem: Some(keys.platform_private_key_pem.clone()),
        platform_certificate_pem: Some(first.credentials().platform_certificate_pem.clone()),
        ..SandboxConfig::default()
    })
    .await
    .expect("a matching certificate is accepted");
    assert_eq!(
        given.credentials().platform_certificate_serial,
        first.credentials().platform_certificate_serial
    );
    let (_, entries) = download(&Merchant::new(&given)).await;
    assert_eq!(entries[0].pem, first.credentials().platform_certificate_pem);

    // A certificate for another key is refused.
    let error = Sandbox::start_with(SandboxConfig {
        platform_private_key_pem: Some(keys.merchant_private_key_pem.clone()),
        platform_certificate_pem: Some(first.credentials().platform_certificate_pem.clone()),
        ..SandboxConfig::default()
    })
    .await
    .expect_err("mismatched key");
    assert!(
        matches!(
            error,
            SandboxError::InvalidKey {
                what: "platform_certificate_pem",
                ..
            }
        ),
        "{error}"
    );

    // An expired validity, for start-up and rotated certificates alike.
    let not_before = SystemTime::now() - Duration::from_secs(400 * 86_400);
    let not_after = SystemTime::now() - Duration::from_secs(10 * 86_400);
    let expired = Sandbox::start_with(SandboxConfig {
        merchant_private_key_pem: Some(keys.merchant_private_key_pem.clone()),
        platform_private_key_pem: Some(keys.platform_private_key_pem.clone()),
        platform_certificate_validity: Some((not_before, not_after)),
        ..SandboxConfig::default()
    })
    .await
    .expect("start");
    expired.rotate_platform_certificate().expect("rotation");
    let (_, entries) = download(&Merchant::new(&expired)).await;
    assert_eq!(entries.len(), 2);
    let seconds = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs() as i64
    };
    for entry in &entries {
        assert_eq!(entry.effective_time, seconds(not_before));
        assert_eq!(entry.expire_time, seconds(not_after));
    }
}

#[tokio::test]
async fn the_platform_private_key_signs_as_wechat_pay() {
    let sandbox = Sandbox::start().await.expect("start");
    let credentials = sandbox.credentials();
    assert!(
        credentials
            .platform_private_key_pem
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    // A test acting as WeChat Pay signs a callback with it; a client
    // verifies with the public key or the certificate.
    let message =
        b"1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n{\"id\":\"EV-2018022511223320873\"}\n";
    let signature = sign(&credentials.platform_private_key_pem, message);
    crate::common::verify_signature(&credentials.platform_public_key_pem, message, &signature)
        .expect("verifies with the public key");
    let certificate_key = read_certificate(&credentials.platform_certificate_pem).public_key_pem();
    crate::common::verify_signature(&certificate_key, message, &signature)
        .expect("verifies with the certificate");
    let shown = format!("{credentials:?}");
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    assert!(
        shown.contains(&credentials.platform_certificate_serial),
        "{shown}"
    );
}
