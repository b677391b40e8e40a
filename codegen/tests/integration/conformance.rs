//! Every operation of the catalogue, sent through the typed client to the
//! sandbox and answered offline: the request is built from the spec's
//! examples (made-up values of the right type where it has none), sent
//! with `Client::send`, and the answer decoded into the generated response
//! type. And every operation whose body has a required member, sent
//! without it, must be refused with 400 `PARAM_ERROR` naming the member.
//!
//! Both tests print one line per failure and a summary by cause
//! (`WXPAY_CONFORMANCE_VERBOSE=1` adds each failed request).
//!
//! One sandbox serves every request, in spec order with creates first
//! (POST, PUT, PATCH, then GET, DELETE), so that what a create sets up a
//! read finds. The requests are the spec's, with these changes:
//! - members naming the calling merchant (`mchid`, `sp_mchid`,
//!   `stock_creator_mchid`, `belong_merchant`) carry the sandbox's
//!   merchant id;
//! - operations with a stateful handler act on resources that exist: a
//!   [`World`] is made with real calls before the run (coupon stocks in
//!   each state, a coupon, paid orders, a refund, a bill, receivers,
//!   profit-sharing orders and a return, transfer bills), and their ids
//!   replace the spec's example ids, which name nothing in a fresh
//!   sandbox; [`World::overrides`] lists every replacement;
//! - a create refused as a duplicate (`…_USED`: an earlier operation
//!   placed the same example number) is sent once more with its
//!   `out_*_no` renumbered;
//! - uploads (multipart) carry a small PNG (an MP4 for videos) and a
//!   `meta` whose digest is the file's;
//! - downloads (the answer is a file, not signed JSON) are fetched as a
//!   user would: the trade bill with `Client::download_bill` from the URL
//!   `GET /v3/bill/tradebill` announced (its SHA-1 checked), the others
//!   signed and sent, their answer a 200 of the declared content type.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use wxpay::bill::BillInfo;
use wxpay::media::MediaFile;
use wxpay::{Body, BuildError, Client, Endpoint, Error, RetryPolicy, Target};
use wxpay_codegen::spec::{Kind, Operation, Spec, get, get_str, kind_of};
use wxpay_sandbox::Sandbox;

use crate::common;
use common::{Request, made_up, request_filled, say, spec};

// The generated table calls `super::Check`, and this module and its sibling
// each give it a `Check` of their own: the same file, loaded twice on purpose.
#[allow(clippy::duplicate_mod)]
#[path = "../spec/dispatch.rs"]
mod dispatch;

/// What one operation's request did.
type Outcome = Result<(), Failure>;

/// A request sent, its outcome to come.
type Pending<'a> = Pin<Box<dyn Future<Output = Outcome> + 'a>>;

/// A request sent, its answer (as JSON) to come.
type Answer<'a> = Pin<Box<dyn Future<Output = Result<Value, Failure>> + 'a>>;

/// Why an operation failed: `cause` groups failures in the summary (an
/// HTTP status and code, a kind of decode error), `detail` says the rest.
#[derive(Debug)]
struct Failure {
    cause: String,
    detail: String,
}

impl Failure {
    fn new(cause: impl Into<String>, detail: impl Into<String>) -> Self {
        Failure {
            cause: cause.into(),
            detail: detail.into(),
        }
    }

    /// A client error, by what went wrong.
    fn of(error: &Error) -> Self {
        match error {
            Error::Api(api) => {
                let field = api
                    .field()
                    .map(|field| format!(" at {field}"))
                    .unwrap_or_default();
                Failure::new(
                    format!("HTTP {} {}", api.status.as_u16(), api.code),
                    format!("{}{field}", api.message),
                )
            }
            Error::Decode { path, source, .. } => Failure::new(
                format!("decode error: {}", serde_kind(&source.to_string())),
                format!("at `{path}`: {source}"),
            ),
            Error::Verification { status, source, .. } => Failure::new(
                format!("HTTP {} answer's signature rejected", status.as_u16()),
                wxpay::Report::new(source).to_string(),
            ),
            Error::Build { source, .. } => Failure::new(
                "request does not build",
                wxpay::Report::new(source).to_string(),
            ),
            Error::Transport { .. } | Error::Timeout { .. } => {
                Failure::new("no answer", error.report().to_string())
            }
            other => Failure::new("other client error", other.report().to_string()),
        }
    }
}

/// A serde error message without the names and values in it, to group by.
fn serde_kind(message: &str) -> String {
    let mut out = String::new();
    let mut quoted = None;
    for c in message.chars() {
        match quoted {
            Some(end) if c == end => {
                quoted = None;
                out.push('…');
            }
            Some(_) => {}
            None if c == '`' || c == '"' => quoted = Some(c),
            None => out.push(c),
        }
    }
    // "…, expected one of …" lists differ per enum; "at line 1 column 9"
    // differs per body.
    let out = out.split(" at line ").next().unwrap_or(&out).to_owned();
    match out.split_once(", expected one of") {
        Some((head, _)) => format!("{head}, expected one of …"),
        None => out,
    }
}

/// What a run checks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The request as built; a 2xx whose body decodes.
    Send,
    /// The request without its first required body member: 400
    /// `PARAM_ERROR` whose `detail.field` is `/<member>`.
    WithoutRequired,
    /// The request as built, for the [`World`]: its answer is kept.
    SetUp,
    /// A download other than a bill: signed and sent; a 200 whose
    /// `Content-Type` is one the spec declares (`produces`).
    Fetch,
}

