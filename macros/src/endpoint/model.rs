//! The typed model of an endpoint, built from the attribute's arguments and
//! the struct, and validated: every problem is collected and reported at
//! the token it is about.

use darling::{FromField, FromMeta};
use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, FieldsNamed, Ident, LitStr, Meta, Type};

use super::args::{self, Args, HttpMethod, NamedArgs, SignKind};
use super::template::Template;
use super::{error_at, serde_attrs};
use crate::suggest;

/// Where a field travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldKind {
    /// Bound to a `<placeholder>`: one percent-encoded path segment.
    Path,
    /// A `key=value` pair in the query string.
    Query,
    /// A member of the JSON body.
    Body,
}

/// One field of the endpoint struct.
pub(crate) struct Field {
    /// The field's name (possibly raw, `r#type`).
    pub ident: Ident,
    /// The field's type.
    pub ty: Type,
    /// Where it travels.
    pub kind: FieldKind,
    /// The field's `#[serde(...)]` attributes, repeated on the view.
    pub serde: Vec<Attribute>,
    /// The field's `#[cfg(...)]` attributes, repeated on the view.
    pub cfg: Vec<Attribute>,
    /// Whether to leave the field out when it is `None`: it is an `Option`
    /// and the user set no skipping rule of their own.
    pub skip_none: bool,
    /// `#[wxpay(encrypt)]`: serialized as RSA-OAEP ciphertext under WeChat
    /// Pay's key.
    pub encrypt: bool,
    /// Its part of a `multipart` upload, when marked (checked against the
    /// endpoint in [`check_multipart`]).
    pub upload: UploadMarker,
    /// `#[wxpay(idempotency_key)]`, where it was written: the field is the
    /// number WeChat Pay recognises a repeat by.
    pub idempotency_key: Option<Span>,
}

/// What a field's `#[wxpay(meta)]`, `#[wxpay(form)]` or
/// `#[wxpay(part = "…")]` says about its part of an upload.
#[derive(Clone)]
pub(crate) enum UploadMarker {
    /// No upload marker: in an upload, the file.
    None,
    /// The file, sent as the part of this name.
    Part(LitStr),
    /// `#[wxpay(meta)]`: the `meta` document, serialized to JSON.
    Meta(Span),
    /// `#[wxpay(form)]`: a text part named after the field.
    Form(Span),
}

impl UploadMarker {
    /// The marker as written and where, `None` for [`UploadMarker::None`].
    fn written(&self) -> Option<(&'static str, Span)> {
        match self {
            UploadMarker::None => None,
            UploadMarker::Part(name) => Some(("part = \"…\"", name.span())),
            UploadMarker::Meta(span) => Some(("meta", *span)),
            UploadMarker::Form(span) => Some(("form", *span)),
        }
    }
}

/// A validated endpoint, ready for code generation.
pub(crate) struct Endpoint {
    /// The struct's name.
    pub ident: Ident,
    /// The HTTP method.
    pub method: HttpMethod,
    /// The path template.
    pub template: Template,
    /// The fields, in declaration order.
    pub fields: Vec<Field>,
    /// `response = Type`, if given.
    pub response: Option<Type>,
    /// The path of the `wxpay` crate (`::wxpay` unless `crate = "..."`).
    pub krate: syn::Path,
    /// Container serde settings to repeat on the views.
    pub container_serde: Vec<proc_macro2::TokenStream>,
    /// Whether the user renamed the container; otherwise the views are
    /// renamed to the struct's name, which `tag` would show.
    pub renames_container: bool,
    /// `multipart`: a media upload, whose one body field is the file.
    pub multipart: Option<Multipart>,
    /// `serial`: always send `Wechatpay-Serial`.
    pub serial: bool,
    /// What the endpoint says about sending its request again.
    pub idempotency: Idempotency,
    /// `host = Name`: the `wxpay::Host` variant, when not the default.
    pub host: Option<Ident>,
    /// `v2`: an APIv2 operation and its settings.
    pub v2: Option<V2>,
}

