//! The attribute's arguments: `METHOD, "TEMPLATE"` positionally, then
//! `response = Type`, `crate = "path"`, `multipart`, `serial` and
//! `idempotent` by name.
//!
//! The positional pair is read by a small [`Parse`] implementation; the
//! named tail is handed to darling ([`NamedArgs`]), which reports unknown,
//! misspelled and repeated names.

use darling::FromMeta;
use darling::ast::NestedMeta;
use proc_macro2::Span;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::discouraged::Speculative;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprPath, Ident, LitStr, Meta, MetaNameValue, Token, Type};

use super::error_at;
use crate::suggest;

/// The arguments as written, before validation.
pub(crate) struct Args {
    /// The HTTP method (`POST`), if one was written.
    pub method: Option<Ident>,
    /// The path template (`"/v3/…/<id>"`), if one was written.
    pub template: Option<LitStr>,
    /// Everything after the positional arguments.
    pub named: Vec<NestedMeta>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        // `IDENT =` starts a named argument, so a lone identifier is the method.
        let method = if input.peek(Ident) && !input.peek2(Token![=]) {
            Some(input.parse::<Ident>()?)
        } else {
            None
        };
        if method.is_some() && !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
        let template = if input.peek(LitStr) {
            Some(input.parse::<LitStr>()?)
        } else {
            None
        };
        if template.is_some() && !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
        let named = Punctuated::<NestedMeta, Token![,]>::parse_terminated_with(input, named_arg)?;
        Ok(Args {
            method,
            template,
            named: named.into_iter().collect(),
        })
    }
}

/// One named argument. A right-hand side that is a type is read as a type,
/// so `response = HashMap<String, u64>` keeps the comma inside its angle
/// brackets; anything else is read the way darling reads attributes.
fn named_arg(input: ParseStream<'_>) -> syn::Result<NestedMeta> {
    if input.peek(Ident::peek_any) && input.peek2(Token![=]) && !input.peek3(syn::Lit) {
        let fork = input.fork();
        let key = Ident::parse_any(&fork)?;
        let eq_token = fork.parse::<Token![=]>()?;
        if let Ok(ty) = fork.parse::<Type>()
            && (fork.is_empty() || fork.peek(Token![,]))
        {
            input.advance_to(&fork);
            let value = match ty {
                // A plain path stays a path, which darling also accepts for
                // `crate = some::path`.
                Type::Path(path)
                    if path.qself.is_none()
                        && path.path.segments.iter().all(|s| s.arguments.is_none()) =>
                {
                    Expr::Path(ExprPath {
                        attrs: Vec::new(),
                        qself: None,
                        path: path.path,
                    })
                }
                other => Expr::Verbatim(other.into_token_stream()),
            };
            return Ok(NestedMeta::Meta(Meta::NameValue(MetaNameValue {
                path: key.into(),
                eq_token,
                value,
            })));
        }
    }
    input.parse()
}

/// The named arguments.
#[derive(Debug, Default, FromMeta)]
pub(crate) struct NamedArgs {
    /// `response = Type`: what a successful call decodes into.
    pub response: Option<Type>,
    /// `crate = "path"`: where `wxpay` is reachable, for crates that
    /// re-export it.
    #[darling(rename = "crate")]
    pub krate: Option<syn::Path>,
    /// `multipart` or `multipart = path::TO_LIMITS`: a media upload whose
    /// one field is the file.
    pub multipart: Option<MultipartArg>,
    /// `serial`: the request always announces `Wechatpay-Serial`, even
    /// when no field was encrypted.
    pub serial: darling::util::Flag,
    /// `idempotent` or `idempotent = false`: whether the request may be
    /// sent again after it may have reached WeChat Pay, instead of what
    /// the method says (`GET`, `PUT`, `DELETE` may; `POST`, `PATCH` not).
    pub idempotent: Option<IdempotentArg>,
    /// `host = HongKong`: the host that serves the operation, when it is
    /// not `api.mch.weixin.qq.com`.
    pub host: Option<HostArg>,
    /// `v2`: an APIv2 operation (XML, MD5/HMAC-SHA256 signatures).
    pub v2: darling::util::Flag,
    /// `sign = md5 | hmac_sha256 | either` (APIv2): the signature types the
    /// operation accepts.
    pub sign: Option<SignArg>,
    /// `client_cert` (APIv2): the operation needs the merchant's API client
    /// certificate.
    pub client_cert: darling::util::Flag,
    /// `merchant = "mch_id"` (APIv2): the member the client fills with its
    /// merchant number.
    pub merchant: Option<LitStr>,
    /// `unsigned_answer` (APIv2): WeChat Pay does not sign the answer.
    pub unsigned_answer: darling::util::Flag,
}

