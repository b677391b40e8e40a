//! Reading the user's `#[serde(...)]` attributes: which keys a field sets,
//! which container settings the generated views copy, and whether the
//! struct derives serde itself.

use darling::ast::NestedMeta;
use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{Attribute, Meta, Token};

/// Container settings that shape a struct's serialized form and so are
/// copied onto the generated views. Others (`into`, `from`, `remote`,
/// `transparent`, deserialization settings) describe the user's own type
/// and would not apply to a view.
const CONTAINER_KEYS: &[&str] = &["rename", "rename_all", "tag"];

/// Whether `attr` is `#[serde(...)]`.
pub(crate) fn is_serde(attr: &Attribute) -> bool {
    attr.path().is_ident("serde")
}

/// The items of a `#[serde(...)]` attribute, or `None` if it does not parse
/// (serde reports that itself).
fn items(attr: &Attribute) -> Option<Vec<NestedMeta>> {
    match &attr.meta {
        Meta::List(list) => NestedMeta::parse_meta_list(list.tokens.clone()).ok(),
        _ => None,
    }
}

/// Whether any `#[serde(...)]` attribute in `attrs` sets one of `keys`.
pub(crate) fn sets_any(attrs: &[Attribute], keys: &[&str]) -> bool {
    attrs
        .iter()
        .filter(|attr| is_serde(attr))
        .filter_map(items)
        .flatten()
        .any(|item| match item {
            NestedMeta::Meta(meta) => keys.iter().any(|key| meta.path().is_ident(key)),
            NestedMeta::NameValueInvalidExpr(invalid) => {
                keys.iter().any(|key| invalid.path.is_ident(key))
            }
            NestedMeta::Lit(_) => false,
        })
}

/// The name a field's `#[serde(rename = "…")]` gives it on the wire
/// (`rename(serialize = "…")` included), if any.
pub(crate) fn renamed(attrs: &[Attribute]) -> Option<String> {
    let lit_str = |expr: &syn::Expr| match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(name),
            ..
        }) => Some(name.value()),
        _ => None,
    };
    attrs
        .iter()
        .filter(|attr| is_serde(attr))
        .filter_map(items)
        .flatten()
        .find_map(|item| match item {
            NestedMeta::Meta(Meta::NameValue(pair)) if pair.path.is_ident("rename") => {
                lit_str(&pair.value)
            }
            NestedMeta::Meta(Meta::List(list)) if list.path.is_ident("rename") => {
                NestedMeta::parse_meta_list(list.tokens.clone())
                    .ok()?
                    .into_iter()
                    .find_map(|inner| match inner {
                        NestedMeta::Meta(Meta::NameValue(pair))
                            if pair.path.is_ident("serialize") =>
                        {
                            lit_str(&pair.value)
                        }
                        _ => None,
                    })
            }
            _ => None,
        })
}

/// The container's serde settings to repeat on each generated view, as
/// attribute contents (`rename_all = "…"`). An attribute that does not
/// parse is copied whole so that serde reports the problem.
pub(crate) fn container_settings(attrs: &[Attribute]) -> Vec<TokenStream> {
    let mut settings = Vec::new();
    for attr in attrs.iter().filter(|attr| is_serde(attr)) {
        match items(attr) {
            Some(items) => settings.extend(items.iter().filter_map(|item| match item {
                NestedMeta::Meta(meta)
                    if CONTAINER_KEYS.iter().any(|key| meta.path().is_ident(key)) =>
                {
                    Some(meta.to_token_stream())
                }
                _ => None,
            })),
            None => {
                if let Meta::List(list) = &attr.meta {
                    settings.push(list.tokens.clone());
                }
            }
        }
    }
    settings
}

/// Whether the struct derives `Serialize` or `Deserialize` itself, which
/// makes its `#[serde]` attributes meaningful on it.
pub(crate) enum SerdeDerive {
    /// It does not: the attributes must go.
    No,
    /// It does, always: they stay as they are.
    Always,
    /// Only under `#[cfg_attr(predicate, derive(...))]`: they stay under
    /// the same predicate, or they would be unknown attributes whenever it
    /// is false.
    When(TokenStream),
}