/// A validated APIv2 operation's settings.
pub(crate) struct V2 {
    /// `sign = …` (default `md5`).
    pub sign: SignKind,
    /// `client_cert`.
    pub client_cert: bool,
    /// `merchant = "…"`: the member filled with the merchant number.
    pub merchant: Option<LitStr>,
    /// Whether WeChat Pay signs the answer (not `unsigned_answer`).
    pub signed_answer: bool,
}

/// What an endpoint declares about resending its request
/// (`wxpay::Idempotency`).
pub(crate) enum Idempotency {
    /// Nothing: the method's default.
    Default,
    /// `idempotent`: `Idempotency::Natural`.
    Natural,
    /// `idempotent = false`: `Idempotency::NotIdempotent`.
    NotIdempotent,
    /// An `#[wxpay(idempotency_key)]` field, by its wire name.
    Keyed(String),
}

/// A validated `multipart` endpoint: which field is the file, which limits
/// apply, and the form around it when it is not the standard one.
pub(crate) struct Multipart {
    /// The field holding the `MediaFile`.
    pub file: Ident,
    /// Its type, as written (a wrong one is reported at it).
    pub ty: Type,
    /// The `MediaLimits` constant named, or `None` for images.
    pub limits: Option<syn::Path>,
    /// `#[wxpay(part = "…")]` on the file: its part's name, if not `file`.
    pub part: Option<LitStr>,
    /// The `#[wxpay(meta)]` field, whose JSON replaces the standard
    /// `{"filename","sha256"}`.
    pub meta: Option<(Ident, Type)>,
    /// The `#[wxpay(form)]` fields: text parts after `meta`, in order.
    pub form: Vec<FormField>,
}

/// A `#[wxpay(form)]` field of an upload.
pub(crate) struct FormField {
    /// The field's name; its part's name is the name unraw.
    pub ident: Ident,
    /// Its type, as written.
    pub ty: Type,
    /// Its `#[cfg(...)]` attributes.
    pub cfg: Vec<Attribute>,
}

impl Multipart {
    /// Whether the form is the standard one: part `file`, meta
    /// `{"filename","sha256"}`, nothing else.
    pub fn is_standard(&self) -> bool {
        self.part.is_none() && self.meta.is_none() && self.form.is_empty()
    }
}

/// `#[wxpay(...)]` on a field, read by darling: unknown keys are errors.
#[derive(FromField)]
#[darling(attributes(wxpay), forward_attrs(serde, cfg))]
struct FieldOpts {
    ident: Option<Ident>,
    ty: Type,
    attrs: Vec<Attribute>,
    /// `#[wxpay(query)]`: send the field in the query string.
    query: Marker,
    /// `#[wxpay(body)]`: send the field in the JSON body (the default for
    /// POST, PUT and PATCH; opt-in for DELETE; an error for GET).
    body: Marker,
    /// `#[wxpay(encrypt)]`: encrypt the value (personal data) with WeChat
    /// Pay's public key when the request is built.
    encrypt: Marker,
    /// `#[wxpay(meta)]`: in an upload, the `meta` part.
    meta: Marker,
    /// `#[wxpay(form)]`: in an upload, a text part.
    form: Marker,
    /// `#[wxpay(part = "…")]`: in an upload, the file part's name.
    #[darling(default)]
    part: Option<LitStr>,
    /// `#[wxpay(idempotency_key)]`: the number WeChat Pay recognises a
    /// repeated request by.
    idempotency_key: Marker,
}

/// A bare word in `#[wxpay(...)]`, remembering where it was written.
#[derive(Debug, Default, Clone, Copy)]
struct Marker(Option<Span>);

impl Marker {
    fn is_present(self) -> bool {
        self.0.is_some()
    }

    fn span(self) -> Span {
        self.0.unwrap_or_else(Span::call_site)
    }
}

impl FromMeta for Marker {
    fn from_none() -> Option<Self> {
        Some(Marker(None))
    }

    fn from_meta(meta: &Meta) -> darling::Result<Self> {
        match meta {
            Meta::Path(path) => Ok(Marker(Some(path.span()))),
            other => {
                let name = other
                    .path()
                    .get_ident()
                    .map(Ident::to_string)
                    .unwrap_or_default();
                Err(error_at(
                    other.path().span(),
                    format!("`{name}` takes no value: write `#[wxpay({name})]`"),
                ))
            }
        }
    }
}