/// Reads a bare identifier from `name = Ident`, or explains `usage`.
fn ident_value(meta: &Meta, usage: &str) -> darling::Result<Ident> {
    match meta {
        Meta::NameValue(MetaNameValue {
            value: Expr::Path(path),
            ..
        }) if path.qself.is_none() && path.path.get_ident().is_some() => path
            .path
            .get_ident()
            .cloned()
            .ok_or_else(|| darling::Error::custom(usage)),
        Meta::NameValue(name_value) => Err(error_at(name_value.value.span(), usage)),
        other => Err(error_at(other.span(), usage)),
    }
}

/// Reads `ident` as one of `choices` (name, value), suggesting the closest.
fn choose<T: Copy>(ident: &Ident, choices: &[(&'static str, T)], what: &str) -> darling::Result<T> {
    let written = ident.to_string();
    if let Some((_, value)) = choices.iter().find(|(name, _)| *name == written) {
        return Ok(*value);
    }
    let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
    let hint = match suggest::closest(&written, names.iter().copied()) {
        Some(close) => format!("; did you mean `{close}`?"),
        None => String::new(),
    };
    Err(error_at(
        ident.span(),
        format!(
            "unknown {what} `{written}`: expected one of {}{hint}",
            names.join(", ")
        ),
    ))
}

/// `host = Name`: one of `wxpay::Host`'s variants, remembering where it was
/// written.
#[derive(Debug, Clone)]
pub(crate) struct HostArg {
    /// The variant, as written.
    pub variant: Ident,
}

impl HostArg {
    /// `wxpay::Host`'s variants.
    pub(crate) const VARIANTS: [&'static str; 5] =
        ["Api", "HongKong", "Fraud", "PayApp", "PayAppMch"];
}

impl FromMeta for HostArg {
    fn from_meta(meta: &Meta) -> darling::Result<Self> {
        let usage = format!(
            "`host = …` names a `wxpay::Host` variant: one of {}",
            Self::VARIANTS.join(", ")
        );
        let ident = ident_value(meta, &usage)?;
        let choices: Vec<(&'static str, ())> = Self::VARIANTS.iter().map(|v| (*v, ())).collect();
        choose(&ident, &choices, "host")?;
        Ok(HostArg { variant: ident })
    }
}

/// `sign = md5 | hmac_sha256 | either`, remembering where it was written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignArg {
    /// What it says.
    pub kind: SignKind,
    /// The span of the value.
    pub span: Span,
}

/// Which APIv2 signature types the operation accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignKind {
    /// Only MD5, and the request carries no `sign_type`.
    Md5,
    /// Only HMAC-SHA256.
    HmacSha256,
    /// Either; the client's preference decides.
    Either,
}

impl SignKind {
    /// The matching `wxpay::v2::Signing` variant.
    pub(crate) fn variant(self) -> Ident {
        let name = match self {
            SignKind::Md5 => "Md5Only",
            SignKind::HmacSha256 => "HmacSha256Only",
            SignKind::Either => "Either",
        };
        Ident::new(name, Span::call_site())
    }
}

impl FromMeta for SignArg {
    fn from_meta(meta: &Meta) -> darling::Result<Self> {
        const USAGE: &str = "`sign = …` takes `md5` (the default: MD5 only, no `sign_type` \
                             member), `hmac_sha256` (HMAC-SHA256 only) or `either`";
        let ident = ident_value(meta, USAGE)?;
        let kind = choose(
            &ident,
            &[
                ("md5", SignKind::Md5),
                ("hmac_sha256", SignKind::HmacSha256),
                ("either", SignKind::Either),
            ],
            "signature type",
        )?;
        Ok(SignArg {
            kind,
            span: ident.span(),
        })
    }
}

/// `idempotent` (true) or `idempotent = true|false`, remembering where it
/// was written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdempotentArg {
    /// The span of the argument.
    pub span: Span,
    /// What it says.
    pub value: bool,
}

impl FromMeta for IdempotentArg {
    fn from_meta(meta: &Meta) -> darling::Result<Self> {
        const USAGE: &str = "write `idempotent` for an operation whose repeat finds the work \
                             done, or `idempotent = false` for one that may act twice; for a \
                             request that carries its number, mark that field \
                             `#[wxpay(idempotency_key)]` instead";
        match meta {
            Meta::Path(path) => Ok(IdempotentArg {
                span: path.span(),
                value: true,
            }),
            Meta::NameValue(MetaNameValue {
                path,
                value:
                    Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Bool(value),
                        ..
                    }),
                ..
            }) => Ok(IdempotentArg {
                span: path.span(),
                value: value.value,
            }),
            Meta::NameValue(name_value) => Err(error_at(
                name_value.value.span(),
                format!("`idempotent = …` takes `true` or `false`: {USAGE}"),
            )),
            Meta::List(list) => Err(error_at(list.span(), USAGE)),
        }
    }
}