/// How the struct derives serde (see [`SerdeDerive`]).
pub(crate) fn serde_derive(attrs: &[Attribute]) -> SerdeDerive {
    fn mentions_serde_derive(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|tree| match tree {
            TokenTree::Ident(ident) => ident == "Serialize" || ident == "Deserialize",
            TokenTree::Group(group) => mentions_serde_derive(group.stream()),
            _ => false,
        })
    }
    let derives = |meta: &Meta| {
        meta.path().is_ident("derive")
            && matches!(meta, Meta::List(list) if mentions_serde_derive(list.tokens.clone()))
    };
    let mut predicates = Vec::new();
    for attr in attrs {
        if derives(&attr.meta) {
            return SerdeDerive::Always;
        }
        let Meta::List(list) = &attr.meta else {
            continue;
        };
        if !attr.path().is_ident("cfg_attr") {
            continue;
        }
        let parsed = list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated);
        let Ok(parts) = parsed else {
            // Not ours to judge: the compiler reports a malformed
            // `cfg_attr`. Keep the attributes, as before.
            if mentions_serde_derive(list.tokens.clone()) {
                return SerdeDerive::Always;
            }
            continue;
        };
        let mut parts = parts.into_iter();
        if let Some(predicate) = parts.next()
            && parts.any(|meta| derives(&meta))
        {
            predicates.push(predicate.into_token_stream());
        }
    }
    match predicates.len() {
        0 => SerdeDerive::No,
        1 => SerdeDerive::When(predicates.remove(0)),
        _ => SerdeDerive::When(quote::quote!(any(#(#predicates),*))),
    }
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::*;

    #[test]
    fn keys_set_by_fields() {
        let attrs: Vec<Attribute> = vec![
            parse_quote!(#[doc = "x"]),
            parse_quote!(#[serde(rename = "a", skip_serializing_if = "Vec::is_empty")]),
        ];
        assert!(sets_any(&attrs, &["skip_serializing_if"]));
        assert!(!sets_any(&attrs, &["skip", "flatten"]));
    }

    #[test]
    fn container_settings_are_filtered() {
        let attrs: Vec<Attribute> = vec![
            parse_quote!(#[serde(rename_all = "camelCase", deny_unknown_fields)]),
            parse_quote!(#[serde(into = "Other")]),
            parse_quote!(#[serde(rename(serialize = "Ser"))]),
        ];
        let settings: Vec<String> = container_settings(&attrs)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            settings,
            ["rename_all = \"camelCase\"", "rename (serialize = \"Ser\")"]
        );
    }

    #[test]
    fn serde_derives() {
        let with: Vec<Attribute> = vec![parse_quote!(#[derive(Debug, serde::Serialize)])];
        let gated: Vec<Attribute> =
            vec![parse_quote!(#[cfg_attr(feature = "x", derive(Deserialize))])];
        let without: Vec<Attribute> = vec![parse_quote!(#[derive(Debug, Clone)])];
        let gated_twice: Vec<Attribute> = vec![
            parse_quote!(#[cfg_attr(feature = "x", derive(Deserialize))]),
            parse_quote!(#[cfg_attr(test, derive(Serialize), allow(unused))]),
        ];
        let gated_other: Vec<Attribute> = vec![parse_quote!(#[cfg_attr(test, derive(Clone))])];
        assert!(matches!(serde_derive(&with), SerdeDerive::Always));
        assert!(matches!(serde_derive(&without), SerdeDerive::No));
        assert!(matches!(serde_derive(&gated_other), SerdeDerive::No));
        let SerdeDerive::When(predicate) = serde_derive(&gated) else {
            panic!("a cfg_attr derive is conditional");
        };
        assert_eq!(predicate.to_string(), "feature = \"x\"");
        let SerdeDerive::When(predicate) = serde_derive(&gated_twice) else {
            panic!("two cfg_attr derives are conditional");
        };
        assert_eq!(predicate.to_string(), "any (feature = \"x\" , test)");
    }
}
