//! The generated catalogue against the spec it was generated from
//! (`../shared/spec/wechatpay-openapi`, or `WXPAY_SPEC`): every operation
//! present and nothing extra, and every example the spec carries going
//! through the generated types.
//!
//! Both tests say SKIPPED, loudly, when the spec is not there.

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;
use serde_json::Value;
use wxpay::api::Protocol;
use wxpay::v2::V2Endpoint;
use wxpay::{Client, Endpoint, MerchantKey, NoContent};
use wxpay_codegen::spec::Group;

use crate::common;
use common::{request_example, response_example, say, spec};

// The generated table calls `super::Check`, and this module and its sibling
// each give it a `Check` of their own: the same file, loaded twice on purpose.
#[allow(clippy::duplicate_mod)]
#[path = "../spec/dispatch.rs"]
mod dispatch;

#[test]
fn catalogue_holds_exactly_the_spec_operations() {
    let Some(spec) = spec() else { return };
    let ops = spec.all_operations().unwrap();
    // The Hong Kong site's `/hk/v3/x` is sent as `/v3/x`: an operation is
    // its method, host and sent path.
    let expected: BTreeSet<(String, String, String)> = ops
        .iter()
        .map(|op| (op.method.clone(), op.host.clone(), op.template.clone()))
        .collect();
    let actual: BTreeSet<(String, String, String)> = wxpay::api::CATALOGUE
        .iter()
        .map(|info| {
            (
                info.method.to_string(),
                info.host.name().to_owned(),
                info.template.to_owned(),
            )
        })
        .collect();
    let missing: Vec<_> = expected.difference(&actual).collect();
    let extra: Vec<_> = actual.difference(&expected).collect();
    assert!(
        missing.is_empty(),
        "operations the catalogue lacks: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "operations the spec does not have: {extra:?}"
    );
    assert_eq!(
        wxpay::api::CATALOGUE.len(),
        ops.len(),
        "one row per operation"
    );
    // The APIv3 rows are what they were before the other groups came.
    let v3 = spec.operations().unwrap();
    let v3_rows: Vec<_> = wxpay::api::CATALOGUE
        .iter()
        .filter(|info| info.rust_path.starts_with("wxpay::api::v3::"))
        .collect();
    assert_eq!(v3_rows.len(), v3.len(), "one APIv3 row per v3/ operation");
    for info in &v3_rows {
        assert_eq!(info.protocol, Protocol::V3, "{}", info.template);
        assert_eq!(
            info.host.name(),
            "api.mch.weixin.qq.com",
            "{}",
            info.template
        );
        assert!(!info.client_cert, "{}", info.template);
        assert!(info.v2_signing.is_none() && info.v2_merchant_field.is_none());
        assert!(!info.v2_signed_answer, "{}", info.template);
    }
    let mut by_group = [0usize; 4];
    for op in &ops {
        let info = wxpay::api::CATALOGUE
            .iter()
            .find(|info| {
                info.method.as_str() == op.method
                    && info.template == op.template
                    && info.host.name() == op.host
            })
            .expect("a row");
        assert_eq!(info.feature, op.feature(), "{}", op.key());
        match op.group {
            Group::V3 => by_group[0] += 1,
            Group::Hk => {
                by_group[1] += 1;
                assert_eq!(info.protocol, Protocol::V3, "{}", op.key());
                assert_eq!(info.host.name(), "apihk.mch.weixin.qq.com", "{}", op.key());
                assert!(
                    info.rust_path.starts_with("wxpay::api::hk::"),
                    "{}",
                    op.key()
                );
                assert!(info.template.starts_with("/v3/"), "{}", op.key());
            }
            Group::Global => {
                by_group[2] += 1;
                assert_eq!(info.protocol, Protocol::V3, "{}", op.key());
                assert_eq!(info.host.name(), "apihk.mch.weixin.qq.com", "{}", op.key());
                assert!(
                    info.rust_path.starts_with("wxpay::api::global::"),
                    "{}",
                    op.key()
                );
                assert!(info.template.starts_with("/global/v3/"), "{}", op.key());
            }
            Group::V2 => {
                by_group[3] += 1;
                assert_eq!(info.protocol, Protocol::V2, "{}", op.key());
                assert!(info.feature.starts_with("v2-"), "{}", op.key());
                assert!(!info.template.starts_with("/v2/"), "{}", op.key());
                // Only the multipart upload and the POST with a query
                // parameter are listed without a type.
                assert_eq!(
                    info.rust_path.is_empty(),
                    matches!(
                        info.template,
                        "/secapi/mch/uploadmedia" | "/secapi/mch/submchmanage"
                    ),
                    "{}",
                    op.key()
                );
                if info.template.starts_with("/secapi/") {
                    assert!(info.client_cert, "{}", op.key());
                }
            }
        }
    }
    say(&format!(
        "catalogue: all {} operations of the spec, nothing extra ({} v3, {} hk, {} global, {} v2)",
        ops.len(),
        by_group[0],
        by_group[1],
        by_group[2],
        by_group[3]
    ));
}

