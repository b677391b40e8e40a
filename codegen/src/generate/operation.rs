//! One APIv3 operation (`v3/`, `hk/`, `global/`): its request struct, its
//! answer, its doc and its `#[wxpay::endpoint]` arguments, a step each.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::quote;
use serde_yaml::Value;

use super::{
    Endpoint, Gen, Holder, IfEmpty, Row, Side, Sink, doc_link, label, label_summary,
    mark_idempotency_key, type_alias,
};
use crate::emit;
use crate::idempotency::{self, Decision};
use crate::naming;
use crate::overrides::{self, Override};
use crate::shapes::Field;
use crate::spec::{
    DEFAULT_HOST, Kind, Operation, get, get_str, host_variant, is_required, kind_of, scalar_text,
};

/// What the request struct gathers as its parameters are read.
struct Request {
    /// `Get`, `Post`, …
    method_name: String,
    /// The fields.
    fields: Vec<Field>,
    /// Field names taken.
    taken: BTreeSet<String>,
    /// The attribute's path, `<name>` for each placeholder.
    template: String,
    /// It sends `Wechatpay-Serial`.
    serial: bool,
    /// It is an upload.
    multipart: bool,
    /// Its upload `meta` is not the standard one.
    own_meta: bool,
    /// Header parameters the declaration does not set.
    headers: Vec<String>,
    /// Its required top-level body members, in order: where the
    /// idempotency key is looked for.
    required_members: Vec<String>,
    /// Its reviewed override, if any.
    overridden: Option<&'static Override>,
    /// The overridden members met, to find a stale entry.
    used_overrides: BTreeSet<String>,
}

/// The spec's parameters of an operation, with the file each comes from.
type Params = [(Value, PathBuf)];

