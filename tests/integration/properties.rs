//! Property tests: path parameters render to a segment that decodes back to
//! exactly the value (or to the typed error for the values the design
//! refuses), and a signature verifies over what was signed and fails after
//! any single-byte change of body, timestamp, nonce, signature or target.
//!
//! Case counts are moderate: every signing case costs an RSA signature
//! (aws-lc backend), and the suite runs in debug builds.

use crate::support;

use std::sync::OnceLock;

use proptest::prelude::*;
use wxpay::http::{HeaderMap, HeaderValue};
use wxpay::signing::{RequestSigner, signing_message};
use wxpay::verification::{Verifier, verification_message};
use wxpay::{
    BuildError, Client, CryptoBackend, Endpoint, MerchantKey, Method, Target, VerifyingKey,
};

/// One thing, addressed by an identifier of any text.
#[wxpay::endpoint(GET, "/v3/things/<id>/detail", response = serde_json::Value)]
pub struct GetThing {
    /// The identifier: one path segment.
    pub id: String,
}

const PREFIX: &str = "/v3/things/";
const SUFFIX: &str = "/detail";
const SERIAL: &str = "PUB_KEY_ID_0114232134912410000000000000";
const MERCHANT_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
const NOW: i64 = 1_700_000_000;

struct Fixture {
    signer: MerchantKey,
    verifying: VerifyingKey,
    verifier: Verifier,
    client: Client,
}

/// Signing cases per property: RSA on the pure-Rust backend is slow in
/// debug builds, so fewer when aws-lc is not compiled in.
const SIGN_CASES: u32 = if cfg!(feature = "aws-lc") { 48 } else { 6 };

/// A key pair from a sandbox's generated credentials, on aws-lc when it is
/// compiled in.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let keys = runtime.block_on(support::keys());
        #[cfg(feature = "aws-lc")]
        let backend = CryptoBackend::AwsLc;
        #[cfg(not(feature = "aws-lc"))]
        let backend = CryptoBackend::default();
        let signer = MerchantKey::from_pem_with(&keys.private_pem, backend).unwrap();
        let verifying = VerifyingKey::from_public_key_pem_with(&keys.public_pem, backend).unwrap();
        let mut verifier = Verifier::new();
        verifier.add_public_key(SERIAL, verifying.clone());
        let client = Client::builder()
            .base_url("https://api.mch.weixin.qq.com")
            .mchid("1900009191")
            .merchant_key(MERCHANT_SERIAL, signer.clone())
            .wechatpay_public_key(SERIAL, verifying.clone())
            .crypto_backend(backend)
            .build()
            .unwrap();
        Fixture {
            signer,
            verifying,
            verifier,
            client,
        }
    })
}

/// Values heavy in what path handling trips over, and arbitrary Unicode.
fn path_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[./%?#& +~_a-z0-9\\\\é中😀\u{0}\t]{0,6}",
        Just(String::new()),
        Just(".".to_owned()),
        Just("..".to_owned()),
        Just("...".to_owned()),
        Just("%2e%2e".to_owned()),
        Just("../v3/refund".to_owned()),
    ]
}