/// `multipart` (image limits) or `multipart = path::TO_LIMITS` (a
/// `MediaLimits` constant), remembering where it was written.
#[derive(Debug, Clone)]
pub(crate) struct MultipartArg {
    /// The span of the word `multipart`.
    pub span: Span,
    /// The limits constant, if one was named.
    pub limits: Option<syn::Path>,
}

impl FromMeta for MultipartArg {
    fn from_meta(meta: &Meta) -> darling::Result<Self> {
        const USAGE: &str = "write `multipart` for an image upload, or `multipart = path::TO_LIMITS` \
                             naming a `wxpay::media::MediaLimits` constant, such as \
                             `multipart = wxpay::media::MediaLimits::VIDEO`";
        match meta {
            Meta::Path(path) => Ok(MultipartArg {
                span: path.span(),
                limits: None,
            }),
            Meta::NameValue(MetaNameValue {
                path,
                value: Expr::Path(limits),
                ..
            }) if limits.qself.is_none() => Ok(MultipartArg {
                span: path.span(),
                limits: Some(limits.path.clone()),
            }),
            Meta::NameValue(name_value) => Err(error_at(
                name_value.value.span(),
                format!("`multipart = …` takes the path of a constant: {USAGE}"),
            )),
            Meta::List(list) => Err(error_at(list.span(), USAGE)),
        }
    }
}

impl NamedArgs {
    /// Reads the named tail, rejecting stray literals (a second template,
    /// a quoted method) with a message about the argument's position.
    pub(crate) fn from_tail(named: &[NestedMeta]) -> darling::Result<Self> {
        let mut errors = darling::Error::accumulator();
        for item in named {
            if let NestedMeta::Lit(lit) = item {
                errors.push(
                    darling::Error::custom(
                        "unexpected argument: after the method and the path template, \
                     only `response = Type`, `crate = \"path\"`, `multipart`, `serial`, \
                     `idempotent`, `host = …`, and for APIv2 `v2`, `sign = …`, `client_cert`, \
                     `merchant = \"…\"` and `unsigned_answer` are accepted",
                    )
                    .with_span(lit),
                );
            }
        }
        let metas: Vec<NestedMeta> = named
            .iter()
            .filter(|item| !matches!(item, NestedMeta::Lit(_)))
            .cloned()
            .collect();
        let parsed = errors.handle(NamedArgs::from_list(&metas));
        errors.finish_with(parsed.unwrap_or_default())
    }
}

/// An HTTP method WeChat Pay APIv3 uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethod {
    const ALL: [HttpMethod; 5] = [
        HttpMethod::Get,
        HttpMethod::Post,
        HttpMethod::Put,
        HttpMethod::Patch,
        HttpMethod::Delete,
    ];

    /// The method as written in the attribute and on the wire.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }

    /// The name of the matching `wxpay::Method` variant.
    pub(crate) fn variant(self) -> Ident {
        let name = match self {
            HttpMethod::Get => "Get",
            HttpMethod::Post => "Post",
            HttpMethod::Put => "Put",
            HttpMethod::Patch => "Patch",
            HttpMethod::Delete => "Delete",
        };
        Ident::new(name, Span::call_site())
    }

    /// Whether fields go to a JSON body unless marked otherwise (one rule
    /// with the runtime and the generator, in `wxpay-protocol`).
    pub(crate) fn has_body(self) -> bool {
        wxpay_protocol::body_by_default(self.as_str())
    }

    /// Whether a request may carry a body at all: every method but GET.
    /// DELETE sends one only for fields marked `#[wxpay(body)]` (a few
    /// WeChat Pay operations take a JSON body on DELETE).
    pub(crate) fn allows_body(self) -> bool {
        wxpay_protocol::body_allowed(self.as_str())
    }

    /// Reads the method from the attribute's first argument.
    pub(crate) fn from_ident(ident: &Ident) -> darling::Result<Self> {
        let written = ident.to_string();
        if let Some(method) = Self::ALL.into_iter().find(|m| m.as_str() == written) {
            return Ok(method);
        }
        let valid = Self::ALL.map(HttpMethod::as_str);
        let upper = written.to_ascii_uppercase();
        let hint = match Self::ALL.into_iter().find(|m| m.as_str() == upper) {
            Some(method) => format!("; methods are written in capitals: `{}`", method.as_str()),
            None => match suggest::closest(&upper, valid) {
                Some(close) => format!("; did you mean `{close}`?"),
                None => String::new(),
            },
        };
        Err(error_at(
            ident.span(),
            format!(
                "unknown HTTP method `{written}`: expected one of {}{hint}",
                valid.join(", ")
            ),
        ))
    }
}

