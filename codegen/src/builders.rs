//! Constructors for what a caller fills in.
//!
//! A request with many optional members is tiresome to write as a struct
//! literal (a JSAPI order spells out fourteen `None`s). Every sent struct
//! with optional fields gets `new`, taking the required fields in their
//! order, and one `with_<field>` method per optional field. Both take
//! `impl Into<…>`, so `"text"` passes for a `String`; being generic, they
//! cost nothing to compile until a caller uses them. The generated files
//! only list the fields: `constructors!` (`api/types/src/macros.rs`)
//! writes the methods.
//!
//! The setters are `with_…`, not the bare field name, so that none can
//! shadow a trait method of the same name (inherent methods win method
//! resolution: a field `partner_id` would hide `PayerParams::partner_id`).

use proc_macro2::TokenStream;
use quote::quote;

use crate::emit;
use crate::shapes::Field;

/// `constructors! { impl Name { fn new(…); fn with_…(…); } }` for struct
/// `name` of `fields` (the macro, `api/types/src/macros.rs`, writes the
/// methods); nothing when no field is optional (a struct literal is as
/// short) and no `new` when every field is (`Default` is there).
pub fn constructors(name: &str, fields: &[Field]) -> Result<TokenStream, String> {
    let optional = |field: &&Field| field.ty.starts_with("Option<");
    if !fields.iter().any(|field| optional(&field)) {
        return Ok(TokenStream::new());
    }
    let at = |field: &Field| format!("`{name}::{}`", field.ident);
    let mut required = Vec::new();
    for field in fields.iter().filter(|field| !optional(field)) {
        let ident = emit::ident(&field.ident)?;
        let ty = emit::ty(&field.ty, &at(field))?;
        required.push(quote! { #ident: #ty });
    }
    let new = (!required.is_empty()).then(|| quote! { fn new(#(#required),*); });
    let mut setters = Vec::new();
    for field in fields.iter().filter(optional) {
        let inner = &field.ty["Option<".len()..field.ty.len() - 1];
        let inner = emit::ty(inner, &at(field))?;
        let bare = field.ident.trim_start_matches("r#");
        let first = field
            .doc
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .unwrap_or_default();
        let what = if first.is_empty() {
            String::new()
        } else {
            format!(" ({first})")
        };
        let doc = emit::doc(&format!("Sets `{bare}`{what}."));
        let setter = emit::ident(&format!("with_{bare}"))?;
        let ident = emit::ident(&field.ident)?;
        setters.push(quote! {
            #doc
            fn #setter(#ident: #inner);
        });
    }
    let name = emit::ident(name)?;
    Ok(quote! {
        constructors! {
            impl #name {
                #new
                #(#setters)*
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::constructors;
    use crate::shapes::Field;

    fn field(doc: &str, ident: &str, ty: &str) -> Field {
        Field {
            doc: doc.to_owned(),
            attrs: Vec::new(),
            skip_none: ty.starts_with("Option<"),
            ident: ident.to_owned(),
            ty: ty.to_owned(),
        }
    }

    #[test]
    fn required_fields_make_new_and_optional_ones_setters() {
        let fields = [
            field("应用ID", "appid", "String"),
            field("附加数据", "attach", "Option<String>"),
            field("类型", "r#type", "Option<Vec<i64>>"),
        ];
        let out = constructors("Post", &fields).unwrap().to_string();
        let expected = quote! {
            constructors! {
                impl Post {
                    fn new(appid: String);
                    #[doc = " Sets `attach` (附加数据)."]
                    fn with_attach(attach: String);
                    #[doc = " Sets `type` (类型)."]
                    fn with_type(r#type: Vec<i64>);
                }
            }
        };
        assert_eq!(out, expected.to_string());
    }

    #[test]
    fn nothing_without_optional_fields_and_no_new_without_required_ones() {
        assert!(
            constructors("A", &[field("", "a", "String")])
                .unwrap()
                .is_empty()
        );
        let out = constructors("B", &[field("", "b", "Option<bool>")])
            .unwrap()
            .to_string();
        assert!(!out.contains("new"), "{out}");
        assert!(out.contains("fn with_b (b : bool) ;"), "{out}");
    }

    #[test]
    fn a_type_that_is_not_rust_is_an_error() {
        let error = constructors("C", &[field("", "c", "Option<1 + x>")]).unwrap_err();
        assert!(error.contains("`C::c`"), "{error}");
    }
}
