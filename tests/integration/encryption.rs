//! Sensitive fields: encrypted under WeChat Pay's key while the client
//! builds the request, announced by `Wechatpay-Serial`, never sent in clear.

use crate::support;

use serde::Serialize;
use wxpay::{Client, Endpoint, MerchantKey};
use wxpay_sandbox::Sandbox;

#[derive(Serialize)]
struct Contact {
    #[serde(serialize_with = "wxpay::encryption::encrypt")]
    name: String,
    #[serde(
        serialize_with = "wxpay::encryption::encrypt",
        skip_serializing_if = "Option::is_none"
    )]
    mobile: Option<String>,
    role: String,
}

#[wxpay::endpoint(POST, "/v3/things")]
struct AddThing {
    #[wxpay(encrypt)]
    id_card_name: String,
    #[wxpay(encrypt)]
    id_card_number: Option<String>,
    #[wxpay(encrypt)]
    email: Option<String>,
    contact: Contact,
    note: String,
}

#[wxpay::endpoint(POST, "/v3/plain")]
struct Plain {
    note: String,
}

fn thing() -> AddThing {
    AddThing {
        id_card_name: "张三".into(),
        id_card_number: Some("110101199003077777".into()),
        email: None,
        contact: Contact {
            name: "李四".into(),
            mobile: Some("13800138000".into()),
            role: "boss".into(),
        },
        note: "clear".into(),
    }
}

/// A client whose "WeChat Pay public key" is a pair we hold the private
/// half of, so the test can decrypt what was sent.
async fn client_and_decryptor() -> (Client, MerchantKey, String) {
    let sandbox = Sandbox::start().await.unwrap();
    let credentials = sandbox.credentials().clone();
    sandbox.shutdown().await;
    let id = "PUB_KEY_ID_0100000000000000000000000009".to_owned();
    let client = Client::builder()
        .base_url("http://127.0.0.1:9")
        .mchid("1900009191")
        .merchant_key_pem("ABCDEF", &credentials.merchant_private_key_pem)
        .wechatpay_public_key_pem(&id, &credentials.merchant_public_key_pem)
        .build()
        .unwrap();
    let decryptor = MerchantKey::from_pem(&credentials.merchant_private_key_pem).unwrap();
    (client, decryptor, id)
}

fn decrypt(key: &MerchantKey, value: &serde_json::Value) -> String {
    let ciphertext = value.as_str().expect("a base64 string");
    String::from_utf8(key.decrypt_oaep(ciphertext).expect("decrypts").to_vec()).unwrap()
}

#[tokio::test]
async fn marked_fields_are_encrypted_and_the_key_is_announced() {
    let (client, key, id) = client_and_decryptor().await;
    let prepared = client.prepare(&thing()).expect("builds");
    let body: serde_json::Value = serde_json::from_slice(prepared.body().as_bytes()).unwrap();
    let text = String::from_utf8_lossy(prepared.body().as_bytes()).into_owned();
    for clear in ["张三", "110101199003077777", "李四", "13800138000"] {
        assert!(!text.contains(clear), "{clear} sent in clear: {text}");
    }
    assert_eq!(decrypt(&key, &body["id_card_name"]), "张三");
    assert_eq!(decrypt(&key, &body["id_card_number"]), "110101199003077777");
    assert!(body.get("email").is_none(), "None is left out: {body}");
    assert_eq!(decrypt(&key, &body["contact"]["name"]), "李四");
    assert_eq!(decrypt(&key, &body["contact"]["mobile"]), "13800138000");
    assert_eq!(body["contact"]["role"], "boss");
    assert_eq!(body["note"], "clear");
    assert_eq!(prepared.headers()["wechatpay-serial"], id.as_str());

    // OAEP is randomized: two builds differ, both decrypt.
    let again = client.prepare(&thing()).unwrap();
    assert_ne!(again.body(), prepared.body());
}

/// The `meta` of an upload with a sensitive member, as the shopping
/// receipt upload has.
#[derive(Serialize)]
struct ReceiptMeta {
    transaction_id: String,
    #[serde(serialize_with = "wxpay::encryption::encrypt")]
    consultation_phone_number: String,
}

#[wxpay::endpoint(POST, "/v3/receipts", multipart)]
struct UploadReceipt {
    #[wxpay(meta)]
    meta: ReceiptMeta,
    file: wxpay::media::MediaFile,
}

