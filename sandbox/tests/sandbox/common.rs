//! A minimal, independent WeChat Pay client for driving the sandbox: it
//! signs requests by hand and verifies response signatures by hand.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::header::HeaderMap;
use serde_json::Value;
use wxpay_sandbox::{Credentials, Sandbox, SandboxConfig};

pub const SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// Keys generated once per test binary, so that most tests skip RSA key
/// generation.
pub struct TestKeys {
    pub merchant_private_key_pem: String,
    pub platform_private_key_pem: String,
}

pub fn test_keys() -> &'static TestKeys {
    static KEYS: OnceLock<TestKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let pem_of = || {
            let key = KeyPair::generate(KeySize::Rsa2048).expect("keygen");
            let der = key.as_der().expect("pkcs8");
            pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref()))
        };
        TestKeys {
            merchant_private_key_pem: pem_of(),
            platform_private_key_pem: pem_of(),
        }
    })
}

/// A sandbox with the shared test keys.
pub async fn sandbox() -> Sandbox {
    let keys = test_keys();
    Sandbox::start_with(SandboxConfig {
        merchant_private_key_pem: Some(keys.merchant_private_key_pem.clone()),
        platform_private_key_pem: Some(keys.platform_private_key_pem.clone()),
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts")
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// One HTTP answer, body kept as raw bytes.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("ASCII header"))
    }

    pub fn message(&self) -> String {
        self.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Checks the response signature as a client in public-key mode must.
    pub fn verify(&self, credentials: &Credentials) -> Result<(), String> {
        self.verify_with(
            &credentials.public_key_id,
            &credentials.platform_public_key_pem,
        )
    }

    /// Checks the response signature against one known key: its id (public
    /// key id or certificate serial) and its SPKI PEM.
    pub fn verify_with(&self, key_id: &str, public_key_pem: &str) -> Result<(), String> {
        let get = |name: &str| self.header(name).ok_or(format!("no {name} header"));
        let timestamp = get("wechatpay-timestamp")?;
        let nonce = get("wechatpay-nonce")?;
        let signature = get("wechatpay-signature")?;
        let serial = get("wechatpay-serial")?;
        if get("wechatpay-signature-type")? != SCHEME {
            return Err("wrong signature type".into());
        }
        if serial != key_id {
            return Err(format!("unknown serial {serial}"));
        }
        let ts: i64 = timestamp
            .parse()
            .map_err(|_| "timestamp not a number".to_owned())?;
        if (ts - now()).abs() > 300 {
            return Err(format!("timestamp {ts} too far from now"));
        }
        verify_signature(
            public_key_pem,
            &[
                timestamp.as_bytes(),
                b"\n",
                nonce.as_bytes(),
                b"\n",
                &self.body,
                b"\n",
            ]
            .concat(),
            signature,
        )
    }

    #[track_caller]
    pub fn assert_verified(&self, credentials: &Credentials) {
        if let Err(e) = self.verify(credentials) {
            panic!("response does not verify: {e}; {self:?}");
        }
    }

    /// Asserts an error answer: status, code, and that it is signed.
    #[track_caller]
    pub fn assert_error(&self, credentials: &Credentials, status: u16, code: &str) -> Value {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        let json = self.json();
        assert_eq!(json["code"], code, "{json}");
        assert!(
            json["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{json}"
        );
        self.assert_verified(credentials);
        json
    }
}

pub fn verify_signature(public_pem: &str, message: &[u8], signature: &str) -> Result<(), String> {
    let pem = pem::parse(public_pem).map_err(|e| e.to_string())?;
    let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pem.contents())
        .map_err(|e| e.to_string())?;
    let signature = BASE64
        .decode(signature)
        .map_err(|e| format!("signature base64: {e}"))?;
    key.verify_sig(message, &signature)
        .map_err(|_| "signature does not verify".to_owned())
}

pub fn sign(private_pem: &str, message: &[u8]) -> String {
    let pem = pem::parse(private_pem).expect("private key PEM");
    let key = KeyPair::from_pkcs8(pem.contents()).expect("PKCS#8 key");
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message,
        &mut signature,
    )
    .expect("sign");
    BASE64.encode(signature)
}

/// The parts of an `Authorization` header, to break one at a time.
#[derive(Clone)]
pub struct AuthParts {
    pub mchid: String,
    pub serial_no: String,
    pub timestamp: String,
    pub nonce_str: String,
    pub signature: String,
}

impl AuthParts {
    pub fn header(&self) -> String {
        format!(
            "{SCHEME} mchid=\"{}\",nonce_str=\"{}\",signature=\"{}\",timestamp=\"{}\",serial_no=\"{}\"",
            self.mchid, self.nonce_str, self.signature, self.timestamp, self.serial_no
        )
    }
}

/// Sends signed requests as the sandbox's merchant.
pub struct Merchant {
    pub credentials: Credentials,
    pub base_url: String,
    http: reqwest::Client,
}

impl Merchant {
    pub fn new(sandbox: &Sandbox) -> Self {
        Merchant {
            credentials: sandbox.credentials().clone(),
            base_url: sandbox.base_url().to_owned(),
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client"),
        }
    }

    pub fn mchid(&self) -> &str {
        &self.credentials.mchid
    }

    /// A correct `Authorization` for this request, as parts.
    pub fn auth_parts(&self, method: &str, target: &str, body: &str) -> AuthParts {
        let timestamp = now().to_string();
        let nonce_str = "0123456789ABCDEFGHIJKLMNOPQRSTUV".to_owned();
        let message = format!("{method}\n{target}\n{timestamp}\n{nonce_str}\n{body}\n");
        AuthParts {
            mchid: self.credentials.mchid.clone(),
            serial_no: self.credentials.merchant_serial.clone(),
            signature: sign(
                &self.credentials.merchant_private_key_pem,
                message.as_bytes(),
            ),
            timestamp,
            nonce_str,
        }
    }

    /// A correctly signed request.
    pub async fn send(&self, method: &str, target: &str, body: &str) -> Answer {
        let authorization = self.auth_parts(method, target, body).header();
        self.send_raw(
            method,
            target,
            body,
            Some(&authorization),
            Some("application/json"),
        )
        .await
    }

    /// A correctly signed GET naming the key it expects the answer to be
    /// signed with in `Wechatpay-Serial` (or none).
    pub async fn get_expecting(&self, target: &str, wechatpay_serial: Option<&str>) -> Answer {
        let authorization = self.auth_parts("GET", target, "").header();
        let mut request = self
            .http
            .get(format!("{}{target}", self.base_url))
            .header("Accept", "application/json")
            .header("Authorization", authorization);
        if let Some(serial) = wechatpay_serial {
            request = request.header("Wechatpay-Serial", serial);
        }
        let response = request.send().await.expect("sandbox reachable");
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.bytes().await.expect("body").to_vec(),
        }
    }

    pub async fn get(&self, target: &str) -> Answer {
        self.send("GET", target, "").await
    }

    pub async fn post(&self, target: &str, body: &Value) -> Answer {
        self.send("POST", target, &body.to_string()).await
    }

    /// Sends exactly what it is given.
    pub async fn send_raw(
        &self,
        method: &str,
        target: &str,
        body: &str,
        authorization: Option<&str>,
        content_type: Option<&str>,
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .http
            .request(method.clone(), format!("{}{target}", self.base_url))
            .header("Accept", "application/json");
        if let Some(authorization) = authorization {
            request = request.header("Authorization", authorization);
        }
        if method == reqwest::Method::POST {
            if let Some(content_type) = content_type {
                request = request.header("Content-Type", content_type);
            }
            request = request.body(body.to_owned());
        }
        let response = request.send().await.expect("sandbox reachable");
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.bytes().await.expect("body").to_vec(),
        }
    }

    /// A multipart upload whose `Authorization` signs `signed` (the meta
    /// JSON, when the client does it right).
    pub async fn upload(
        &self,
        target: &str,
        signed: &[u8],
        body: Vec<u8>,
        content_type: &str,
    ) -> Answer {
        let signed = String::from_utf8_lossy(signed).into_owned();
        let authorization = self.auth_parts("POST", target, &signed).header();
        let response = self
            .http
            .post(format!("{}{target}", self.base_url))
            .header("Accept", "application/json")
            .header("Authorization", authorization)
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .expect("sandbox reachable");
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.bytes().await.expect("body").to_vec(),
        }
    }

    /// Creates a stock with a valid body; returns its id.
    pub async fn create_stock(&self, out_request_no: &str) -> String {
        let answer = self
            .post(
                "/v3/marketing/favor/coupon-stocks",
                &stock_body(self.mchid(), out_request_no),
            )
            .await;
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        answer.assert_verified(&self.credentials);
        answer.json()["stock_id"]
            .as_str()
            .expect("stock_id")
            .to_owned()
    }

    pub async fn act(&self, stock_id: &str, action: &str) -> Answer {
        self.post(
            &format!("/v3/marketing/favor/stocks/{stock_id}/{action}"),
            &serde_json::json!({ "stock_creator_mchid": self.mchid() }),
        )
        .await
    }
}