impl Endpoint {
    /// Builds and validates the model. `args` is the result of parsing the
    /// attribute's arguments; when that failed, the struct is still checked
    /// so that all its problems are reported together.
    pub(crate) fn build(args: syn::Result<Args>, input: &DeriveInput) -> darling::Result<Self> {
        let mut errors = darling::Error::accumulator();
        let (method, template, named) = read_args(args, &mut errors);
        check_generics(input, &mut errors);
        check_struct_attrs(input, &mut errors);
        let named_fields = named_fields(input, &mut errors);
        let is_v2 = named.as_ref().is_some_and(|named| named.v2.is_present());

        // Placeholders against fields, then each field's own markers.
        if let (Some(template), Some(fields)) = (&template, named_fields) {
            bind_placeholders(template, fields, &input.ident, &mut errors);
        }
        let fields: Vec<Field> = named_fields
            .map(|fields| {
                fields
                    .named
                    .iter()
                    .filter_map(|field| {
                        let opts = errors.handle(FieldOpts::from_field(field))?;
                        if is_v2 {
                            check_v2_field(&opts, &mut errors);
                        }
                        classify(opts, method, template.as_ref(), &mut errors)
                    })
                    .collect()
            })
            .unwrap_or_default();

        let multipart_arg = named.as_ref().and_then(|n| n.multipart.as_ref());
        let multipart = match (multipart_arg, method) {
            (Some(arg), Some(method)) => {
                // A field dropped for an error of its own may have been the
                // file: then "no file" would only repeat that error.
                let all_read = named_fields.is_some_and(|named| named.named.len() == fields.len());
                check_multipart(arg, method, &fields, all_read, input, &mut errors)
            }
            _ => None,
        };
        if named.is_some() && multipart_arg.is_none() {
            for field in &fields {
                if let Some((marker, span)) = field.upload.written() {
                    errors.push(error_at(
                        span,
                        format!(
                            "`#[wxpay({marker})]` describes a part of an upload, but `{}` is not \
                             one: add `multipart` to `#[wxpay::endpoint(...)]`, or remove the marker",
                            input.ident
                        ),
                    ));
                }
            }
        }

        // A media upload's repeat stores the same file again and answers
        // a media id for it: naturally idempotent unless it says otherwise.
        let idempotency =
            named.as_ref().map(
                |named| match check_idempotency(named, &fields, &mut errors) {
                    Idempotency::Default if multipart.is_some() => Idempotency::Natural,
                    other => other,
                },
            );

        let v2 = named
            .as_ref()
            .map(|named| check_v2(named, method, template.as_ref(), &fields, &mut errors));

        let endpoint = match (method, template, named, idempotency, v2) {
            (Some(method), Some(template), Some(named), Some(idempotency), Some(v2))
                if named_fields.is_some() =>
            {
                Some(Endpoint {
                    idempotency,
                    v2,
                    host: named.host.map(|host| host.variant),
                    ident: input.ident.clone(),
                    method,
                    template,
                    fields,
                    serial: named.serial.is_present(),
                    response: named.response,
                    krate: named.krate.unwrap_or_else(|| syn::parse_quote!(::wxpay)),
                    container_serde: serde_attrs::container_settings(&input.attrs),
                    renames_container: serde_attrs::sets_any(&input.attrs, &["rename"]),
                    multipart,
                })
            }
            _ => None,
        };
        errors.finish()?;
        // Every path to `None` above pushed an error, so this is not reached.
        endpoint.ok_or_else(|| darling::Error::custom("the endpoint could not be read"))
    }
}

/// Members the APIv2 runtime writes into every request itself.
const V2_PROTOCOL_MEMBERS: [&str; 3] = ["sign", "nonce_str", "sign_type"];