/// What one operation is checked with: `dispatch` calls `run` (or
/// `response_only` for uploads) with the operation's generated type, which
/// builds the request and leaves it, sent, in `pending`.
pub struct Check<'a> {
    client: &'a Client,
    mode: Mode,
    /// The operation's place in the spec, for renumbering.
    index: usize,
    request: Request,
    pending: Option<Pending<'a>>,
    /// The answer, in [`Mode::SetUp`].
    answer: Option<Answer<'a>>,
    /// The content types the spec says the operation answers.
    produces: Vec<String>,
    /// Set by `response_only`: the operation is an upload, whose request is
    /// built by [`upload`].
    upload: bool,
}

impl<'a> Check<'a> {
    /// Decodes the request into the generated struct and sends it.
    pub fn run<E: Endpoint + DeserializeOwned + 'a>(&mut self) -> Result<(), String> {
        let endpoint: E = serde_json::from_value(self.request.all.clone())
            .map_err(|e| format!("the request does not decode into the generated type: {e}"))?;
        self.pending = match self.mode {
            Mode::Send => Some(self.send_once(endpoint)),
            Mode::WithoutRequired => self.without_required(endpoint)?,
            Mode::SetUp => {
                let client = self.client;
                self.answer = Some(Box::pin(async move {
                    client
                        .send(AsJson(endpoint))
                        .await
                        .map_err(|e| Failure::of(&e))
                }));
                None
            }
            Mode::Fetch => Some(self.fetch(endpoint)?),
        };
        Ok(())
    }

    /// Signs `endpoint` and sends it with a plain HTTP client: the answer
    /// is a file, which WeChat Pay does not sign.
    fn fetch<E: Endpoint>(&self, endpoint: E) -> Result<Pending<'a>, String> {
        let prepared = self
            .client
            .prepare(&endpoint)
            .map_err(|e| format!("the request does not build: {e}"))?;
        let produces = self.produces.clone();
        Ok(Box::pin(async move {
            let answer = reqwest::Client::new()
                .get(prepared.url())
                .headers(prepared.headers().clone())
                .send()
                .await
                .map_err(|e| Failure::new("no answer", e.to_string()))?;
            let status = answer.status();
            let content_type = answer
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let body = answer
                .bytes()
                .await
                .map_err(|e| Failure::new("no answer", e.to_string()))?;
            if status != reqwest::StatusCode::OK {
                return Err(Failure::new(
                    format!("download: HTTP {status}"),
                    String::from_utf8_lossy(&body).into_owned(),
                ));
            }
            if !produces
                .iter()
                .any(|p| content_type.starts_with(p.as_str()))
            {
                return Err(Failure::new(
                    "download of another content type",
                    format!("{content_type:?}, the spec declares {produces:?}"),
                ));
            }
            if body.is_empty() {
                return Err(Failure::new("empty download", String::new()));
            }
            Ok(())
        }))
    }

    /// Sends `endpoint`; a create refused as a duplicate (`…_USED`: an
    /// earlier operation placed the spec's example number) is sent once
    /// more with the body's `out_*_no` renumbered.
    fn send_once<E: Endpoint + DeserializeOwned + 'a>(&self, endpoint: E) -> Pending<'a> {
        let client = self.client;
        let renumbered = renumbered(&self.request, self.index);
        Box::pin(async move {
            match client.send(endpoint).await {
                Err(Error::Api(api)) if api.code.ends_with("_USED") && renumbered.is_some() => {
                    let endpoint: E = serde_json::from_value(renumbered.unwrap_or_default())
                        .map_err(|e| {
                            Failure::new("renumbered request does not decode", e.to_string())
                        })?;
                    send(client, endpoint).await
                }
                answer => answer.map(drop).map_err(|e| Failure::of(&e)),
            }
        })
    }

    /// APIv2 operations (the dispatch table lists them too) are not sent
    /// here: the sandbox speaks APIv3, and only `v3/` operations come.
    pub fn v2<E: wxpay::v2::V2Endpoint>(&mut self) -> Result<(), String> {
        Err(format!(
            "{} is an APIv2 operation: the sandbox does not answer APIv2",
            E::PATH
        ))
    }

    /// Uploads: the struct holds a file and is built by [`upload`].
    pub fn response_only<E: Endpoint>(&mut self) -> Result<(), String> {
        self.upload = true;
        Ok(())
    }

    /// The request without its first required body member, or `None` when
    /// the body has none.
    fn without_required<E: Endpoint + 'a>(
        &mut self,
        endpoint: E,
    ) -> Result<Option<Pending<'a>>, String> {
        let prepared = self
            .client
            .prepare(&endpoint)
            .map_err(|e| format!("the request does not build: {e}"))?;
        let Ok(Value::Object(mut body)) = serde_json::from_slice(prepared.body().as_bytes()) else {
            return Ok(None);
        };
        let Some(member) = self
            .request
            .required
            .iter()
            .find(|member| body.contains_key(*member))
            .cloned()
        else {
            return Ok(None);
        };
        body.remove(&member);
        let client = self.client;
        Ok(Some(Box::pin(async move {
            let stripped = Without {
                inner: endpoint,
                body: Value::Object(body),
            };
            let pointer = format!("/{member}");
            match client.send(&stripped).await {
                Err(Error::Api(api))
                    if api.status == 400
                        && api.code == "PARAM_ERROR"
                        && api.field() == Some(&pointer) =>
                {
                    Ok(())
                }
                Err(Error::Api(api)) if api.status == 400 && api.code == "PARAM_ERROR" => {
                    Err(Failure::new(
                        "400 PARAM_ERROR naming another field",
                        format!(
                            "without `{member}`: detail.field {:?} instead of {pointer:?} ({})",
                            api.field(),
                            api.message
                        ),
                    ))
                }
                Err(error) => {
                    let failure = Failure::of(&error);
                    Err(Failure::new(
                        failure.cause,
                        format!("without `{member}`: {}", failure.detail),
                    ))
                }
                Ok(_) => Err(Failure::new(
                    "2xx without a required member",
                    format!("without `{member}`: answered with success"),
                )),
            }
        })))
    }
}