/// What one operation's examples are checked against.
pub struct Check<'a> {
    client: &'a Client,
    decryptor: &'a MerchantKey,
    method: String,
    /// The operation's template and host, to find its catalogue row.
    template: String,
    host: String,
    /// Path, query and body examples, keyed by wire name.
    request: Option<Value>,
    /// The body example alone.
    body: Option<Value>,
    /// Query parameter names that have an example.
    query: Vec<String>,
    response: Option<Value>,
}

impl Check<'_> {
    /// Decodes the request example into the generated struct, builds it
    /// the way the client sends it and compares the body with the
    /// example; decodes the response example.
    pub fn run<E: Endpoint + DeserializeOwned>(&mut self) -> Result<(), String> {
        if let Some(request) = self.request.take() {
            let endpoint: E = serde_json::from_value(request.clone())
                .map_err(|e| format!("request example does not decode: {e}"))?;
            let prepared = self
                .client
                .prepare(&endpoint)
                .map_err(|e| format!("request does not build: {e}"))?;
            if let Some(expected) = &self.body {
                let actual: Value = serde_json::from_slice(prepared.body().as_bytes())
                    .map_err(|e| format!("body is not JSON: {e}"))?;
                self.same(expected, &actual, "body")?;
            }
            if self.method == "GET" || self.method == "DELETE" {
                for name in &self.query {
                    let needle = format!("{name}=");
                    if !prepared.target().contains(&needle) {
                        return Err(format!("query `{name}` missing from {}", prepared.target()));
                    }
                }
            }
        }
        self.response_only::<E>()
    }

    /// Decodes the response example only (uploads, whose request is a file).
    pub fn response_only<E: Endpoint>(&mut self) -> Result<(), String> {
        // The catalogue's row and the type agree on resending: one rule,
        // written once by the generator.
        let row = wxpay::api::CATALOGUE
            .iter()
            .find(|row| {
                row.template == self.template
                    && row.host.name() == self.host
                    && row.method.as_str() == self.method
            })
            .ok_or("no catalogue row")?;
        if row.idempotency != E::IDEMPOTENCY {
            return Err(format!(
                "the catalogue says {:?}, the type {:?}",
                row.idempotency,
                E::IDEMPOTENCY
            ));
        }
        if E::HOST != row.host {
            return Err(format!(
                "the catalogue says host {}, the type {}",
                row.host,
                E::HOST.name()
            ));
        }
        if let Some(response) = self.response.take() {
            if std::any::type_name::<E::Response>() == std::any::type_name::<NoContent>() {
                return Ok(());
            }
            serde_json::from_value::<E::Response>(response)
                .map_err(|e| format!("response example does not decode: {e}"))?;
        }
        Ok(())
    }

    /// An APIv2 operation: the catalogue's row and the type agree on
    /// resending and on the protocol (their examples are XML, checked by
    /// the runtime's own tests).
    pub fn v2<E: V2Endpoint>(&mut self) -> Result<(), String> {
        let row = wxpay::api::CATALOGUE
            .iter()
            .find(|row| {
                row.template == self.template
                    && row.host.name() == self.host
                    && row.method.as_str() == self.method
            })
            .ok_or("no catalogue row")?;
        if row.protocol != Protocol::V2 {
            return Err(format!("the catalogue says {}", row.protocol));
        }
        if row.idempotency != E::IDEMPOTENCY {
            return Err(format!(
                "the catalogue says {:?}, the type {:?}",
                row.idempotency,
                E::IDEMPOTENCY
            ));
        }
        if E::PATH != row.template || E::HOST != row.host {
            return Err(format!(
                "the catalogue says {} on {}, the type {} on {}",
                row.template,
                row.host,
                E::PATH,
                E::HOST.name()
            ));
        }
        if Some(E::SIGNING) != row.v2_signing
            || E::MERCHANT_FIELD != row.v2_merchant_field
            || E::SIGNED_ANSWER != row.v2_signed_answer
        {
            return Err(format!(
                "the catalogue says {:?}, {:?}, signed answer {}; the type {:?}, {:?}, {}",
                row.v2_signing,
                row.v2_merchant_field,
                row.v2_signed_answer,
                E::SIGNING,
                E::MERCHANT_FIELD,
                E::SIGNED_ANSWER
            ));
        }
        if E::CLIENT_CERT != row.client_cert {
            return Err(format!(
                "the catalogue says client_cert {}, the type {}",
                row.client_cert,
                E::CLIENT_CERT
            ));
        }
        Ok(())
    }

    /// JSON equality modulo key order, numbers by value, and encrypted
    /// fields by their decrypted text.
    fn same(&self, expected: &Value, actual: &Value, at: &str) -> Result<(), String> {
        match (expected, actual) {
            (Value::Object(e), Value::Object(a)) => {
                for (key, value) in e {
                    let got = a.get(key).ok_or_else(|| format!("{at}.{key} missing"))?;
                    self.same(value, got, &format!("{at}.{key}"))?;
                }
                if let Some(key) = a.keys().find(|k| !e.contains_key(*k)) {
                    return Err(format!("{at}.{key} sent but not in the example"));
                }
                Ok(())
            }
            (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
                .iter()
                .zip(a)
                .enumerate()
                .try_for_each(|(i, (e, a))| self.same(e, a, &format!("{at}[{i}]"))),
            (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => Ok(()),
            (Value::String(e), Value::String(a)) if e != a => {
                match self.decryptor.decrypt_oaep(a) {
                    Ok(clear) if clear[..] == *e.as_bytes() => Ok(()),
                    _ => Err(format!("{at}: {a:?} instead of {e:?}")),
                }
            }
            (e, a) if e == a => Ok(()),
            (e, a) => Err(format!("{at}: {a} instead of {e}")),
        }
    }
}

#[tokio::test]
async fn spec_examples_go_through_the_generated_types() {
    let Some(spec) = spec() else { return };
    let sandbox = wxpay_sandbox::Sandbox::start().await.unwrap();
    let credentials = sandbox.credentials().clone();
    sandbox.shutdown().await;
    let client = Client::builder()
        .base_url("http://127.0.0.1:9")
        .mchid("1900009191")
        .merchant_key_pem("ABCDEF", &credentials.merchant_private_key_pem)
        .wechatpay_public_key_pem(
            "PUB_KEY_ID_0100000000000000000000000009",
            &credentials.merchant_public_key_pem,
        )
        .build()
        .unwrap();
    let decryptor = MerchantKey::from_pem(&credentials.merchant_private_key_pem).unwrap();

    // APIv3 in all its groups (`v3/`, `hk/v3/`, `global/v3/`); APIv2 below.
    let all = spec.all_operations().unwrap();
    let ops: Vec<_> = all
        .iter()
        .filter(|op| op.group != Group::V2)
        .cloned()
        .collect();
    let (mut with_examples, mut requests, mut responses, mut failures) =
        (0usize, 0usize, 0usize, Vec::new());
    let mut deletes_with_body = 0;
    for op in &ops {
        let request = request_example(&spec, op);
        let response = response_example(&spec, op);
        if request.is_none() && response.is_none() {
            continue;
        }
        with_examples += 1;
        requests += usize::from(request.is_some());
        responses += usize::from(response.is_some());
        let (request, body, query) = match request {
            Some((all, body, query)) => (Some(all), body, query),
            None => (None, None, Vec::new()),
        };
        let mut check = Check {
            client: &client,
            decryptor: &decryptor,
            method: op.method.clone(),
            template: op.template.clone(),
            host: op.host.clone(),
            request,
            body,
            query,
            response,
        };
        deletes_with_body += usize::from(op.method == "DELETE" && check.body.is_some());
        match dispatch::dispatch(&op.key(), &mut check) {
            Some(Ok(())) => {}
            Some(Err(error)) => failures.push(format!("{}: {error}", op.key())),
            None => failures.push(format!("{}: not in the dispatch table", op.key())),
        }
    }
    // Every declared APIv2 operation: its type agrees with its row.
    let mut v2_checked = 0;
    for op in all.iter().filter(|op| op.group == Group::V2) {
        let mut check = Check {
            client: &client,
            decryptor: &decryptor,
            method: op.method.clone(),
            template: op.template.clone(),
            host: op.host.clone(),
            request: None,
            body: None,
            query: Vec::new(),
            response: None,
        };
        match dispatch::dispatch(&op.key(), &mut check) {
            Some(Ok(())) => v2_checked += 1,
            Some(Err(error)) => failures.push(format!("{}: {error}", op.key())),
            // Listed, not declared.
            None if wxpay::api::CATALOGUE.iter().any(|row| {
                row.template == op.template
                    && row.host.name() == op.host
                    && row.rust_path.is_empty()
            }) => {}
            None => failures.push(format!("{}: not in the dispatch table", op.key())),
        }
    }
    say(&format!(
        "APIv2: {v2_checked} declared operations agree with the catalogue"
    ));
    for failure in &failures {
        eprintln!("FAILED {failure}");
    }
    say(&format!(
        "examples: {with_examples} of {} operations carry examples ({requests} requests, \
         {responses} responses, {deletes_with_body} of them DELETE with a JSON body); \
         {} passed, {} failed",
        ops.len(),
        with_examples.saturating_sub(failures.len()),
        failures.len(),
    ));
    assert!(
        failures.is_empty(),
        "{} operations' examples failed",
        failures.len()
    );
}