/// A complete, valid create-stock body.
pub fn stock_body(mchid: &str, out_request_no: &str) -> Value {
    serde_json::json!({
        "stock_name": "微信支付代金券批次",
        "comment": "零售批次",
        "belong_merchant": mchid,
        "available_begin_time": "2030-01-01T00:00:00+08:00",
        "available_end_time": "2030-01-31T23:59:59+08:00",
        "stock_use_rule": {
            "max_coupons": 100,
            "max_amount": 10000,
            "max_coupons_per_user": 1,
            "natural_person_limit": false,
            "prevent_api_abuse": false
        },
        "pattern_info": {
            "description": "微信支付营销",
            "background_color": "Color020"
        },
        "coupon_use_rule": {
            "coupon_available_time": {
                "fix_available_time": {"available_week_day": [1, 2, 3], "begin_time": 0, "end_time": 3600}
            },
            "fixed_normal_coupon": {"coupon_amount": 100, "transaction_minimum": 100},
            "goods_tag": ["123321"],
            "trade_type": ["MICROAPP"],
            "available_merchants": [mchid]
        },
        "no_cash": false,
        "stock_type": "NORMAL",
        "out_request_no": out_request_no
    })
}

/// Is `text` shaped like `2026-11-27T10:34:56+08:00`?
pub fn is_beijing_rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 25
        && text.ends_with("+08:00")
        && [4, 7].iter().all(|&i| b[i] == b'-')
        && b[10] == b'T'
        && [13, 16].iter().all(|&i| b[i] == b':')
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
            .iter()
            .all(|&i| b[i].is_ascii_digit())
}