/// Sends `endpoint`; the answer must decode into its response type.
fn send<'a, E: Endpoint + 'a>(client: &'a Client, endpoint: E) -> Pending<'a> {
    Box::pin(async move {
        client
            .send(endpoint)
            .await
            .map(drop)
            .map_err(|e| Failure::of(&e))
    })
}

/// An operation's request whose answer is decoded as plain JSON: what the
/// [`World`] needs of an answer, whatever the generated type keeps.
struct AsJson<E>(E);

impl<E: Endpoint> Endpoint for AsJson<E> {
    const METHOD: wxpay::Method = E::METHOD;
    const PATH_TEMPLATE: &'static str = E::PATH_TEMPLATE;
    type Response = Value;
    const WECHATPAY_SERIAL: bool = E::WECHATPAY_SERIAL;

    fn render_target(&self, out: &mut Target) -> Result<(), BuildError> {
        self.0.render_target(out)
    }

    fn body(&self) -> Result<Body, BuildError> {
        self.0.body()
    }
}

/// An operation's request with a different JSON body: same method, target
/// and `Wechatpay-Serial`; the answer is not decoded.
struct Without<E> {
    inner: E,
    body: Value,
}

impl<E: Endpoint> Endpoint for Without<E> {
    const METHOD: wxpay::Method = E::METHOD;
    const PATH_TEMPLATE: &'static str = E::PATH_TEMPLATE;
    type Response = Value;
    // The stripped body was encrypted already: announce the key it was
    // encrypted with whatever it holds.
    const WECHATPAY_SERIAL: bool = true;

    fn render_target(&self, out: &mut Target) -> Result<(), BuildError> {
        self.inner.render_target(out)
    }

    fn body(&self) -> Result<Body, BuildError> {
        Body::json(&self.body)
    }
}

/// A small file of the kind the upload takes.
fn file(video: bool) -> MediaFile {
    if video {
        // An MP4 `ftyp` box.
        let mut bytes = vec![0, 0, 0, 0x18];
        bytes.extend_from_slice(b"ftypmp42\0\0\0\0mp42isom");
        MediaFile::new("conformance.mp4", bytes)
    } else {
        // A 1×1 PNG.
        const PNG: [u8; 67] = [
            0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
            0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
            0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78,
            0x9c, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00,
            0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
        ];
        MediaFile::new("conformance.png", PNG.to_vec())
    }
}

/// An upload's parts by name (path parameters, the `meta` JSON, the other
/// form fields) and its file: the meta's digest and file name members are
/// the file's.
struct UploadParts {
    parts: serde_json::Map<String, Value>,
    file: MediaFile,
}

impl UploadParts {
    fn new(spec: &Spec, op: &Operation, request: &Request) -> Self {
        let file = file(op.template.contains("video"));
        let mut parts = match &request.all {
            Value::Object(all) => all.clone(),
            _ => serde_json::Map::new(),
        };
        for (param, param_file) in spec.parameters(&op.file, &op.op).unwrap_or_default() {
            if get_str(&param, "in") != Some("formData") || get_str(&param, "type") == Some("file")
            {
                continue;
            }
            let name = get_str(&param, "name").unwrap_or("").to_owned();
            let schema = get(&param, "schema")
                .cloned()
                .unwrap_or_else(|| param.clone());
            let mut value = made_up(spec, &[(param_file, schema)], 0);
            if name == "meta" {
                if let Value::Object(meta) = &mut value {
                    for (key, member) in meta.iter_mut() {
                        if key.contains("sha256") || key.contains("digest") {
                            *member = Value::String(file.sha256_hex());
                        } else if key == "filename" || key == "file_name" {
                            *member = Value::String(file.filename().to_owned());
                        }
                    }
                }
            } else if let (Kind::String, Value::Number(n)) = (kind_of(&param), &value) {
                value = Value::String(n.to_string());
            }
            parts.insert(name, value);
        }
        UploadParts { parts, file }
    }

    fn get<T: DeserializeOwned>(&self, name: &str) -> Result<T, String> {
        let value = self.parts.get(name).cloned().unwrap_or(Value::Null);
        serde_json::from_value(value).map_err(|e| format!("upload part `{name}`: {e}"))
    }

    fn file(&self) -> MediaFile {
        self.file.clone()
    }
}

/// Builds and sends an upload: its struct holds a file, so it cannot be
/// decoded from JSON like the others. `None` for an upload this test does
/// not know.
fn upload<'a>(
    key: &str,
    parts: &UploadParts,
    client: &'a Client,
) -> Result<Option<Pending<'a>>, String> {
    use wxpay::api::v3;
    let file = parts.file();
    Ok(match key {
        "POST /v3/ecommerce/account/cancel-applications/media" => {
            use v3::ecommerce::account::cancel_applications::media::Post;
            Some(send(
                client,
                Post {
                    file,
                    meta: parts.get("meta")?,
                },
            ))
        }
        "POST /v3/global/merchant-service/images/upload" => {
            use v3::global::merchant_service::images::upload::Post;
            Some(send(client, Post { file }))
        }
        "POST /v3/global/merchant-storage/file/upload" => {
            use v3::global::merchant_storage::file::upload::Post;
            Some(send(client, Post { file }))
        }
        "POST /v3/marketing/bank/packages/{package_id}/tasks" => {
            use v3::marketing::bank::packages::_package_id_::tasks::Post;
            Some(send(
                client,
                Post {
                    package_id: parts.get("package_id")?,
                    file,
                    meta: parts.get("meta")?,
                },
            ))
        }
        "POST /v3/marketing/favor/media/image-upload" => {
            use v3::marketing::favor::media::image_upload::Post;
            Some(send(client, Post { file }))
        }
        "POST /v3/marketing/partner/product-coupon/media/upload-image" => {
            use v3::marketing::partner::product_coupon::media::upload_image::Post;
            Some(send(client, Post { file }))
        }
        "POST /v3/marketing/shopping-receipt/shoppingreceipts" => {
            use v3::marketing::shopping_receipt::shoppingreceipts::Post;
            Some(send(
                client,
                Post {
                    meta: parts.get("meta")?,
                    file,
                },
            ))
        }
        "POST /v3/mch-manage/submission-files/sub-mchid/{sub_mchid}/upload" => {
            use v3::mch_manage::submission_files::sub_mchid::_sub_mchid_::upload::Post;
            Some(send(
                client,
                Post {
                    sub_mchid: parts.get("sub_mchid")?,
                    file,
                    meta: parts.get("meta")?,
                    item_id: parts.get("item_id")?,
                    manage_record_id: parts.get("manage_record_id")?,
                },
            ))
        }
        "POST /v3/mch-operation-manage/enhanced-due-diligence/{due_diligence_id}/upload" => {
            use v3::mch_operation_manage::enhanced_due_diligence::_due_diligence_id_::upload::Post;
            Some(send(
                client,
                Post {
                    due_diligence_id: parts.get("due_diligence_id")?,
                    file,
                    meta: parts.get("meta")?,
                },
            ))
        }
        "POST /v3/merchant-service/images/upload" => {
            use v3::merchant_service::images::upload::Post;
            Some(send(client, Post { file }))
        }
        "POST /v3/merchant/media/upload" => {
            use v3::merchant::media::upload::Post;
            Some(send(client, Post { file }))
        }
        "POST /v3/merchant/media/video_upload" => {
            use v3::merchant::media::video_upload::Post;
            Some(send(client, Post { file }))
        }
        "POST /v3/new-tax-control-fapiao/fapiao-applications/upload-fapiao-file" => {
            use v3::new_tax_control_fapiao::fapiao_applications::upload_fapiao_file::Post;
            Some(send(
                client,
                Post {
                    file,
                    meta: parts.get("meta")?,
                },
            ))
        }
        "POST /v3/taxi-invoice/cards/upload-file" => {
            use v3::taxi_invoice::cards::upload_file::Post;
            Some(send(
                client,
                Post {
                    file,
                    meta: parts.get("meta")?,
                },
            ))
        }
        _ => None,
    })
}

