//! Reading the user's `#[serde(...)]` attributes: which keys a field sets,
//! which container settings the generated views copy, and whether the
//! struct derives serde itself.

use darling::ast::NestedMeta;
use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Attribute, Meta};

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

/// Whether the struct derives `Serialize` or `Deserialize` itself (directly
/// or under `cfg_attr`), so that its `#[serde]` attributes are meaningful
/// on it and must stay.
pub(crate) fn derives_serde(attrs: &[Attribute]) -> bool {
    fn mentions_serde_derive(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|tree| match tree {
            TokenTree::Ident(ident) => ident == "Serialize" || ident == "Deserialize",
            TokenTree::Group(group) => mentions_serde_derive(group.stream()),
            _ => false,
        })
    }
    attrs.iter().any(|attr| {
        (attr.path().is_ident("derive") || attr.path().is_ident("cfg_attr"))
            && matches!(&attr.meta, Meta::List(list) if mentions_serde_derive(list.tokens.clone()))
    })
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
        assert!(derives_serde(&with));
        assert!(derives_serde(&gated));
        assert!(!derives_serde(&without));
    }
}
