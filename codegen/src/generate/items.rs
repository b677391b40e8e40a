//! The items every operation's module holds besides its nested types:
//! the endpoint struct (its doc, `#[doc(alias)]`, `#[crate::endpoint(…)]`
//! and constructors) and type aliases.

use proc_macro2::TokenStream;
use quote::quote;

use crate::builders;
use crate::emit;
use crate::naming;
use crate::shapes::{Field, conformance_deserialize};

/// An operation's struct, as both groups declare it.
pub(super) struct Endpoint<'a> {
    /// Its doc text.
    pub(super) doc: &'a str,
    /// The operation's Chinese name, for `#[doc(alias)]`.
    pub(super) summary: &'a str,
    /// The `#[crate::endpoint(…)]` arguments.
    pub(super) args: TokenStream,
    /// It derives `Deserialize` for the conformance tests (not uploads).
    pub(super) conformance: bool,
    /// `Get`, `Post`, …
    pub(super) name: &'a str,
    /// Its fields.
    pub(super) fields: &'a [Field],
}

impl Endpoint<'_> {
    /// The struct, its attribute and its constructors.
    pub(super) fn tokens(&self) -> Result<TokenStream, String> {
        let doc = emit::doc(self.doc);
        let alias = alias(self.summary);
        let args = &self.args;
        let conformance = self.conformance.then(conformance_deserialize);
        let ident = emit::ident(self.name)?;
        let fields = crate::shapes::fields_tokens(self.fields, true, self.name)?;
        let constructors = builders::constructors(self.name, self.fields)?;
        Ok(quote! {
            #doc
            #alias
            #[crate::endpoint(#args)]
            #[derive(Debug, Clone, PartialEq)]
            #conformance
            pub struct #ident { #fields }
            #constructors
        })
    }
}

/// Marks the field of the idempotency key `key` (a wire name) among
/// `fields` with `#[wxpay(idempotency_key)]`; `at` names the operation.
pub(super) fn mark_idempotency_key(
    fields: &mut [Field],
    key: &str,
    at: &str,
) -> Result<(), String> {
    let ident = naming::field(key);
    let field = fields
        .iter_mut()
        .find(|field| field.ident == ident)
        .ok_or_else(|| format!("{at}: the idempotency key `{key}` has no field"))?;
    field.attrs.push(quote! { #[wxpay(idempotency_key)] });
    Ok(())
}

/// `pub type name = target;` with its doc; `at` says where, for errors.
pub(super) fn type_alias(
    text: &str,
    name: &str,
    target: &str,
    at: &str,
) -> Result<TokenStream, String> {
    let doc = emit::doc(text);
    let ident = emit::ident(name)?;
    let target = emit::ty(target, &format!("{at}: `{name}`"))?;
    Ok(quote! {
        #doc
        pub type #ident = #target;
    })
}

/// `#[doc(alias = "…")]` with the operation's Chinese name, so that
/// searching the docs for 激活代金券批次 finds its struct: the summary, and
/// the summary without a trailing `API` or `接口` (rustdoc matches aliases
/// whole). Nothing for a name rustdoc would not take as an alias (quotes,
/// tabs, edge spaces).
fn alias(summary: &str) -> TokenStream {
    let short = summary
        .strip_suffix("API")
        .or_else(|| summary.strip_suffix("接口"))
        .map(str::trim_end);
    let names = std::iter::once(summary).chain(short).filter(|name| {
        !name.is_empty() && name.trim() == *name && !name.contains(['"', '\'', '\t', '\n', '\r'])
    });
    quote! { #(#[doc(alias = #names)])* }
}