/// The totals of one run.
#[derive(Default)]
struct Report {
    /// Of them, uploads (multipart).
    uploads: usize,
    /// Of them, downloads (the answer is a file).
    downloads: usize,
    /// Of them, requests with made-up values (the spec has no complete
    /// example).
    made_up: usize,
    /// Operations the mode does not apply to (no required body member).
    skipped: usize,
    /// `(operation, failure)`.
    failures: Vec<(String, Failure)>,
}

impl Report {
    /// One line per failure, then the failures grouped by cause.
    fn print(&self) {
        for (key, failure) in &self.failures {
            say(&format!(
                "FAILED {key}: {} — {}",
                failure.cause, failure.detail
            ));
        }
        let mut causes: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (key, failure) in &self.failures {
            causes.entry(&failure.cause).or_default().push(key);
        }
        let mut causes: Vec<_> = causes.into_iter().collect();
        causes.sort_by_key(|(cause, keys)| (std::cmp::Reverse(keys.len()), *cause));
        if !causes.is_empty() {
            say("failures by cause:");
        }
        for (cause, keys) in causes {
            say(&format!(
                "  {:>4} ops: {cause} (e.g. {})",
                keys.len(),
                keys[0]
            ));
        }
    }
}

/// The request with its body's `out_*_no` members renumbered for the
/// `index`th operation (last two characters replaced, so the length and
/// the bounds hold), or `None` when its body has none.
fn renumbered(request: &Request, index: usize) -> Option<Value> {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let suffix: String = [index / DIGITS.len() % DIGITS.len(), index % DIGITS.len()]
        .iter()
        .map(|&i| char::from(DIGITS[i]))
        .collect();
    let (Some(Value::Object(body)), Value::Object(all)) = (&request.body, &request.all) else {
        return None;
    };
    let mut all = all.clone();
    let mut any = false;
    for (name, value) in body {
        if let Value::String(number) = value
            && name.starts_with("out_")
            && name.ends_with("_no")
            && number.chars().count() >= 2
        {
            let stem: String = number.chars().take(number.chars().count() - 2).collect();
            all.insert(name.clone(), Value::String(format!("{stem}{suffix}")));
            any = true;
        }
    }
    any.then_some(Value::Object(all))
}