#[tokio::test]
async fn a_sensitive_member_of_an_upload_meta_is_encrypted_and_the_key_announced() {
    let (client, key, id) = client_and_decryptor().await;
    let upload = UploadReceipt {
        meta: ReceiptMeta {
            transaction_id: "4200000000".into(),
            consultation_phone_number: "021-12345678".into(),
        },
        file: wxpay::media::MediaFile::new("receipt.png", b"\x89PNG".to_vec()),
    };
    let prepared = client.prepare(&upload).expect("builds");
    let meta: serde_json::Value = serde_json::from_slice(prepared.body().as_bytes()).unwrap();
    assert_eq!(meta["transaction_id"], "4200000000");
    assert_eq!(
        decrypt(&key, &meta["consultation_phone_number"]),
        "021-12345678"
    );
    let wire = String::from_utf8_lossy(prepared.body().wire_bytes()).into_owned();
    assert!(!wire.contains("021-12345678"), "sent in clear: {wire}");
    assert_eq!(prepared.headers()["wechatpay-serial"], id.as_str());

    // Outside the client it refuses, as a JSON body does.
    let err = upload.body().unwrap_err();
    let err = wxpay::Report::new(&err).to_string();
    assert!(err.contains("outside Client::prepare"), "{err}");
    assert!(!err.contains("021-12345678"), "{err}");
}

#[tokio::test]
async fn serializing_outside_the_client_refuses_instead_of_leaking() {
    let err = thing().body().unwrap_err();
    let err = wxpay::Report::new(&err).to_string();
    assert!(err.contains("outside Client::prepare"), "{err}");
    assert!(!err.contains("张三"), "{err}");
    // Fields without the marker are unaffected.
    assert!(Plain { note: "x".into() }.body().is_ok());
}

#[test]
fn an_expired_certificate_is_never_used_to_encrypt() {
    let Some(dir) = support::vectors("an_expired_certificate_is_never_used_to_encrypt") else {
        return;
    };
    // The vector platform certificate expired on 2025-05-09.
    let client = Client::builder()
        .base_url("http://127.0.0.1:9")
        .mchid("1900009191")
        .merchant_key_pem(
            "5F1C72E2A8931B72A2E13AF8DEE92471EB397115",
            support::read(&dir, "keys/merchant_private_key.pem"),
        )
        .platform_certificate_pem(support::read(&dir, "keys/platform_certificate.pem"))
        .build()
        .unwrap();
    let err = client.prepare(&thing()).unwrap_err().report().to_string();
    assert!(err.contains("WeChat Pay's key"), "{err}");

    // Requests without sensitive fields need no key and announce none.
    let plain = client.prepare(&Plain { note: "x".into() }).unwrap();
    assert!(plain.headers().get("wechatpay-serial").is_none());
}

#[tokio::test]
async fn sensitive_answer_fields_are_decrypted_with_the_merchant_key() {
    let sandbox = Sandbox::start().await.unwrap();
    let credentials = sandbox.credentials().clone();
    sandbox.shutdown().await;
    let client = Client::builder()
        .base_url("http://127.0.0.1:9")
        .mchid("1900009191")
        .merchant_key_pem("ABCDEF", &credentials.merchant_private_key_pem)
        .wechatpay_public_key_pem(
            "PUB_KEY_ID_0100000000000000000000000009",
            &credentials.platform_public_key_pem,
        )
        .build()
        .unwrap();
    // WeChat Pay encrypts under the merchant's public key.
    let merchant_public =
        wxpay::VerifyingKey::from_public_key_pem(&credentials.merchant_public_key_pem).unwrap();
    let ciphertext = merchant_public.encrypt_oaep("赵六".as_bytes()).unwrap();
    assert_eq!(
        client.decrypt_sensitive(&ciphertext).unwrap().as_str(),
        "赵六"
    );
    assert!(client.decrypt_sensitive("not base64!").is_err());
    // Encrypted for another key: refused, not garbage.
    let other =
        wxpay::VerifyingKey::from_public_key_pem(&credentials.platform_public_key_pem).unwrap();
    assert!(
        client
            .decrypt_sensitive(&other.encrypt_oaep(b"x").unwrap())
            .is_err()
    );
}