impl Gen<'_> {
    /// One operation: its request struct and response type, into `sink`.
    pub(super) fn operation(
        &mut self,
        sink: &mut Sink,
        op: &Operation,
        rust_module: &str,
    ) -> Result<Row, String> {
        let params = self.spec.parameters(&op.file, &op.op)?;
        let mut request = Request {
            method_name: naming::method_struct(&op.method),
            fields: Vec::new(),
            taken: BTreeSet::new(),
            template: String::new(),
            serial: false,
            multipart: false,
            own_meta: false,
            headers: Vec::new(),
            required_members: Vec::new(),
            overridden: overrides::of(&op.key()),
            used_overrides: BTreeSet::new(),
        };
        self.path_fields(op, &params, &mut request)?;
        self.parameter_fields(sink, op, &params, &mut request)?;
        let (response, download, produces) = self.answer(sink, op, request.overridden)?;
        check_overrides(op, &request)?;

        let mut text = endpoint_doc(op, &request, download, &produces);
        let idempotency = idempotency::decide(
            &op.key(),
            &op.method,
            op.template.rsplit('/').next().unwrap_or_default(),
            &request.required_members,
            request.multipart,
        );
        let declared = declare_idempotency(op, &idempotency, &mut request.fields, &mut text)?;
        let summary = label_summary(get_str(&op.op, "summary").unwrap_or(""));
        let endpoint = Endpoint {
            doc: &text,
            summary: &summary,
            args: endpoint_args(op, &request, response.as_deref(), declared)?,
            conformance: !request.multipart,
            name: &request.method_name,
            fields: &request.fields,
        };
        sink.items.insert(0, endpoint.tokens()?);
        let Request {
            method_name,
            multipart,
            ..
        } = request;

        Ok(Row {
            method: op.method.clone(),
            template: op.template.clone(),
            spec_path: op.spec_path.clone(),
            rust_path: format!("{rust_module}::{method_name}"),
            protocol: op.protocol(),
            host: op.host.clone(),
            client_cert: false,
            note: None,
            unsigned_answer: false,
            v2_sign: None,
            v2_merchant: None,
            feature: op.feature(),
            download,
            multipart,
            idempotency,
        })
    }

    /// The path parameters, in template order, and the attribute's path.
    fn path_fields(
        &mut self,
        op: &Operation,
        params: &Params,
        request: &mut Request,
    ) -> Result<(), String> {
        // Body members that share a path parameter's name: the struct's own
        // `Deserialize` reads the path parameter as `<name>@path` instead.
        let mut body_names = BTreeSet::new();
        if wxpay_protocol::body_allowed(&op.method) {
            for (param, param_file) in params {
                if get_str(param, "in") == Some("body")
                    && let Some(schema) = get(param, "schema")
                {
                    let flat = self.spec.flatten(param_file, schema)?;
                    request.required_members.extend(
                        flat.properties
                            .iter()
                            .map(|(name, _)| name)
                            .filter(|name| flat.required.contains(name))
                            .cloned(),
                    );
                    body_names.extend(flat.properties.into_iter().map(|(name, _)| name));
                }
            }
        }
        for segment in &op.segments {
            request.template.push('/');
            if segment == "{empty}" {
                continue;
            }
            let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
                request.template.push_str(segment);
                continue;
            };
            let ident = naming::field(name);
            if ident != name {
                return Err(format!(
                    "{}: path parameter `{name}` is not a plain identifier",
                    op.file.display()
                ));
            }
            let param = params.iter().find(|(p, _)| {
                get_str(p, "in") == Some("path") && get_str(p, "name") == Some(name)
            });
            let text = param
                .map(|(p, _)| label(get_str(p, "description")))
                .unwrap_or_default();
            let ty = match param.map(|(p, _)| kind_of(p)) {
                Some(Kind::Integer) => "i64",
                _ => "String",
            };
            let mut attrs = Vec::new();
            if body_names.contains(name) {
                let rename = format!("{name}@path");
                attrs.push(quote! { #[serde(rename = #rename)] });
            }
            request.fields.push(Field {
                doc: format!("{} (path)", text.if_empty(name)),
                attrs,
                skip_none: false,
                ident: ident.clone(),
                ty: ty.to_owned(),
            });
            request.taken.insert(ident);
            let _ = write!(request.template, "<{name}>");
        }
        Ok(())
    }

    /// The query, body, form and header parameters.
    fn parameter_fields(
        &mut self,
        sink: &mut Sink,
        op: &Operation,
        params: &Params,
        request: &mut Request,
    ) -> Result<(), String> {
        let mut seen = BTreeSet::new();
        for (param, param_file) in params {
            let name = get_str(param, "name").unwrap_or("");
            let in_path = op.segments.iter().any(|s| {
                s.starts_with('{') && s.trim_start_matches('{').trim_end_matches('}') == name
            });
            if get_str(param, "in") == Some("query") && in_path {
                self.notes.push(format!(
                    "{}: `{name}` is both a path and a query parameter; sent in the path",
                    op.key()
                ));
                continue;
            }
            if !seen.insert((get_str(param, "in"), name)) {
                self.notes.push(format!(
                    "{}: parameter `{name}` declared twice; kept once",
                    op.key()
                ));
                continue;
            }
            match get_str(param, "in") {
                Some("query") => self.query_field(sink, op, param, param_file, request)?,
                Some("body") => self.body_fields(sink, op, param, param_file, request)?,
                Some("formData") => self.form_field(sink, op, param, param_file, request)?,
                Some("header") if name.eq_ignore_ascii_case("Wechatpay-Serial") => {
                    request.serial = true;
                }
                Some("header") => request.headers.push(name.to_owned()),
                Some("path") | None => {}
                Some(other) => self
                    .notes
                    .push(format!("{}: parameter in `{other}` ignored", op.key())),
            }
        }
        Ok(())
    }

    /// A query parameter.
    fn query_field(
        &mut self,
        sink: &mut Sink,
        op: &Operation,
        param: &Value,
        param_file: &Path,
        request: &mut Request,
    ) -> Result<(), String> {
        let name = get_str(param, "name").unwrap_or("");
        let common = naming::camel(name);
        let hint = format!("{}{common}", request.method_name);
        let mut ty = match request.overridden.and_then(|o| o.member(name)) {
            Some(ty) => {
                request.used_overrides.insert(name.to_owned());
                ty.to_owned()
            }
            None => {
                self.ty(sink, param_file, param, &hint, &common, Side::Request)?
                    .rust
            }
        };
        // Swagger 2.0 writes an array query parameter as one
        // comma-separated value unless `collectionFormat` says
        // otherwise; the spec never does.
        let list = ty.starts_with("Vec<");
        if let Some(format) =
            get_str(param, "collectionFormat").filter(|format| list && *format != "csv")
        {
            self.notes.push(format!(
                "{}: query `{name}` has collectionFormat {format:?}; sent comma-separated",
                op.key()
            ));
        }
        if ty.starts_with("serde_json") {
            self.notes.push(format!(
                "{}: query `{name}` is {ty}; sent as a String",
                op.key()
            ));
            ty = "String".to_owned();
        }
        let mut ident = naming::field(name);
        if !request.taken.insert(ident.clone()) {
            ident = naming::field(&format!("query_{name}"));
            request.taken.insert(ident.clone());
        }
        let mut attrs = Vec::new();
        if wxpay_protocol::body_by_default(&op.method) {
            attrs.push(quote! { #[wxpay(query)] });
        }
        if ident.trim_start_matches("r#") != name {
            attrs.push(quote! { #[serde(rename = #name)] });
        }
        if list {
            attrs.push(quote! { #[serde(serialize_with = "crate::target::comma_separated")] });
        }
        let ty = if is_required(param) {
            ty
        } else {
            format!("Option<{ty}>")
        };
        request.fields.push(Field {
            doc: format!(
                "{} (query)",
                label(get_str(param, "description")).if_empty(name)
            ),
            attrs,
            skip_none: false,
            ident,
            ty,
        });
        Ok(())
    }

    /// The members of a JSON body.
    fn body_fields(
        &mut self,
        sink: &mut Sink,
        op: &Operation,
        param: &Value,
        param_file: &Path,
        request: &mut Request,
    ) -> Result<(), String> {
        if !wxpay_protocol::body_allowed(&op.method) {
            self.notes.push(format!(
                "{}: body parameter on a {}; left out",
                op.key(),
                op.method
            ));
            return Ok(());
        }
        let schema = get(param, "schema").cloned().unwrap_or(Value::Null);
        let flat = self.spec.flatten(param_file, &schema)?;
        // DELETE sends a JSON body too when the spec gives it one, its
        // fields marked `#[wxpay(body)]`.
        let holder = if wxpay_protocol::body_by_default(&op.method) {
            Holder::Endpoint
        } else {
            Holder::DeleteBody
        };
        self.fields(
            sink,
            &request.method_name,
            &flat,
            Side::Request,
            &mut request.taken,
            &mut request.fields,
            holder,
        )?;
        Ok(())
    }

    /// A part of an upload's form: the runtime's standard form is a part
    /// `file` and a `meta` of `{"filename","sha256"}`; where the spec asks
    /// for another, the field markers say so.
    fn form_field(
        &mut self,
        sink: &mut Sink,
        op: &Operation,
        param: &Value,
        param_file: &Path,
        request: &mut Request,
    ) -> Result<(), String> {
        let name = get_str(param, "name").unwrap_or("");
        let text = label(get_str(param, "description")).if_empty(name);
        if kind_of(param) == Kind::File {
            request.multipart = true;
            let mut attrs = Vec::new();
            if name != "file" {
                attrs.push(quote! { #[wxpay(part = #name)] });
            }
            request.fields.push(Field {
                doc: format!("{text} (uploaded file)"),
                attrs,
                skip_none: false,
                ident: "file".to_owned(),
                ty: "crate::media::MediaFile".to_owned(),
            });
            request.taken.insert("file".to_owned());
            return Ok(());
        }
        if name == "meta" {
            let mut schema = get(param, "schema").cloned().unwrap_or(Value::Null);
            // The type's doc: the parameter's description, which the schema
            // itself does not repeat.
            if let (Value::Mapping(map), Some(text)) =
                (&mut schema, get(param, "description").cloned())
            {
                map.entry(Value::from("description")).or_insert(text);
            }
            let keys: BTreeSet<String> = get(&schema, "properties")
                .and_then(Value::as_mapping)
                .map(|properties| properties.keys().filter_map(scalar_text).collect())
                .unwrap_or_default();
            let standard: BTreeSet<String> = ["filename", "sha256"].map(str::to_owned).into();
            if keys != standard {
                request.own_meta = true;
                let hint = format!("{}Meta", request.method_name);
                let ty = self
                    .ty(sink, param_file, &schema, &hint, "Meta", Side::Request)?
                    .rust;
                request.fields.push(Field {
                    doc: format!("{text} (the upload's `meta`)"),
                    attrs: vec![quote! { #[wxpay(meta)] }],
                    skip_none: false,
                    ident: "meta".to_owned(),
                    ty,
                });
                request.taken.insert("meta".to_owned());
            }
            return Ok(());
        }
        let common = naming::camel(name);
        let hint = format!("{}{common}", request.method_name);
        let ty = self
            .ty(sink, param_file, param, &hint, &common, Side::Request)?
            .rust;
        let ident = naming::field(name);
        if ident.trim_start_matches("r#") != name || !request.taken.insert(ident.clone()) {
            return Err(format!(
                "{}: form field `{name}` cannot be a field of its own name",
                op.key()
            ));
        }
        let ty = if is_required(param) {
            ty
        } else {
            format!("Option<{ty}>")
        };
        request.fields.push(Field {
            doc: format!("{text} (form field)"),
            attrs: vec![quote! { #[wxpay(form)] }],
            skip_none: false,
            ident,
            ty,
        });
        Ok(())
    }

    /// The answer: its type (written into `sink` when generated), whether
    /// it is a file, and the media types the spec says it produces.
    fn answer(
        &mut self,
        sink: &mut Sink,
        op: &Operation,
        overridden: Option<&Override>,
    ) -> Result<(Option<String>, bool, Vec<String>), String> {
        let produces: Vec<String> = get(&op.op, "produces")
            .and_then(Value::as_sequence)
            .map(|s| s.iter().filter_map(scalar_text).collect())
            .unwrap_or_default();
        let download = !produces.is_empty() && !produces.iter().any(|p| p.contains("json"));
        if let Some(response) = overridden.and_then(|o| o.response) {
            return Ok((Some(response.to_owned()), download, produces));
        }
        let responses = get(&op.op, "responses").and_then(Value::as_mapping);
        let (false, Some(responses)) = (download, responses) else {
            return Ok((None, download, produces));
        };
        // The first 2xx with a body, 204 aside.
        let Some(schema) = responses
            .iter()
            .find(|(code, _)| {
                let code = scalar_text(code).unwrap_or_default();
                code.starts_with('2') && code != "204"
            })
            .and_then(|(_, answer)| get(answer, "schema"))
        else {
            return Ok((None, download, produces));
        };
        let spec = self.spec;
        let (schema_file, resolved) = spec.deref(&op.file, schema)?;
        let is_object = kind_of(&resolved) == Kind::Object;
        let no_members = is_object && spec.flatten(&schema_file, &resolved)?.properties.is_empty();
        if no_members && get(&resolved, "type").is_none() {
            return Ok((None, download, produces));
        }
        let name = format!("{}Response", naming::method_struct(&op.method));
        sink.names.insert(name.clone());
        let answering = format!("{} {}", op.method, op.template);
        let alias_of = |ty: &str| {
            type_alias(
                &format!("What `{answering}` answers."),
                &name,
                ty,
                &op.key(),
            )
        };
        if get_str(schema, "$ref").is_some() || !is_object {
            let item = format!("{name}Item");
            let ty = self
                .ty(sink, &op.file, schema, &item, &item, Side::Response)?
                .rust;
            sink.items.push(alias_of(&ty)?);
        } else if no_members {
            sink.items.push(alias_of("serde_json::Value")?);
        } else {
            let flat = spec.flatten(&schema_file, &resolved)?;
            // Named, when several operations give it, for the path below
            // the feature's module.
            let statics: Vec<String> = op.module_segments
                [op.feature_depth().min(op.module_segments.len())..]
                .iter()
                .filter(|segment| !segment.starts_with('{'))
                .map(|segment| naming::camel(segment))
                .collect();
            let first = statics.first().cloned().unwrap_or_default();
            let shaped = self.answer_struct(sink, &name, &flat, &answering)?;
            self.place(
                sink,
                name.clone(),
                &format!("{first}Response"),
                &format!("{}Response", statics.concat()),
                shaped,
            )?;
        }
        Ok((Some(name), download, produces))
    }
}

/// Fails when the operation's override names a member it does not have.
fn check_overrides(op: &Operation, request: &Request) -> Result<(), String> {
    let Some(entry) = request.overridden else {
        return Ok(());
    };
    let stale: Vec<&str> = entry
        .members
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !request.used_overrides.contains(*name))
        .collect();
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}: codegen/src/overrides.rs names members it does not have as query \
             parameters: {stale:?}",
            op.key()
        ))
    }
}

/// The endpoint struct's doc, idempotency aside.
fn endpoint_doc(op: &Operation, request: &Request, download: bool, produces: &[String]) -> String {
    let summary = label_summary(get_str(&op.op, "summary").unwrap_or(""));
    let description = get_str(&op.op, "description").unwrap_or("");
    let mut text = format!(
        "{}\n\n`{} {}`",
        summary.if_empty("(no summary)"),
        op.method,
        op.template
    );
    if op.host != DEFAULT_HOST {
        let _ = write!(text, " on `{}`", op.host);
    }
    if let Some(link) = doc_link(description) {
        let _ = write!(text, "\n\n[官方文档]({link})");
    }
    if get(&op.op, "deprecated").and_then(Value::as_bool) == Some(true) {
        text.push_str("\n\nDeprecated in the spec.");
    }
    if download {
        text.push_str(&format!(
            "\n\nA download: the answer is a file ({}), not JSON, so this declaration's response is `NoContent`; \
             fetch bills with [`Client::download_bill`](crate::Client::download_bill).",
            produces.join(", ")
        ));
    }
    if request.serial {
        text.push_str(
            "\n\nSends `Wechatpay-Serial` (the key sensitive fields are encrypted with).",
        );
    }
    if !request.headers.is_empty() {
        text.push_str(&format!(
            "\n\nThe spec's header parameters {:?} are not set by this declaration.",
            request.headers
        ));
    }
    if request.own_meta {
        text.push_str(
            "\n\nThis upload's `meta` is its own, not `{\"filename\",\"sha256\"}`: the \
             digest it holds is the caller's to fill in, by the algorithm it names \
             ([`MediaFile::sha256_hex`](crate::media::MediaFile::sha256_hex) gives a \
             SHA-256 in lower-case hex).",
        );
    }
    text
}

/// Says in `text` whether the operation may be sent again, marks its
/// idempotency key among `fields`, and answers whether the attribute
/// needs `idempotent`.
fn declare_idempotency(
    op: &Operation,
    idempotency: &Decision,
    fields: &mut [Field],
    text: &mut String,
) -> Result<bool, String> {
    Ok(match idempotency {
        Decision::Natural if !matches!(op.method.as_str(), "GET" | "PUT" | "DELETE") => {
            text.push_str(
                "\n\nIdempotent: a repeat finds the work done, so the client may send it again \
                 after a timeout or a 5xx.",
            );
            true
        }
        Decision::Keyed(key) => {
            mark_idempotency_key(fields, key, &op.key())?;
            let _ = write!(
                text,
                "\n\nIdempotent by `{key}`: WeChat Pay recognises a repeat by it, so the \
                 client may send it again after a timeout or a 5xx."
            );
            false
        }
        Decision::NotIdempotent => {
            text.push_str(
                "\n\nNot idempotent: the client sends it again only when the first attempt \
                 provably never left (see `wxpay::retry`).",
            );
            false
        }
        Decision::Natural => false,
    })
}

/// The `#[wxpay::endpoint(…)]` arguments.
fn endpoint_args(
    op: &Operation,
    request: &Request,
    response: Option<&str>,
    idempotent: bool,
) -> Result<TokenStream, String> {
    let method = emit::ident(&op.method)?;
    let template = &request.template;
    let mut args = vec![quote! { #method, #template }];
    if op.host != DEFAULT_HOST {
        let host = emit::ident(host_variant(&op.host).map_err(|e| format!("{}: {e}", op.key()))?)?;
        args.push(quote! { host = #host });
    }
    if let Some(response) = response {
        let response = emit::path(response, &op.key())?;
        args.push(quote! { response = #response });
    }
    if request.multipart {
        if op.template.ends_with("video_upload") {
            args.push(quote! { multipart = crate::media::MediaLimits::VIDEO });
        } else {
            args.push(quote! { multipart });
        }
    }
    if request.serial {
        args.push(quote! { serial });
    }
    if idempotent {
        args.push(quote! { idempotent });
    }
    Ok(quote! { #(#args),* })
}