/// Members that name the calling merchant: they take the sandbox's
/// merchant id instead of the spec's example.
const MERCHANT_IDS: [&str; 4] = [
    "mchid",
    "sp_mchid",
    "stock_creator_mchid",
    "belong_merchant",
];

/// Puts the sandbox's merchant id into the members that name the caller.
fn as_the_merchant(request: &mut Request, mchid: &str) {
    if let Value::Object(all) = &mut request.all {
        for name in MERCHANT_IDS {
            if let Some(value @ Value::String(_)) = all.get_mut(name) {
                *value = Value::String(mchid.to_owned());
            }
        }
    }
}

/// Sets the member at the JSON `pointer` (its parent must exist).
fn set(all: &mut Value, pointer: &str, value: Value) -> Result<(), String> {
    let (parent, name) = pointer
        .rsplit_once('/')
        .ok_or_else(|| format!("{pointer:?} is not a JSON pointer"))?;
    match all.pointer_mut(parent) {
        Some(Value::Object(parent)) => {
            parent.insert(name.to_owned(), value);
            Ok(())
        }
        _ => Err(format!("the request has no object at {parent:?}")),
    }
}

/// The changes a coupon stock's spec request needs to be accepted: the
/// example is a NORMAL stock without the `fixed_normal_coupon` that such a
/// stock is made of, and its availability window is one instant in 2015.
/// The budget allows ten coupons of 1 fen each, up to ten per user.
fn stock_changes(out_request_no: &str) -> Vec<(&'static str, Value)> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let day = 24 * 3600;
    vec![
        ("/out_request_no", json!(out_request_no)),
        (
            "/coupon_use_rule/fixed_normal_coupon",
            json!({"coupon_amount": 1, "transaction_minimum": 1}),
        ),
        ("/available_begin_time", json!(china_time(now + 60))),
        ("/available_end_time", json!(china_time(now + 30 * day))),
        ("/stock_use_rule/max_amount", json!(10)),
        ("/stock_use_rule/max_coupons", json!(10)),
        ("/stock_use_rule/max_coupons_per_user", json!(10)),
    ]
}

