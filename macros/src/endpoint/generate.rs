//! Code generation from a validated [`Endpoint`].
//!
//! The output names only `<crate>::__private::…` (the `wxpay` facade's
//! hidden re-exports) and sits in `const _: () = { … };`, so nothing leaks
//! into the user's namespace. Body and query parameters are serialized
//! through view structs that borrow the endpoint's fields and carry their
//! `#[serde]` attributes, so serde's own rules (renames, skipping,
//! `serialize_with`, flattening) apply unchanged.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::LitStr;
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use super::model::{Endpoint, Field, FieldKind, FormField, Idempotency, Multipart, V2};
use super::template::Segment;

/// The `impl wxpay::Endpoint` for `endpoint`, with its view structs (or,
/// for an APIv2 operation, the `impl wxpay::v2::V2Endpoint`).
pub(crate) fn generate(endpoint: &Endpoint) -> TokenStream {
    if let Some(v2) = &endpoint.v2 {
        return generate_v2(endpoint, v2);
    }
    let krate = &endpoint.krate;
    let private = quote!(#krate::__private);
    let ident = &endpoint.ident;
    let method = endpoint.method.variant();
    let path_template = LitStr::new(&endpoint.template.braced(), Span::call_site());
    let response = match &endpoint.response {
        Some(ty) => quote!(#ty),
        None => quote!(#private::NoContent),
    };
    let target = format_ident!("__wxpay_target");

    let path_steps = endpoint
        .template
        .segments
        .iter()
        .map(|segment| match segment {
            Segment::Literal(text) => quote!(#target.push_literal(#text);),
            Segment::Param { name, .. } => {
                let field = endpoint
                    .fields
                    .iter()
                    .find(|field| field.ident.unraw() == name.as_str());
                match field {
                    Some(Field { ident, ty, .. }) => {
                        // The type in the turbofish carries the field's span, so
                        // a type without `Display` is reported at the field.
                        quote!(#target.push_segment::<#ty>(#name, &self.#ident)?;)
                    }
                    // Validation binds every placeholder to a field.
                    None => quote!(),
                }
            }
        });

    let query_fields = fields_of(endpoint, FieldKind::Query);
    let body_fields = fields_of(endpoint, FieldKind::Body);

    let query_view = format_ident!("__WxpayQuery");
    let (query_struct, query_step) = if query_fields.is_empty() {
        (quote!(), quote!())
    } else {
        let definition = view(endpoint, &query_view, &query_fields);
        let value = construct(krate, &query_view, &query_fields);
        (definition, quote!(#target.push_query(&#value)?;))
    };

    let body_view = format_ident!("__WxpayBody");
    let (body_struct, body) = if let Some(multipart) = &endpoint.multipart {
        let Multipart {
            file, ty, limits, ..
        } = multipart;
        // A named constant of another type is reported at its path.
        let limits = match limits {
            Some(path) => quote::quote_spanned!(path.span()=> &#path),
            None => quote!(&#private::MediaLimits::IMAGE),
        };
        // Spanned at the field's type, so a field that is not a
        // `MediaFile` is reported there.
        let file = quote::quote_spanned!(ty.span().resolved_at(Span::call_site())=> &self.#file);
        let body = if multipart.is_standard() {
            quote!(#private::multipart(#file, #limits))
        } else {
            let form = upload_form(&private, multipart);
            quote!({
                #form
                #private::multipart_with(#file, #limits, &__wxpay_form)
            })
        };
        (quote!(), body)
    } else if endpoint.method.has_body() || !body_fields.is_empty() {
        let definition = view(endpoint, &body_view, &body_fields);
        let value = construct(krate, &body_view, &body_fields);
        (definition, quote!(#private::Body::json(&#value)))
    } else {
        (
            quote!(),
            quote!(#private::Result::Ok(#private::Body::Empty)),
        )
    };

    let serial = if endpoint.serial {
        quote!(
            const WECHATPAY_SERIAL: bool = true;
        )
    } else {
        quote!()
    };

    let idempotency = idempotency_const(endpoint, quote!());

    let host = host_const(endpoint);

    quote! {
        const _: () = {
            #query_struct
            #body_struct

            #[automatically_derived]
            impl #private::Endpoint for #ident {
                #host
                const METHOD: #private::Method = #private::Method::#method;
                const PATH_TEMPLATE: &'static str = #path_template;
                #serial
                #idempotency
                type Response = #response;

                fn render_target(
                    &self,
                    #target: &mut #private::Target,
                ) -> #private::Result<(), #private::BuildError> {
                    #(#path_steps)*
                    #query_step
                    #private::Result::Ok(())
                }

                fn body(&self) -> #private::Result<#private::Body, #private::BuildError> {
                    #body
                }
            }
        };
    }
}

/// `const HOST` when the endpoint names a host other than the default.
fn host_const(endpoint: &Endpoint) -> TokenStream {
    let private = private(endpoint);
    match &endpoint.host {
        Some(variant) => quote!(const HOST: #private::Host = #private::Host::#variant;),
        None => quote!(),
    }
}

/// `<crate>::__private`.
fn private(endpoint: &Endpoint) -> TokenStream {
    let krate = &endpoint.krate;
    quote!(#krate::__private)
}

/// `const IDEMPOTENCY` as the endpoint declares it; `default` when it
/// declares nothing.
fn idempotency_const(endpoint: &Endpoint, default: TokenStream) -> TokenStream {
    let private = private(endpoint);
    match &endpoint.idempotency {
        Idempotency::Default => default,
        Idempotency::Natural => quote!(
            const IDEMPOTENCY: #private::Idempotency = #private::Idempotency::Natural;
        ),
        Idempotency::NotIdempotent => quote!(
            const IDEMPOTENCY: #private::Idempotency = #private::Idempotency::NotIdempotent;
        ),
        Idempotency::Keyed(key) => quote!(
            const IDEMPOTENCY: #private::Idempotency = #private::Idempotency::Keyed(#key);
        ),
    }
}

/// The `impl wxpay::v2::V2Endpoint` of an APIv2 operation: every field is
/// a member of the signed request, serialized through one view.
fn generate_v2(endpoint: &Endpoint, v2: &V2) -> TokenStream {
    let krate = &endpoint.krate;
    let private = private(endpoint);
    let ident = &endpoint.ident;
    let method = endpoint.method.variant();
    let path = LitStr::new(&endpoint.template.braced(), Span::call_site());
    let response = match &endpoint.response {
        Some(ty) => quote!(#ty),
        None => quote!(#private::V2Fields),
    };
    let fields: Vec<&Field> = endpoint.fields.iter().collect();
    let view_name = format_ident!("__WxpayV2Fields");
    let view_struct = view(endpoint, &view_name, &fields);
    let value = construct(krate, &view_name, &fields);
    let signing = v2.sign.variant();
    let client_cert = v2.client_cert;
    let merchant = match &v2.merchant {
        Some(name) => quote!(#private::Option::Some(#name)),
        None => quote!(#private::Option::None),
    };
    let signed_answer = v2.signed_answer;
    let host = host_const(endpoint);
    // Without a declaration, what the method says (the trait's own default
    // is the cautious one).
    let idempotency = idempotency_const(
        endpoint,
        quote!(
            const IDEMPOTENCY: #private::Idempotency =
                #private::Idempotency::of_method(#private::Method::#method);
        ),
    );
    quote! {
        const _: () = {
            #view_struct

            #[automatically_derived]
            impl #private::V2Endpoint for #ident {
                const METHOD: #private::Method = #private::Method::#method;
                const PATH: &'static str = #path;
                #host
                const SIGNING: #private::Signing = #private::Signing::#signing;
                const CLIENT_CERT: bool = #client_cert;
                const MERCHANT_FIELD: #private::Option<&'static str> = #merchant;
                const SIGNED_ANSWER: bool = #signed_answer;
                #idempotency
                type Response = #response;

                fn fields(&self) -> #private::Result<#private::V2Fields, #private::BuildError> {
                    #private::v2_fields(&#value)
                }
            }
        };
    }
}

/// Statements building `__wxpay_form`, the upload's form: the file part's
/// name, the `meta` document, then each text field in order. A `meta` that
/// cannot be serialized or a text field with no text form is a
/// `BuildError` (`?` in `Endpoint::body`).
fn upload_form(private: &TokenStream, multipart: &Multipart) -> TokenStream {
    let form = format_ident!("__wxpay_form");
    let part = multipart
        .part
        .as_ref()
        .map(|name| quote!(let #form = #form.file_part(#name);));
    let meta = multipart.meta.as_ref().map(|(ident, ty)| {
        let value = quote::quote_spanned!(ty.span().resolved_at(Span::call_site())=> &self.#ident);
        quote!(let #form = #form.meta(#value)?;)
    });
    let fields = multipart.form.iter().map(|field| {
        let FormField { ident, ty, cfg } = field;
        let name = LitStr::new(&ident.unraw().to_string(), ident.span());
        let value = quote::quote_spanned!(ty.span().resolved_at(Span::call_site())=> &self.#ident);
        quote!(#(#cfg)* let #form = #form.value(#name, #value)?;)
    });
    quote! {
        let #form = #private::UploadForm::new();
        #part
        #meta
        #(#fields)*
    }
}

fn fields_of(endpoint: &Endpoint, kind: FieldKind) -> Vec<&Field> {
    endpoint
        .fields
        .iter()
        .filter(|field| field.kind == kind)
        .collect()
}

/// `krate` as serde's `crate = "..."` and `skip_serializing_if = "..."`
/// expect it: a path in a string.
fn path_string(krate: &syn::Path) -> String {
    let segments: Vec<String> = krate
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect();
    let leading = if krate.leading_colon.is_some() {
        "::"
    } else {
        ""
    };
    format!("{leading}{}", segments.join("::"))
}

/// A serializable view borrowing `fields`, with their serde attributes.
fn view(endpoint: &Endpoint, name: &syn::Ident, fields: &[&Field]) -> TokenStream {
    let krate = &endpoint.krate;
    let root = path_string(krate);
    let serde_crate = LitStr::new(&format!("{root}::__private::serde"), Span::call_site());
    let is_none = LitStr::new(&format!("{root}::__private::is_none"), Span::call_site());
    let encrypt = LitStr::new(&format!("{root}::__private::encrypt"), Span::call_site());

    // Without a rename of its own, the view takes the struct's name, which
    // is what `#[serde(tag = "...")]` would write.
    let rename = (!endpoint.renames_container).then(|| {
        let struct_name = LitStr::new(&endpoint.ident.unraw().to_string(), Span::call_site());
        quote!(#[serde(rename = #struct_name)])
    });
    let settings = &endpoint.container_serde;

    let members = fields.iter().map(|field| {
        let Field {
            ident,
            ty,
            serde,
            cfg,
            skip_none,
            encrypt: encrypted,
            ..
        } = field;
        let skip = skip_none.then(|| quote!(#[serde(skip_serializing_if = #is_none)]));
        let encrypted = encrypted.then(|| quote!(#[serde(serialize_with = #encrypt)]));
        quote! {
            #(#cfg)*
            #(#serde)*
            #skip
            #encrypted
            #ident: &'__wxpay #ty
        }
    });
    let lifetime = (!fields.is_empty()).then(|| quote!(<'__wxpay>));
    // When every field may be configured away, the lifetime still needs a user.
    let anchor = has_cfg(fields).then(|| {
        quote! {
            #[serde(skip)]
            __wxpay_lifetime: #krate::__private::PhantomData<&'__wxpay ()>,
        }
    });

    quote! {
        // A field the user skips (`#[serde(skip)]`) is borrowed but never read.
        #[allow(dead_code)]
        #[derive(#krate::__private::serde::Serialize)]
        #[serde(crate = #serde_crate)]
        #rename
        #(#[serde(#settings)])*
        struct #name #lifetime {
            #(#members,)*
            #anchor
        }
    }
}

/// Whether any of `fields` carries `#[cfg(...)]`.
fn has_cfg(fields: &[&Field]) -> bool {
    fields.iter().any(|field| !field.cfg.is_empty())
}

/// An expression building the view `name` from `self`.
fn construct(krate: &syn::Path, name: &syn::Ident, fields: &[&Field]) -> TokenStream {
    let members = fields.iter().map(|field| {
        let Field { ident, ty, cfg, .. } = field;
        // Spanned at the field's type, so type errors point at the field.
        let value = quote::quote_spanned!(ty.span().resolved_at(Span::call_site())=> &self.#ident);
        quote!(#(#cfg)* #ident: #value)
    });
    let anchor = has_cfg(fields).then(|| quote!(__wxpay_lifetime: #krate::__private::PhantomData,));
    quote!(#name { #(#members,)* #anchor })
}