/// Checks the APIv2 settings against the rest of the attribute: without
/// `v2`, none of them may appear; with it, the operation is a `POST` or
/// `GET` without placeholders, neither an upload nor `serial`, and no field
/// takes a member the runtime writes.
fn check_v2(
    named: &NamedArgs,
    method: Option<HttpMethod>,
    template: Option<&Template>,
    fields: &[Field],
    errors: &mut darling::error::Accumulator,
) -> Option<V2> {
    if !named.v2.is_present() {
        let written = [
            ("sign = …", named.sign.map(|sign| sign.span)),
            (
                "client_cert",
                named
                    .client_cert
                    .is_present()
                    .then(|| named.client_cert.span()),
            ),
            (
                "merchant = \"…\"",
                named.merchant.as_ref().map(LitStr::span),
            ),
            (
                "unsigned_answer",
                named
                    .unsigned_answer
                    .is_present()
                    .then(|| named.unsigned_answer.span()),
            ),
        ];
        for (name, span) in written {
            if let Some(span) = span {
                errors.push(error_at(
                    span,
                    format!(
                        "`{name}` describes an APIv2 operation: add `v2` to the attribute, or \
                         remove it"
                    ),
                ));
            }
        }
        return None;
    }
    let at = named.v2.span();
    if let Some(method) = method
        && !matches!(method, HttpMethod::Post | HttpMethod::Get)
    {
        errors.push(error_at(
            at,
            format!(
                "APIv2 operations are sent with POST (or GET for signed links), not {}",
                method.as_str()
            ),
        ));
    }
    if let Some(template) = template {
        for (name, span) in template.params() {
            errors.push(error_at(
                span,
                format!(
                    "APIv2 paths carry no parameters: `<{name}>` would be a member of the XML \
                     body; make `{name}` a plain field and write the path without it"
                ),
            ));
        }
    }
    if let Some(multipart) = &named.multipart {
        errors.push(error_at(
            multipart.span,
            "APIv2 uploads are not supported by the attribute: remove `multipart`",
        ));
    }
    if named.serial.is_present() {
        errors.push(error_at(
            named.serial.span(),
            "`serial` announces an APIv3 key; APIv2 requests carry no `Wechatpay-Serial`: \
             remove it",
        ));
    }
    if let Some(merchant) = &named.merchant {
        let value = merchant.value();
        if value.is_empty()
            || !value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            errors.push(error_at(
                merchant.span(),
                "`merchant = \"…\"` names the XML member that carries the merchant number, \
                 such as \"mch_id\"",
            ));
        }
    }
    for field in fields {
        let name = field.ident.unraw().to_string();
        if V2_PROTOCOL_MEMBERS.contains(&name.as_str()) {
            errors.push(error_at(
                field.ident.span(),
                format!(
                    "`{name}` is written by the runtime into every APIv2 request: remove the \
                     field"
                ),
            ));
        } else if named.merchant.as_ref().is_some_and(|m| m.value() == name) {
            errors.push(error_at(
                field.ident.span(),
                format!(
                    "`{name}` is filled with the client's merchant number (`merchant = \
                     \"{name}\"`): remove the field"
                ),
            ));
        }
    }
    Some(V2 {
        sign: named.sign.map_or(SignKind::Md5, |sign| sign.kind),
        client_cert: named.client_cert.is_present(),
        merchant: named.merchant.clone(),
        signed_answer: !named.unsigned_answer.is_present(),
    })
}

/// An APIv2 field's markers: its members all travel the same way (XML, or
/// the signed query string of a GET), so placement and encryption markers
/// have no meaning.
fn check_v2_field(opts: &FieldOpts, errors: &mut darling::error::Accumulator) {
    let name = opts
        .ident
        .as_ref()
        .map(|ident| ident.unraw().to_string())
        .unwrap_or_default();
    for (marker, flag) in [
        ("query", opts.query),
        ("body", opts.body),
        ("encrypt", opts.encrypt),
        ("meta", opts.meta),
        ("form", opts.form),
    ] {
        if flag.is_present() {
            errors.push(error_at(
                flag.span(),
                format!(
                    "`#[wxpay({marker})]` on `{name}` has no meaning for an APIv2 operation, \
                     whose fields all travel as members of the signed request: remove it"
                ),
            ));
        }
    }
}

