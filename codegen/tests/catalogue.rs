//! The generated catalogue against the spec it was generated from
//! (`../shared/spec/wechatpay-openapi`, or `WXPAY_SPEC`): every operation
//! present and nothing extra, and every example the spec carries going
//! through the generated types.
//!
//! Both tests say SKIPPED, loudly, when the spec is not there.

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;
use serde_json::Value;
use wxpay::{Client, Endpoint, MerchantKey, NoContent};

mod common;
use common::{request_example, response_example, say, spec};

#[path = "spec/dispatch.rs"]
mod dispatch;

#[test]
fn catalogue_holds_exactly_the_spec_operations() {
    let Some(spec) = spec() else { return };
    let expected: BTreeSet<(String, String)> = spec
        .operations()
        .unwrap()
        .into_iter()
        .map(|op| (op.method, op.template))
        .collect();
    let actual: BTreeSet<(String, String)> = wxpay::api::CATALOGUE
        .iter()
        .map(|info| (info.method.to_string(), info.template.to_owned()))
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
        expected.len(),
        "one row per operation"
    );
    say(&format!(
        "catalogue: all {} operations of the spec, nothing extra",
        expected.len()
    ));
}

/// What one operation's examples are checked against.
pub struct Check<'a> {
    client: &'a Client,
    decryptor: &'a MerchantKey,
    method: String,
    /// The operation's template, to find its catalogue row.
    template: String,
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
            .find(|row| row.template == self.template && row.method.as_str() == self.method)
            .ok_or("no catalogue row")?;
        if row.idempotency != E::IDEMPOTENCY {
            return Err(format!(
                "the catalogue says {:?}, the type {:?}",
                row.idempotency,
                E::IDEMPOTENCY
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

    let ops = spec.operations().unwrap();
    let (mut with_examples, mut requests, mut responses, mut failures) = (0, 0, 0, Vec::new());
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
    for failure in &failures {
        eprintln!("FAILED {failure}");
    }
    say(&format!(
        "examples: {with_examples} of {} operations carry examples ({requests} requests, \
         {responses} responses, {deletes_with_body} of them DELETE with a JSON body); \
         {} passed, {} failed",
        ops.len(),
        with_examples - failures.len(),
        failures.len(),
    ));
    assert!(
        failures.is_empty(),
        "{} operations' examples failed",
        failures.len()
    );
}