fn percent_decode(text: &str) -> String {
    fn hex(b: u8) -> u8 {
        match b {
            b'0'..=b'9' => b - b'0',
            b'A'..=b'F' => b - b'A' + 10,
            b'a'..=b'f' => b - b'a' + 10,
            _ => panic!("not a hex digit: {b}"),
        }
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(hex(bytes[i + 1]) << 4 | hex(bytes[i + 2]));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("a rendered segment decodes to UTF-8")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn path_parameters_decode_back_exactly(id in path_value()) {
        let endpoint = GetThing { id: id.clone() };
        let mut target = Target::new();
        match endpoint.render_target(&mut target) {
            Ok(()) => {
                prop_assert!(!id.is_empty() && id != "." && id != "..");
                let rendered = target.as_str();
                let segment = rendered
                    .strip_prefix(PREFIX)
                    .and_then(|rest| rest.strip_suffix(SUFFIX))
                    .expect("prefix and suffix are the template's");
                prop_assert!(
                    segment.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)),
                    "{segment:?} holds a character that is not unreserved"
                );
                prop_assert_eq!(percent_decode(segment), id);
            }
            Err(BuildError::EmptyPathParameter { name }) => {
                prop_assert_eq!(name, "id");
                prop_assert_eq!(id, "");
            }
            Err(BuildError::DotSegment { name }) => {
                prop_assert_eq!(name, "id");
                prop_assert!(id == "." || id == "..", "{id:?}");
            }
            Err(other) => prop_assert!(false, "{id:?}: unexpected {other}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: SIGN_CASES, ..ProptestConfig::default() })]

    /// What a client prepares is sent exactly as rendered and signed.
    #[test]
    fn prepared_targets_are_sent_as_rendered(id in path_value()) {
        let refused = id.is_empty() || id == "." || id == "..";
        match fixture().client.prepare_at(&GetThing { id: id.clone() }, NOW, "N0NCE".into()) {
            Ok(request) => {
                prop_assert!(!refused);
                prop_assert!(request.url().ends_with(request.target()));
                let signed = String::from_utf8(request.signing_message()).unwrap();
                prop_assert_eq!(signed.lines().nth(1), Some(request.target()));
            }
            Err(error) => prop_assert!(refused, "{id:?}: {error}"),
        }
    }

    /// A response (or callback) signature verifies over what was signed and
    /// over nothing else.
    #[test]
    fn response_signatures_verify_and_any_changed_byte_fails(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        nonce in "[0-9A-Za-z]{1,40}",
        skew in -300i64..=300,
        field in 0usize..4,
        at in any::<prop::sample::Index>(),
        delta in 1u8..=255,
    ) {
        let f = fixture();
        let timestamp = (NOW + skew).to_string();
        let signature = f
            .signer
            .sign_sha256(&verification_message(&timestamp, &nonce, &body))
            .unwrap();
        let mut parts: [Vec<u8>; 4] = [
            body.clone(),
            timestamp.into_bytes(),
            nonce.into_bytes(),
            signature.into_bytes(),
        ];
        prop_assert_eq!(verify(&f.verifier, &parts), Some(Ok(())));

        let target = &mut parts[field];
        if target.is_empty() {
            target.push(delta);
        } else {
            let i = at.index(target.len());
            target[i] = target[i].wrapping_add(delta);
        }
        // None: the changed header cannot even be sent (a control byte).
        if let Some(result) = verify(&f.verifier, &parts) {
            prop_assert!(result.is_err(), "field {} changed, still verified", field);
        }
    }

    /// A request signature (the Authorization header) verifies over the
    /// request and fails after any single-byte change of body or target.
    #[test]
    fn request_signatures_verify_and_any_changed_byte_fails(
        target in "/v3/[!-~]{0,60}",
        body in proptest::collection::vec(any::<u8>(), 0..256),
        change_target in any::<bool>(),
        at in any::<prop::sample::Index>(),
        delta in 1u8..=255,
    ) {
        let f = fixture();
        let nonce = "593BEC0C930BF1AFEB40B4A08C8FB242";
        let signer = RequestSigner::new("1900009191", MERCHANT_SERIAL, f.signer.clone());
        let authorization = signer
            .authorization(Method::Post, &target, &body, NOW, nonce)
            .unwrap();
        let signature = authorization
            .split("signature=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_owned();
        let message = signing_message(Method::Post, &target, NOW, nonce, &body);
        prop_assert!(f.verifying.verify_sha256(&message, &signature).is_ok());

        let mut target = target.into_bytes();
        let mut body = body;
        let changed = if change_target || body.is_empty() { &mut target } else { &mut body };
        let i = at.index(changed.len());
        changed[i] = changed[i].wrapping_add(delta);
        let mut message = b"POST\n".to_vec();
        message.extend_from_slice(&target);
        message.extend_from_slice(format!("\n{NOW}\n{nonce}\n").as_bytes());
        message.extend_from_slice(&body);
        message.push(b'\n');
        prop_assert!(f.verifying.verify_sha256(&message, &signature).is_err());
    }
}

/// Verifies `[body, timestamp, nonce, signature]` through the headers an
/// answer carries; `None` when a header value is not sendable at all.
fn verify(verifier: &Verifier, parts: &[Vec<u8>; 4]) -> Option<Result<(), wxpay::VerifyError>> {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("wechatpay-timestamp", &parts[1]),
        ("wechatpay-nonce", &parts[2]),
        ("wechatpay-signature", &parts[3]),
    ] {
        headers.insert(name, HeaderValue::from_bytes(value).ok()?);
    }
    headers.insert("wechatpay-serial", HeaderValue::from_static(SERIAL));
    Some(verifier.verify(&headers, &parts[0], NOW))
}