/// Reads what the endpoint says about resending: `idempotent` on the
/// attribute, or one `#[wxpay(idempotency_key)]` field that is always sent
/// (not an `Option`), never both.
fn check_idempotency(
    named: &NamedArgs,
    fields: &[Field],
    errors: &mut darling::error::Accumulator,
) -> Idempotency {
    let keys: Vec<&Field> = fields
        .iter()
        .filter(|field| field.idempotency_key.is_some())
        .collect();
    let span_of = |field: &Field| field.idempotency_key.unwrap_or_else(Span::call_site);
    for extra in keys.iter().skip(1) {
        errors.push(error_at(
            span_of(extra),
            format!(
                "`{}` is a second `#[wxpay(idempotency_key)]`: a request is recognised as a \
                 repeat by one number; keep the marker on `{}` only",
                extra.ident.unraw(),
                keys[0].ident.unraw()
            ),
        ));
    }
    for key in &keys {
        if is_option(&key.ty) {
            errors.push(error_at(
                span_of(key),
                format!(
                    "`{}` is an `Option`, but an idempotency key must be sent with every \
                     request: make it a plain type, or remove `#[wxpay(idempotency_key)]`",
                    key.ident.unraw()
                ),
            ));
        }
    }
    match (&named.idempotent, keys.first()) {
        (Some(flag), Some(key)) => {
            errors.push(error_at(
                flag.span,
                format!(
                    "`idempotent` repeats what `#[wxpay(idempotency_key)]` on `{}` already \
                     says; keep one of them",
                    key.ident.unraw()
                ),
            ));
            Idempotency::Default
        }
        (Some(flag), None) if flag.value => Idempotency::Natural,
        (Some(_), None) => Idempotency::NotIdempotent,
        (None, Some(key)) => Idempotency::Keyed(
            serde_attrs::renamed(&key.serde).unwrap_or_else(|| key.ident.unraw().to_string()),
        ),
        (None, None) => Idempotency::Default,
    }
}

/// Checks a `multipart` endpoint: POST; among its body fields exactly one
/// file (not encrypted, no serde attributes), at most one `meta`, any
/// number of text `form` fields. `None` after an error.
fn check_multipart(
    arg: &args::MultipartArg,
    method: HttpMethod,
    fields: &[Field],
    all_read: bool,
    input: &DeriveInput,
    errors: &mut darling::error::Accumulator,
) -> Option<Multipart> {
    let mut ok = true;
    if method != HttpMethod::Post {
        errors.push(error_at(
            arg.span,
            format!(
                "`multipart` uploads are sent with POST, not {}: write `#[wxpay::endpoint(POST, …, multipart)]`",
                method.as_str()
            ),
        ));
        ok = false;
    }
    let body = fields.iter().filter(|field| field.kind == FieldKind::Body);
    let (mut files, mut metas, mut form) = (Vec::new(), Vec::new(), Vec::new());
    for field in body {
        match field.upload {
            UploadMarker::None | UploadMarker::Part(_) => files.push(field),
            UploadMarker::Meta(_) => metas.push(field),
            UploadMarker::Form(_) => form.push(field),
        }
    }
    // What only the file may have, the `meta` and text fields may not either.
    for field in fields.iter().filter(|field| field.kind == FieldKind::Body) {
        let role = match field.upload {
            UploadMarker::None | UploadMarker::Part(_) => {
                "the uploaded file, which is sent as it is"
            }
            UploadMarker::Meta(_) => "the upload's `meta`, which is signed as serialized",
            UploadMarker::Form(_) => "a text part of the upload",
        };
        let name = field.ident.unraw();
        if field.encrypt {
            errors.push(error_at(
                field.ident.span(),
                format!(
                    "`{name}` is {role}; `#[wxpay(encrypt)]` applies to JSON bodies, remove it"
                ),
            ));
            ok = false;
        }
        if let Some(attr) = field.serde.first() {
            errors.push(error_at(
                attr.path().span(),
                format!(
                    "`{name}` is {role}, not a JSON member: `#[serde(...)]` has no effect on it"
                ),
            ));
            ok = false;
        }
    }
    for extra in metas.iter().skip(1) {
        errors.push(error_at(
            extra.ident.span(),
            format!(
                "an upload has one `meta`, but `{}` is marked `#[wxpay(meta)]` too; \
                 put what it holds in `{}`",
                extra.ident.unraw(),
                metas[0].ident.unraw()
            ),
        ));
        ok = false;
    }
    let Some((file, extra)) = files.split_first() else {
        if ok && all_read {
            errors.push(error_at(
                input.ident.span(),
                format!(
                    "a `multipart` endpoint sends one file: add a field for it to `{}`, \
                     such as `pub file: wxpay::media::MediaFile`",
                    input.ident
                ),
            ));
        }
        return None;
    };
    for field in extra {
        errors.push(error_at(
            field.ident.span(),
            format!(
                "a `multipart` endpoint sends one file, but `{}` would be a second file \
                 next to `{}`: mark it `#[wxpay(form)]` to send it as a text part, \
                 `#[wxpay(meta)]` if it is the `meta` document, or `#[wxpay(query)]` to \
                 send it in the query",
                field.ident.unraw(),
                file.ident.unraw()
            ),
        ));
        ok = false;
    }
    let part = match &file.upload {
        UploadMarker::Part(name) => Some(name.clone()),
        _ => None,
    };
    ok.then(|| Multipart {
        file: file.ident.clone(),
        ty: file.ty.clone(),
        limits: arg.limits.clone(),
        part,
        meta: metas
            .first()
            .map(|meta| (meta.ident.clone(), meta.ty.clone())),
        form: form
            .iter()
            .map(|field| FormField {
                ident: field.ident.clone(),
                ty: field.ty.clone(),
                cfg: field.cfg.clone(),
            })
            .collect(),
    })
}