/// A Unix time as WeChat Pay writes it: RFC 3339 in China Standard Time.
fn china_time(unix: u64) -> String {
    let local = unix + 8 * 3600;
    let (days, rest) = (local / 86_400, local % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = i64::try_from(days).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+08:00",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// The resources the stateful handlers act on, made with real calls
/// before the run: in a fresh sandbox the spec's example ids name
/// nothing, and a stock can only be started, paused or restarted from
/// the state before.
struct World {
    /// `(operation, JSON pointer into its request, value)`: each replaces
    /// the spec's example.
    overrides: Vec<(&'static str, &'static str, Value)>,
    /// What `GET /v3/bill/tradebill` announced: the download's URL and
    /// hash.
    bill: BillInfo,
}

/// What making the [`World`] needs.
struct SetUp<'a> {
    spec: &'a Spec,
    ops: &'a [Operation],
    client: &'a Client,
    mchid: &'a str,
}

impl SetUp<'_> {
    /// Sends the spec's request of `key`, with `changes`, through its
    /// generated type; the answer as JSON.
    async fn call(&self, key: &str, changes: &[(&str, Value)]) -> Result<Value, String> {
        let op = self
            .ops
            .iter()
            .find(|op| op.key() == key)
            .ok_or_else(|| format!("{key} is not in the spec"))?;
        let mut request =
            request_filled(self.spec, op).ok_or_else(|| format!("{key}: no request"))?;
        as_the_merchant(&mut request, self.mchid);
        for (pointer, value) in changes {
            set(&mut request.all, pointer, value.clone()).map_err(|e| format!("{key}: {e}"))?;
        }
        let mut check = Check {
            client: self.client,
            mode: Mode::SetUp,
            index: 0,
            request,
            pending: None,
            answer: None,
            produces: Vec::new(),
            upload: false,
        };
        dispatch::dispatch(key, &mut check)
            .ok_or_else(|| format!("{key} is not in the dispatch table"))?
            .map_err(|e| format!("{key}: {e}"))?;
        let answer = check.answer.ok_or_else(|| format!("{key}: nothing sent"))?;
        answer
            .await
            .map_err(|f| format!("{key}: {} — {}", f.cause, f.detail))
    }

    /// The string member `name` of an answer.
    fn text(answer: &Value, name: &str) -> Result<String, String> {
        answer
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("the answer has no {name}: {answer}"))
    }

    /// A coupon stock in the state `actions` lead to (from unactivated).
    async fn stock(&self, out_request_no: &str, actions: &[&str]) -> Result<String, String> {
        let created = self
            .call(
                "POST /v3/marketing/favor/coupon-stocks",
                &stock_changes(out_request_no),
            )
            .await?;
        let stock_id = Self::text(&created, "stock_id")?;
        for action in actions {
            let key = format!("POST /v3/marketing/favor/stocks/{{stock_id}}/{action}");
            self.call(&key, &[("/stock_id", json!(stock_id))]).await?;
        }
        Ok(stock_id)
    }

    /// A Native order of 888 fen (the refund example's total), paid
    /// through the sandbox's control route; its `transaction_id`.
    async fn paid_order(&self, base_url: &str, out_trade_no: &str) -> Result<String, String> {
        self.paid_order_with(base_url, out_trade_no, &[("/amount/total", json!(888))])
            .await
    }

    /// A Native order placed with `changes`, paid through the sandbox's
    /// control route; its `transaction_id`.
    async fn paid_order_with(
        &self,
        base_url: &str,
        out_trade_no: &str,
        changes: &[(&str, Value)],
    ) -> Result<String, String> {
        let mut all = vec![("/out_trade_no", json!(out_trade_no))];
        all.extend(changes.iter().cloned());
        self.call("POST /v3/pay/transactions/native", &all).await?;
        let url = format!("{base_url}/_sandbox/transactions/out-trade-no/{out_trade_no}/pay");
        let paid = reqwest::Client::new()
            .post(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("paying {out_trade_no}: {e}"))?
            .bytes()
            .await
            .map_err(|e| format!("paying {out_trade_no}: {e}"))?;
        let paid: Value = serde_json::from_slice(&paid)
            .map_err(|e| format!("paying {out_trade_no}: the answer is not JSON: {e}"))?;
        Self::text(&paid, "transaction_id")
    }

    async fn world(&self, base_url: &str) -> Result<World, String> {
        let unactivated = self.stock("conformance-stock-1", &[]).await?;
        let running = self.stock("conformance-stock-2", &["start"]).await?;
        let paused = self
            .stock("conformance-stock-3", &["start", "pause"])
            .await?;
        let sending = self.stock("conformance-stock-4", &["start"]).await?;

        let sent = self
            .call(
                "POST /v3/marketing/favor/users/{openid}/coupons",
                &[
                    ("/stock_id", json!(sending)),
                    ("/out_request_no", json!("conformance-coupon-1")),
                ],
            )
            .await?;
        let coupon_id = Self::text(&sent, "coupon_id")?;
        let send_request = self
            .ops
            .iter()
            .find(|op| op.key() == "POST /v3/marketing/favor/users/{openid}/coupons")
            .and_then(|op| request_filled(self.spec, op))
            .ok_or("no coupon request")?;
        let (openid, appid) = (
            Self::text(&send_request.all, "openid")?,
            Self::text(&send_request.all, "appid")?,
        );

        let refunded = self.paid_order(base_url, "conformance-order-1").await?;
        let queried = self.paid_order(base_url, "conformance-order-2").await?;
        let refund = self
            .call(
                "POST /v3/refund/domestic/refunds",
                &[
                    ("/transaction_id", json!(queried)),
                    ("/out_trade_no", json!("conformance-order-2")),
                    ("/out_refund_no", json!("conformance-refund-1")),
                ],
            )
            .await?;
        let out_refund_no = Self::text(&refund, "out_refund_no")?;

        let bill = self.call("GET /v3/bill/tradebill", &[]).await?;
        let bill = BillInfo::new(
            Self::text(&bill, "hash_type")?,
            Self::text(&bill, "hash_value")?,
            Self::text(&bill, "download_url")?,
        );

        // Profit sharing: orders placed for it (10,000 fen, so that the
        // example's 888 to a merchant is within the 30 % others may get),
        // the example's receiver added, as a direct merchant (the examples
        // name a sub-merchant the sandbox does not serve).
        let sharing_order = [
            ("/amount/total", json!(10_000)),
            ("/settle_info", json!({"profit_sharing": true})),
        ];
        let shared = self
            .paid_order_with(base_url, "conformance-sharing-1", &sharing_order)
            .await?;
        let unfrozen = self
            .paid_order_with(base_url, "conformance-sharing-2", &sharing_order)
            .await?;
        let queried_sharing = self
            .paid_order_with(base_url, "conformance-sharing-3", &sharing_order)
            .await?;
        let direct = ("/sub_mchid", Value::Null);
        self.call(
            "POST /v3/profitsharing/receivers/add",
            &[
                direct.clone(),
                ("/appid", json!("wx8888888888888888")),
                ("/type", json!("MERCHANT_ID")),
                ("/account", json!("86693852")),
                ("/name", json!("hu89ohu89ohu89o")),
            ],
        )
        .await?;
        let sharing = self
            .call(
                "POST /v3/profitsharing/orders",
                &[
                    direct.clone(),
                    ("/sub_appid", Value::Null),
                    ("/transaction_id", json!(queried_sharing)),
                    ("/out_order_no", json!("conformance-share-1")),
                    ("/unfreeze_unsplit", json!(false)),
                ],
            )
            .await?;
        let order_id = Self::text(&sharing, "order_id")?;
        self.call(
            "POST /v3/profitsharing/return-orders",
            &[
                direct.clone(),
                ("/order_id", json!(order_id)),
                ("/out_return_no", json!("conformance-return-1")),
            ],
        )
        .await?;

        // Merchant transfers: one bill to query, one to cancel (both wait
        // for the user's confirmation).
        let mut bills = Vec::new();
        for out_bill_no in ["conformanceBill1", "conformanceBill2"] {
            let bill = self
                .call(
                    "POST /v3/fund-app/mch-transfer/transfer-bills",
                    &[("/out_bill_no", json!(out_bill_no))],
                )
                .await?;
            bills.push(Self::text(&bill, "transfer_bill_no")?);
        }

        let stock_changes = stock_changes("conformance-stock-0");
        let mut overrides: Vec<(&'static str, &'static str, Value)> = stock_changes
            .into_iter()
            .filter(|(pointer, _)| *pointer != "/out_request_no")
            .map(|(pointer, value)| ("POST /v3/marketing/favor/coupon-stocks", pointer, value))
            .collect();
        overrides.extend([
            (
                "POST /v3/marketing/favor/stocks/{stock_id}/start",
                "/stock_id",
                json!(unactivated),
            ),
            (
                "POST /v3/marketing/favor/stocks/{stock_id}/pause",
                "/stock_id",
                json!(running),
            ),
            (
                "POST /v3/marketing/favor/stocks/{stock_id}/restart",
                "/stock_id",
                json!(paused),
            ),
            (
                "GET /v3/marketing/favor/stocks/{stock_id}",
                "/stock_id",
                json!(running),
            ),
            (
                "POST /v3/marketing/favor/users/{openid}/coupons",
                "/stock_id",
                json!(sending),
            ),
            (
                "GET /v3/marketing/favor/users/{openid}/coupons/{coupon_id}",
                "/coupon_id",
                json!(coupon_id),
            ),
            (
                "GET /v3/marketing/favor/users/{openid}/coupons/{coupon_id}",
                "/openid",
                json!(openid),
            ),
            (
                "GET /v3/marketing/favor/users/{openid}/coupons/{coupon_id}",
                "/appid",
                json!(appid),
            ),
            (
                "POST /v3/refund/domestic/refunds",
                "/transaction_id",
                json!(refunded),
            ),
            (
                "POST /v3/refund/domestic/refunds",
                "/out_trade_no",
                json!("conformance-order-1"),
            ),
            (
                "GET /v3/pay/transactions/id/{transaction_id}",
                "/transaction_id",
                json!(queried),
            ),
            (
                "GET /v3/refund/domestic/refunds/{out_refund_no}",
                "/out_refund_no",
                json!(out_refund_no),
            ),
            (
                "POST /v3/profitsharing/orders",
                "/transaction_id",
                json!(shared),
            ),
            (
                "POST /v3/profitsharing/orders/unfreeze",
                "/transaction_id",
                json!(unfrozen),
            ),
            // The example's out_order_no is the sharing example's, and a
            // merchant's order numbers are unique across its transactions.
            (
                "POST /v3/profitsharing/orders/unfreeze",
                "/out_order_no",
                json!("conformance-unfreeze-1"),
            ),
            (
                "GET /v3/profitsharing/orders/{out_order_no}",
                "/transaction_id",
                json!(queried_sharing),
            ),
            (
                "GET /v3/profitsharing/orders/{out_order_no}",
                "/out_order_no",
                json!("conformance-share-1"),
            ),
            (
                "POST /v3/profitsharing/return-orders",
                "/order_id",
                json!(order_id),
            ),
            (
                "GET /v3/profitsharing/return-orders/{out_return_no}",
                "/out_return_no",
                json!("conformance-return-1"),
            ),
            (
                "GET /v3/profitsharing/return-orders/{out_return_no}",
                "/out_order_no",
                json!("conformance-share-1"),
            ),
            (
                "GET /v3/profitsharing/transactions/{transaction_id}/amounts",
                "/transaction_id",
                json!(queried_sharing),
            ),
            (
                "GET /v3/fund-app/mch-transfer/transfer-bills/transfer-bill-no/{transfer_bill_no}",
                "/transfer_bill_no",
                json!(bills[0]),
            ),
            (
                "POST /v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{out_bill_no}/cancel",
                "/out_bill_no",
                json!("conformanceBill2"),
            ),
        ]);
        // Every profit-sharing operation above, as the direct merchant.
        for key in [
            "POST /v3/profitsharing/orders",
            "POST /v3/profitsharing/orders/unfreeze",
            "GET /v3/profitsharing/orders/{out_order_no}",
            "POST /v3/profitsharing/return-orders",
            "GET /v3/profitsharing/return-orders/{out_return_no}",
        ] {
            overrides.push((key, "/sub_mchid", Value::Null));
        }
        Ok(World { overrides, bill })
    }
}

