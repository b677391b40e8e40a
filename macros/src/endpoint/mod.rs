//! `#[wxpay::endpoint(METHOD, "TEMPLATE", response = Type)]`, and
//! `multipart` for media uploads.
//!
//! - [`args`]: the attribute's arguments (a small `Parse`, then darling);
//! - [`template`]: the path template, with spans into the string literal;
//! - [`model`]: the typed endpoint, validated with every error collected;
//! - [`generate`]: the `impl wxpay::Endpoint` and its serde view structs.
//!
//! Whatever happens, the struct itself is emitted again (minus the
//! `#[wxpay(...)]` markers, which are not real attributes), so a mistake in
//! the attribute is reported once and the rest of the crate still sees the
//! type.

mod args;
mod generate;
mod model;
mod serde_attrs;
mod template;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Attribute, Data, DeriveInput, Fields};

use self::model::Endpoint;
use self::serde_attrs::SerdeDerive;

/// An error at `span`, in darling's type so it can be accumulated.
pub(crate) fn error_at(span: Span, message: impl std::fmt::Display) -> darling::Error {
    darling::Error::from(syn::Error::new(span, message))
}

/// Expands the attribute: the cleaned struct, then either the generated
/// implementation or the errors.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut input = match syn::parse2::<DeriveInput>(item.clone()) {
        Ok(input) => input,
        Err(error) => {
            let error = syn::Error::new(
                error.span(),
                "`#[wxpay::endpoint]` goes on a struct with named fields",
            )
            .into_compile_error();
            return quote!(#item #error);
        }
    };
    let output = match Endpoint::build(syn::parse2(args), &input) {
        Ok(endpoint) => generate::generate(&endpoint),
        Err(errors) => errors.write_errors(),
    };
    clean(&mut input);
    quote! {
        #input
        #output
    }
}