/// The method, template and named arguments, each `None` when missing or
/// wrong (and reported).
fn read_args(
    args: syn::Result<Args>,
    errors: &mut darling::error::Accumulator,
) -> (Option<HttpMethod>, Option<Template>, Option<NamedArgs>) {
    match args {
        Ok(args) => {
            let (method, template) = args::require_positional(&args, errors);
            let method = method.and_then(|m| errors.handle(HttpMethod::from_ident(&m)));
            let template = template.map(|t| Template::parse_into(&t, errors));
            let named = errors.handle(NamedArgs::from_tail(&args.named));
            (method, template, named)
        }
        Err(error) => {
            errors.push(error.into());
            (None, None, None)
        }
    }
}

/// The struct's named fields, or an error saying why it has none.
fn named_fields<'a>(
    input: &'a DeriveInput,
    errors: &mut darling::error::Accumulator,
) -> Option<&'a FieldsNamed> {
    let (span, message) = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => return Some(fields),
            Fields::Unnamed(fields) => (
                fields.span(),
                "an endpoint needs named fields, so that `<placeholders>` can name them: \
                 write `struct Name { field: Type, .. }`",
            ),
            Fields::Unit => (
                input.ident.span(),
                "a unit struct cannot be an endpoint: write `struct Name {}` for an endpoint \
                 without parameters",
            ),
        },
        Data::Enum(data) => (
            data.enum_token.span(),
            "`#[wxpay::endpoint]` goes on a struct with named fields, not on an enum",
        ),
        Data::Union(data) => (
            data.union_token.span(),
            "`#[wxpay::endpoint]` goes on a struct with named fields, not on a union",
        ),
    };
    errors.push(error_at(span, message));
    None
}

/// Rejects `#[wxpay(...)]` on the struct itself.
fn check_struct_attrs(input: &DeriveInput, errors: &mut darling::error::Accumulator) {
    for attr in &input.attrs {
        if attr.path().is_ident("wxpay") {
            errors.push(error_at(
                attr.path().span(),
                "`#[wxpay(...)]` goes on fields; the endpoint's own arguments go in \
                 `#[wxpay::endpoint(...)]`",
            ));
        }
    }
}

/// Rejects generic parameters and where clauses.
fn check_generics(input: &DeriveInput, errors: &mut darling::error::Accumulator) {
    let generics = &input.generics;
    if !generics.params.is_empty() {
        errors.push(error_at(
            generics.params.span(),
            "an endpoint cannot have generic parameters or lifetimes: its fields are \
             serialized into one fixed request shape; use owned, concrete types",
        ));
    }
    if let Some(clause) = &generics.where_clause {
        errors.push(error_at(
            clause.span(),
            "an endpoint cannot have a where clause: use owned, concrete field types",
        ));
    }
}