/// The method and template, both present, or errors saying what is missing.
pub(crate) fn require_positional(
    args: &Args,
    errors: &mut darling::error::Accumulator,
) -> (Option<Ident>, Option<LitStr>) {
    const SHAPE: &str = "#[wxpay::endpoint(POST, \"/v3/...\", response = Type)]";
    match (&args.method, &args.template) {
        (None, None) => errors.push(darling::Error::custom(format!(
            "missing the HTTP method and the path template: write `{SHAPE}`"
        ))),
        (None, Some(template)) => errors.push(error_at(
            template.span(),
            format!("missing the HTTP method before the path template: write `{SHAPE}`"),
        )),
        (Some(method), None) => errors.push(error_at(
            method.span(),
            format!("missing the path template after `{method}`: write `{SHAPE}`"),
        )),
        (Some(_), Some(_)) => {}
    }
    (args.method.clone(), args.template.clone())
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn parse(tokens: proc_macro2::TokenStream) -> Args {
        match syn::parse2::<Args>(tokens) {
            Ok(args) => args,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn positional_then_named() {
        let args = parse(quote!(
            POST,
            "/v3/a/<id>",
            response = Foo,
            crate = "crate::mywx"
        ));
        assert_eq!(args.method.map(|m| m.to_string()).as_deref(), Some("POST"));
        assert_eq!(
            args.template.map(|t| t.value()).as_deref(),
            Some("/v3/a/<id>")
        );
        let named = NamedArgs::from_tail(&args.named).unwrap();
        assert_eq!(named.response.to_token_stream().to_string(), "Foo");
        assert_eq!(named.krate.to_token_stream().to_string(), "crate :: mywx");
    }

    #[test]
    fn response_types_may_hold_commas() {
        let args = parse(quote!(GET, "/a", response = std::collections::HashMap<String, Vec<u8>>));
        let named = NamedArgs::from_tail(&args.named).unwrap();
        assert_eq!(
            named.response.to_token_stream().to_string(),
            "std :: collections :: HashMap < String , Vec < u8 > >"
        );
        let args = parse(quote!(GET, "/a", response = (u8, u16), crate = ::wxpay));
        let named = NamedArgs::from_tail(&args.named).unwrap();
        assert_eq!(named.response.to_token_stream().to_string(), "(u8 , u16)");
        assert_eq!(named.krate.to_token_stream().to_string(), ":: wxpay");
    }

    #[test]
    fn missing_pieces_parse_and_are_reported_later() {
        let args = parse(quote!("/a"));
        assert!(args.method.is_none() && args.template.is_some());
        let args = parse(quote!(GET));
        assert!(args.method.is_some() && args.template.is_none());
        let args = parse(quote!(response = Foo));
        assert!(args.method.is_none() && args.template.is_none());
        assert_eq!(args.named.len(), 1);
    }

    #[test]
    fn unknown_named_arguments_are_errors() {
        let args = parse(quote!(GET, "/a", respnse = Foo));
        let error = NamedArgs::from_tail(&args.named).unwrap_err();
        assert!(
            error.to_string().contains("Did you mean `response`?"),
            "{error}"
        );

        let args = parse(quote!(GET, "/a", "/b"));
        let error = NamedArgs::from_tail(&args.named).unwrap_err();
        assert!(error.to_string().contains("unexpected argument"), "{error}");
    }

    #[test]
    fn methods() {
        let ident = |name: &str| Ident::new(name, Span::call_site());
        assert_eq!(
            HttpMethod::from_ident(&ident("PATCH")).unwrap(),
            HttpMethod::Patch
        );
        let error = HttpMethod::from_ident(&ident("PSOT"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("GET, POST, PUT, PATCH, DELETE"), "{error}");
        assert!(error.contains("did you mean `POST`?"), "{error}");
        let error = HttpMethod::from_ident(&ident("get"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("written in capitals: `GET`"), "{error}");
        let error = HttpMethod::from_ident(&ident("SEND"))
            .unwrap_err()
            .to_string();
        assert!(error.ends_with("DELETE"), "{error}");
    }
}