/// Removes what must not stay on the emitted struct: every `#[wxpay(...)]`
/// marker, and the `#[serde(...)]` attributes when the struct does not
/// derive serde itself (the generated views have taken them over; left in
/// place, nothing would accept them). When it derives serde only under a
/// `cfg_attr`, they stay under the same condition.
fn clean(input: &mut DeriveInput) {
    let derive = serde_attrs::serde_derive(&input.attrs);
    let retain = |attrs: &mut Vec<Attribute>| {
        attrs.retain(|attr| {
            !attr.path().is_ident("wxpay")
                && (!matches!(derive, SerdeDerive::No) || !serde_attrs::is_serde(attr))
        });
        if let SerdeDerive::When(predicate) = &derive {
            for attr in attrs.iter_mut().filter(|attr| serde_attrs::is_serde(attr)) {
                let meta = &attr.meta;
                *attr = syn::parse_quote!(#[cfg_attr(#predicate, #meta)]);
            }
        }
    };
    retain(&mut input.attrs);
    let clean_fields = |fields: &mut Fields| {
        for field in fields.iter_mut() {
            retain(&mut field.attrs);
        }
    };
    match &mut input.data {
        Data::Struct(data) => clean_fields(&mut data.fields),
        Data::Enum(data) => {
            for variant in &mut data.variants {
                retain(&mut variant.attrs);
                clean_fields(&mut variant.fields);
            }
        }
        Data::Union(data) => {
            for field in &mut data.fields.named {
                retain(&mut field.attrs);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    #[test]
    fn a_crate_override_replaces_every_root() {
        let output = expand(
            quote!(POST, "/v3/a/<id>", crate = "my::wx"),
            quote!(
                struct S {
                    id: String,
                    #[wxpay(query)]
                    page: Option<u8>,
                    note: Option<String>,
                }
            ),
        )
        .to_string();
        assert!(!output.contains(":: wxpay"), "{output}");
        assert!(
            output.contains("my :: wx :: __private :: Endpoint"),
            "{output}"
        );
        assert!(output.contains(r#""my::wx::__private::serde""#), "{output}");
        assert!(
            output.contains(r#""my::wx::__private::is_none""#),
            "{output}"
        );
    }

    #[test]
    fn on_error_the_struct_is_kept_without_markers() {
        let output = expand(
            quote!(POST, "/v3/a/<idd>"),
            quote!(
                #[derive(Debug)]
                struct S {
                    id: String,
                    #[wxpay(query)]
                    #[serde(rename = "p")]
                    page: u8,
                }
            ),
        )
        .to_string();
        assert!(output.contains("compile_error"), "{output}");
        assert!(output.contains("did you mean `id`?"), "{output}");
        assert!(output.contains("# [derive (Debug)] struct S"), "{output}");
        assert!(!output.contains("wxpay (query)"), "{output}");
        // Without a serde derive on the struct, its serde attributes would
        // be rejected there: they only live on the generated views.
        assert!(!output.contains("serde (rename"), "{output}");
        assert!(!output.contains("impl"), "{output}");
    }

    #[test]
    fn serde_attributes_stay_when_the_struct_derives_serde() {
        let output = expand(
            quote!(GET, "/v3/a"),
            quote!(
                #[derive(serde::Serialize)]
                #[serde(rename_all = "camelCase")]
                struct S {
                    #[serde(rename = "p")]
                    page: u8,
                }
            ),
        )
        .to_string();
        assert_eq!(
            output.matches("serde (rename = \"p\")").count(),
            2,
            "{output}"
        );
        assert_eq!(
            output.matches("serde (rename_all = \"camelCase\")").count(),
            2,
            "{output}"
        );
    }

    #[test]
    fn serde_attributes_follow_a_conditional_derive() {
        let output = expand(
            quote!(GET, "/v3/a"),
            quote!(
                #[cfg_attr(feature = "x", derive(serde::Deserialize))]
                struct S {
                    #[serde(rename = "p")]
                    page: u8,
                }
            ),
        )
        .to_string();
        // On the struct, under the derive's condition; on the view, as is.
        assert_eq!(
            output
                .matches("# [cfg_attr (feature = \"x\" , serde (rename = \"p\"))]")
                .count(),
            1,
            "{output}"
        );
        assert_eq!(
            output.matches("serde (rename = \"p\")").count(),
            2,
            "{output}"
        );
    }

    #[test]
    fn multipart_bodies_go_through_the_runtime_helper() {
        let output = expand(
            quote!(
                POST,
                "/v3/merchant/media/video_upload",
                multipart = wx::media::MediaLimits::VIDEO
            ),
            quote!(
                struct Upload {
                    file: MediaFile,
                }
            ),
        )
        .to_string();
        assert!(
            output.contains(
                ":: wxpay :: __private :: multipart (& self . file , & wx :: media :: MediaLimits :: VIDEO)"
            ),
            "{output}"
        );
        assert!(!output.contains("__WxpayBody"), "{output}");

        let output = expand(
            quote!(POST, "/v3/merchant/media/upload", multipart),
            quote!(
                struct Upload {
                    file: MediaFile,
                }
            ),
        )
        .to_string();
        assert!(
            output.contains("& :: wxpay :: __private :: MediaLimits :: IMAGE"),
            "{output}"
        );
    }

    #[test]
    fn multipart_misuse_is_reported() {
        let cases = [
            (
                quote!(GET, "/v3/a", multipart),
                quote!(
                    struct S {
                        file: MediaFile,
                    }
                ),
                "uploads are sent with POST, not GET",
            ),
            (
                quote!(POST, "/v3/a", multipart),
                quote!(
                    struct S {}
                ),
                "add a field for it to `S`",
            ),
            (
                quote!(POST, "/v3/a", multipart),
                quote!(
                    struct S {
                        file: MediaFile,
                        note: String,
                    }
                ),
                "`note` would be a second file next to `file`",
            ),
            (
                quote!(POST, "/v3/a", multipart = "video"),
                quote!(
                    struct S {
                        file: MediaFile,
                    }
                ),
                "takes the path of a constant",
            ),
            (
                quote!(POST, "/v3/a", multipart),
                quote!(
                    struct S {
                        #[wxpay(encrypt)]
                        file: MediaFile,
                    }
                ),
                "`#[wxpay(encrypt)]` applies to JSON bodies, remove it",
            ),
        ];
        for (args, item, expected) in cases {
            let output = expand(args, item).to_string();
            assert!(output.contains(expected), "{expected}: {output}");
        }
        // Path and query fields sit beside the file.
        let output = expand(
            quote!(POST, "/v3/a/<id>", multipart),
            quote!(
                struct S {
                    id: String,
                    #[wxpay(query)]
                    sub_mchid: String,
                    file: MediaFile,
                }
            ),
        )
        .to_string();
        assert!(!output.contains("compile_error"), "{output}");
        assert!(output.contains(":: multipart ("), "{output}");

        // Upload markers build a form: part name, meta, text fields.
        let output = expand(
            quote!(POST, "/v3/a", multipart),
            quote!(
                struct S {
                    #[wxpay(part = "submission_file")]
                    file: MediaFile,
                    #[wxpay(meta)]
                    meta: Meta,
                    #[wxpay(form)]
                    r#type: String,
                }
            ),
        )
        .to_string();
        assert!(!output.contains("compile_error"), "{output}");
        for expected in [
            ":: multipart_with (",
            "file_part (\"submission_file\")",
            "meta (& self . meta) ?",
            "value (\"type\" , & self . r#type) ?",
        ] {
            assert!(output.contains(expected), "{expected}: {output}");
        }
    }

    #[test]
    fn items_that_are_not_structs_pass_through_with_an_error() {
        let output = expand(
            quote!(GET, "/v3/a"),
            quote!(
                fn f() {}
            ),
        )
        .to_string();
        assert!(output.starts_with("fn f () { }"), "{output}");
        assert!(
            output.contains("goes on a struct with named fields"),
            "{output}"
        );
    }
}