/// The field's name as a placeholder would spell it (`r#type` → `type`).
fn field_name(ident: Option<&Ident>) -> Option<String> {
    ident.map(|ident| ident.unraw().to_string())
}

/// Checks that each placeholder names a field.
fn bind_placeholders(
    template: &Template,
    fields: &FieldsNamed,
    struct_name: &Ident,
    errors: &mut darling::error::Accumulator,
) {
    let names: Vec<String> = fields
        .named
        .iter()
        .filter_map(|field| field_name(field.ident.as_ref()))
        .collect();
    for (param, span) in template.params() {
        if names.iter().any(|name| name == param) {
            continue;
        }
        let unbound = names
            .iter()
            .filter(|name| !template.params().any(|(p, _)| p == name.as_str()))
            .map(String::as_str);
        let message = match suggest::closest(param, unbound) {
            Some(close) => format!(
                "no field named `{param}` for placeholder `<{param}>`; did you mean `{close}`?"
            ),
            None => format!(
                "no field named `{param}` for placeholder `<{param}>`: add a field \
                 `{param}` to `{struct_name}`; its value becomes this path segment"
            ),
        };
        errors.push(error_at(span, message));
    }
}

/// Decides where a field travels, rejecting markers that contradict the
/// method or the template. `None` after an error, or when the method or
/// template is missing (already reported).
fn classify(
    opts: FieldOpts,
    method: Option<HttpMethod>,
    template: Option<&Template>,
    errors: &mut darling::error::Accumulator,
) -> Option<Field> {
    let name = field_name(opts.ident.as_ref())?;
    let in_path = template.map(|t| t.params().any(|(param, _)| param == name));
    let upload = upload_marker(&opts, &name, in_path, errors);
    let mut ok = upload.is_some();

    if opts.query.is_present() && opts.body.is_present() {
        errors.push(error_at(
            opts.body.span(),
            format!(
                "`{name}` is marked both `query` and `body`; a field is sent in one place, \
                 so keep one marker"
            ),
        ));
        ok = false;
    }
    if in_path == Some(true) {
        for (flag, marker) in [(&opts.query, "query"), (&opts.body, "body")] {
            if flag.is_present() {
                errors.push(error_at(
                    flag.span(),
                    format!(
                        "`{name}` fills the placeholder `<{name}>` and is sent in the path; \
                         remove `#[wxpay({marker})]`"
                    ),
                ));
                ok = false;
            }
        }
    }
    if let Some(method) = method.filter(|m| !m.allows_body())
        && opts.body.is_present()
        && in_path != Some(true)
    {
        errors.push(error_at(
            opts.body.span(),
            format!(
                "`#[wxpay(body)]` on a {method} endpoint: {method} requests carry no body; \
                 remove the marker to send `{name}` in the query string",
                method = method.as_str()
            ),
        ));
        ok = false;
    }

    if opts.encrypt.is_present() && in_path == Some(true) {
        errors.push(error_at(
            opts.encrypt.span(),
            format!(
                "`{name}` is a path parameter, and path parameters are never encrypted; \
                 remove `#[wxpay(encrypt)]`"
            ),
        ));
        ok = false;
    }
    let (serde, cfg): (Vec<Attribute>, Vec<Attribute>) =
        opts.attrs.into_iter().partition(serde_attrs::is_serde);
    if opts.encrypt.is_present() && serde_attrs::sets_any(&serde, &["serialize_with", "with"]) {
        errors.push(error_at(
            opts.encrypt.span(),
            format!(
                "`{name}` has its own `serialize_with`/`with`, which `#[wxpay(encrypt)]` \
                 replaces; keep one of them"
            ),
        ));
        ok = false;
    }

    let (method, in_path) = (method?, in_path?);
    let kind = if in_path {
        FieldKind::Path
    } else if opts.query.is_present() {
        FieldKind::Query
    } else if method.has_body() || opts.body.is_present() {
        FieldKind::Body
    } else {
        FieldKind::Query
    };
    let skip_none = is_option(&opts.ty)
        && !serde_attrs::sets_any(&serde, &["skip", "skip_serializing", "skip_serializing_if"]);
    let ident = opts.ident?;
    ok.then_some(Field {
        ident,
        ty: opts.ty,
        kind,
        serde,
        cfg,
        skip_none,
        encrypt: opts.encrypt.is_present(),
        upload: upload?,
        idempotency_key: opts.idempotency_key.0,
    })
}