/// Sends every operation of the spec in `mode` to a fresh sandbox.
async fn run(spec: &Spec, mode: Mode) -> (usize, Report) {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let credentials = sandbox.credentials();
    let client = Client::builder()
        .base_url(sandbox.base_url())
        .mchid(&credentials.mchid)
        .merchant_key_pem(
            &credentials.merchant_serial,
            &credentials.merchant_private_key_pem,
        )
        .wechatpay_public_key_pem(
            &credentials.public_key_id,
            &credentials.platform_public_key_pem,
        )
        .retry(RetryPolicy::none())
        // `GET /v3/certificates` is signed with the platform certificate.
        .platform_certificate_pem(&credentials.platform_certificate_pem)
        .build()
        .expect("the sandbox's credentials make a client");

    let mut ops = spec.operations().expect("the spec's operations");
    let world = SetUp {
        spec,
        ops: &ops,
        client: &client,
        mchid: &credentials.mchid,
    }
    .world(sandbox.base_url())
    .await
    .unwrap_or_else(|e| panic!("the resources the stateful operations act on: {e}"));
    // Creates before reads (a stable sort): what a POST sets up, a GET of
    // the same resource finds.
    ops.sort_by_key(|op| {
        ["POST", "PUT", "PATCH", "GET", "DELETE"]
            .iter()
            .position(|method| *method == op.method)
    });
    let mut report = Report::default();
    // `WXPAY_CONFORMANCE_VERBOSE=1`: each failure with the request sent.
    let verbose = std::env::var_os("WXPAY_CONFORMANCE_VERBOSE").is_some();
    for (index, op) in ops.iter().enumerate() {
        let key = op.key();
        let fail = |report: &mut Report, cause: &str, detail: String| {
            report
                .failures
                .push((key.clone(), Failure::new(cause, detail)));
        };
        let Some(request) = request_filled(spec, op) else {
            fail(
                &mut report,
                "no request could be made from the spec",
                String::new(),
            );
            continue;
        };
        let mut request = request;
        // The merchant is the sandbox's: another merchant's id is refused.
        as_the_merchant(&mut request, &credentials.mchid);
        for (_, pointer, value) in world.overrides.iter().filter(|(at, ..)| *at == key) {
            if let Err(error) = set(&mut request.all, pointer, value.clone()) {
                fail(&mut report, "the world's override does not apply", error);
            }
        }
        let made_up = common::request_example(spec, op).is_none();
        let parts = UploadParts::new(spec, op, &request);
        let produces: Vec<String> = get(&op.op, "produces")
            .and_then(|p| p.as_sequence())
            .map(|p| {
                p.iter()
                    .filter_map(|p| p.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let download = !produces.is_empty() && !produces.iter().any(|p| p.contains("json"));
        if download && mode == Mode::Send {
            report.downloads += 1;
            if key == "GET /v3/billdownload/file" {
                if let Err(error) = client.download_bill(&world.bill).await {
                    report.failures.push((key.clone(), Failure::of(&error)));
                }
                continue;
            }
        }
        let mut check = Check {
            client: &client,
            mode: if download && mode == Mode::Send {
                Mode::Fetch
            } else {
                mode
            },
            index,
            request,
            pending: None,
            answer: None,
            produces,
            upload: false,
        };
        match dispatch::dispatch(&key, &mut check) {
            None => {
                fail(&mut report, "not in the dispatch table", String::new());
                continue;
            }
            Some(Err(error)) => {
                fail(&mut report, "request does not build", error);
                continue;
            }
            Some(Ok(())) => {}
        }
        report.made_up += usize::from(made_up);
        let sent = verbose.then(|| check.request.all.to_string());
        let pending = if check.upload {
            if mode == Mode::WithoutRequired {
                // Required meta members are the macro's to check.
                report.skipped += 1;
                continue;
            }
            report.uploads += 1;
            match upload(&key, &parts, &client) {
                Ok(Some(pending)) => pending,
                Err(error) => {
                    fail(&mut report, "upload does not build", error);
                    continue;
                }
                Ok(None) => {
                    fail(
                        &mut report,
                        "upload this test cannot build (add it to `upload`)",
                        String::new(),
                    );
                    continue;
                }
            }
        } else {
            match check.pending.take() {
                Some(pending) => pending,
                None => {
                    report.skipped += 1;
                    continue;
                }
            }
        };
        if let Err(mut failure) = pending.await {
            if let Some(sent) = sent {
                failure.detail.push_str(&format!("; request {sent}"));
            }
            report.failures.push((key, failure));
        }
    }
    sandbox.shutdown().await;
    (ops.len(), report)
}

#[tokio::test]
async fn every_operation_is_sent_and_decoded() {
    let Some(spec) = spec() else { return };
    let started = Instant::now();
    let (total, report) = run(&spec, Mode::Send).await;
    report.print();
    let failed = report.failures.len();
    say(&format!(
        "conformance: {} of {total} operations sent and decoded; {failed} failed \
         ({} uploads sent as multipart, {} downloads fetched as files, {} requests with \
         made-up values where the spec has no complete example; {:.1}s)",
        total - failed,
        report.uploads,
        report.downloads,
        report.made_up,
        started.elapsed().as_secs_f64(),
    ));
    assert_eq!(failed, 0, "{failed} of {total} operations failed");
}

#[tokio::test]
async fn a_missing_required_member_is_a_param_error() {
    let Some(spec) = spec() else { return };
    let started = Instant::now();
    let (total, report) = run(&spec, Mode::WithoutRequired).await;
    report.print();
    let failed = report.failures.len();
    let tried = total - report.skipped;
    say(&format!(
        "conformance (missing required member): {} of {tried} operations with a required body \
         member answered 400 PARAM_ERROR naming it; {failed} failed ({} of {total} have none \
         or are uploads; {:.1}s)",
        tried - failed,
        report.skipped,
        started.elapsed().as_secs_f64(),
    ));
    assert_eq!(failed, 0, "{failed} operations failed");
}