/// The field's upload marker: at most one of `meta`, `form` and
/// `part = "…"`, on a field sent in the body. `None` after an error.
fn upload_marker(
    opts: &FieldOpts,
    name: &str,
    in_path: Option<bool>,
    errors: &mut darling::error::Accumulator,
) -> Option<UploadMarker> {
    let mut written = Vec::new();
    if let Some(part) = &opts.part {
        written.push(UploadMarker::Part(part.clone()));
    }
    if opts.meta.is_present() {
        written.push(UploadMarker::Meta(opts.meta.span()));
    }
    if opts.form.is_present() {
        written.push(UploadMarker::Form(opts.form.span()));
    }
    let mut markers = written.iter().filter_map(UploadMarker::written);
    let Some((first, _)) = markers.next() else {
        return Some(UploadMarker::None);
    };
    let mut ok = true;
    for (second, span) in markers {
        errors.push(error_at(
            span,
            format!(
                "`{name}` is marked both `{first}` and `{second}`; a field is one part of \
                 an upload (the file, the `meta` or a text field), so keep one marker"
            ),
        ));
        ok = false;
    }
    let elsewhere = if in_path == Some(true) {
        Some("fills a path placeholder")
    } else if opts.query.is_present() {
        Some("is marked `query`")
    } else {
        None
    };
    if let (Some(elsewhere), Some((marker, span))) = (elsewhere, written[0].written()) {
        errors.push(error_at(
            span,
            format!(
                "`{name}` {elsewhere}, so it is not a part of the upload; \
                 remove `#[wxpay({marker})]`"
            ),
        ));
        ok = false;
    }
    if let UploadMarker::Part(part) = &written[0] {
        let value = part.value();
        if value.is_empty()
            || value == "meta"
            || value.contains('"')
            || value.chars().any(char::is_control)
        {
            errors.push(error_at(
                part.span(),
                format!(
                    "{value:?} cannot name the file's part (it is empty, `meta`, or holds a \
                     `\"` or a control character); use the name the operation documents, \
                     such as `submission_file`"
                ),
            ));
            ok = false;
        }
    }
    ok.then(|| written.swap_remove(0))
}

/// Whether `ty` is written as `Option<…>` (`Option`, `std::option::Option`
/// or `core::option::Option`). Aliases are not seen through.
pub(crate) fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Group(group) => is_option(&group.elem),
        Type::Paren(paren) => is_option(&paren.elem),
        Type::Path(path) if path.qself.is_none() => {
            let segments: Vec<String> = path
                .path
                .segments
                .iter()
                .map(|segment| segment.ident.to_string())
                .collect();
            let last_has_args = path
                .path
                .segments
                .last()
                .is_some_and(|segment| !segment.arguments.is_none());
            let named = match segments.as_slice() {
                [only] => only == "Option" && path.path.leading_colon.is_none(),
                [krate, module, name] => {
                    (krate == "std" || krate == "core") && module == "option" && name == "Option"
                }
                _ => false,
            };
            named && last_has_args
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::*;

    #[test]
    fn option_types() {
        let yes: [Type; 5] = [
            parse_quote!(Option<String>),
            parse_quote!(std::option::Option<u8>),
            parse_quote!(::core::option::Option<Vec<u8>>),
            parse_quote!((Option<u8>)),
            parse_quote!(Option<Option<u8>>),
        ];
        let no: [Type; 5] = [
            parse_quote!(String),
            parse_quote!(Vec<Option<u8>>),
            parse_quote!(my::Option<u8>),
            parse_quote!(Option),
            parse_quote!(::Option<u8>),
        ];
        assert!(yes.iter().all(is_option));
        assert!(!no.iter().any(is_option));
    }
}
