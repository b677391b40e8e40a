//! The files beside the areas' modules: an area's file from its module
//! tree, `wxpay`'s re-exports, the catalogue (`src/api/catalogue.rs`) and
//! the conformance tests' dispatch (`codegen/tests/spec/dispatch.rs`).

use proc_macro2::TokenStream;
use quote::quote;

use super::{HEADER, Module, Row, V2Sign};
use crate::crates::{self, Crate};
use crate::emit;
use crate::naming;
use crate::spec::{Protocol, host_variant};

/// A module's items, then its child modules, as tokens.
fn module_items(module: &Module) -> Result<TokenStream, String> {
    let items = &module.sink.items;
    let mut children = Vec::new();
    for (name, child) in &module.children {
        let doc = match &child.doc {
            Some(text) => emit::doc(text),
            None => emit::doc(&format!("`{}`", child.segment_path)),
        };
        let cfg = child.cfg.as_ref().map(|cfg| quote! { #[cfg(#cfg)] });
        let ident = emit::ident(name)?;
        let body = module_items(child)?;
        children.push(quote! {
            #doc
            #cfg
            pub mod #ident { #body }
        });
    }
    Ok(quote! { #(#items)* #(#children)* })
}

/// An area's file: its doc (`//!`), then its module's items; `at` is the
/// file, for errors.
pub(super) fn module_file(doc: &str, module: &Module, at: &str) -> Result<String, String> {
    let doc = emit::inner_doc(doc);
    let body = module_items(module)?;
    emit::file(HEADER, quote! { #doc #body }, at)
}

/// `wxpay`'s re-export of an area, `pub use <crate>::api::<parent>::<name>;`
/// behind `gate`.
pub(super) fn reexport(
    gate: &TokenStream,
    krate: &Crate,
    parent: TokenStream,
    name: &str,
) -> Result<TokenStream, String> {
    let krate = emit::ident(&crates::rust_name(krate.name))?;
    let name = emit::ident(name)?;
    Ok(quote! {
        #[cfg(#gate)]
        #[doc(inline)]
        pub use #krate::api::#parent::#name;
    })
}

/// `src/api/catalogue.rs`: every operation's [`Row`].
pub(super) fn catalogue(rows: &[Row]) -> Result<String, String> {
    let mut entries = Vec::new();
    for row in rows {
        if let Some(note) = &row.note {
            entries.push(emit::comment(&format!("Listed, not declared: {note}.")));
        }
        entries.push(catalogue_entry(row)?);
    }
    let doc = emit::inner_doc("Every operation of the catalogue, whichever features are enabled.");
    let tokens = quote! {
        #doc
        use super::{EndpointInfo, Protocol};
        use crate::v2::Signing;
        use crate::{Host, Idempotency, Method};
        /// Every built-in operation: APIv3 (`/v3/…`), then the Hong Kong site's (`/hk/v3/…`),
        /// the global ones (`/global/v3/…`) and APIv2 (`/v2/…`), each sorted by the spec's path
        /// then method.
        pub static CATALOGUE: &[EndpointInfo] = &[#(#entries),*];
    };
    emit::file(HEADER, tokens, "src/api/catalogue.rs")
}

/// One `EndpointInfo { … }` of the catalogue.
fn catalogue_entry(row: &Row) -> Result<TokenStream, String> {
    let method = emit::ident(&naming::method_struct(&row.method))?;
    let Row {
        template,
        rust_path,
        feature,
        download,
        multipart,
        host,
        client_cert,
        ..
    } = row;
    let idempotency = row.idempotency.rust();
    let protocol = match row.protocol {
        Protocol::V3 => quote! { V3 },
        Protocol::V2 => quote! { V2 },
    };
    let signing = match row.v2_sign {
        None => quote! { None },
        Some(V2Sign::Md5) => quote! { Some(Signing::Md5Only) },
        Some(V2Sign::HmacSha256) => quote! { Some(Signing::HmacSha256Only) },
        Some(V2Sign::Either) => quote! { Some(Signing::Either) },
    };
    let merchant = match &row.v2_merchant {
        None => quote! { None },
        Some(name) => quote! { Some(#name) },
    };
    let signed_answer = row.protocol == Protocol::V2 && !row.unsigned_answer;
    let host = emit::ident(host_variant(host).map_err(|e| format!("{rust_path}: {e}"))?)?;
    Ok(quote! {
        EndpointInfo {
            method: Method::#method,
            template: #template,
            rust_path: #rust_path,
            feature: #feature,
            download: #download,
            multipart: #multipart,
            idempotency: #idempotency,
            protocol: Protocol::#protocol,
            host: Host::#host,
            client_cert: #client_cert,
            v2_signing: #signing,
            v2_merchant_field: #merchant,
            v2_signed_answer: #signed_answer,
        }
    })
}

/// `codegen/tests/spec/dispatch.rs`: each declared operation's types by
/// its key.
pub(super) fn dispatch(rows: &[Row]) -> Result<String, String> {
    let mut arms = Vec::new();
    for row in rows.iter().filter(|r| !r.rust_path.is_empty()) {
        let key = format!("{} {}", row.method, row.spec_path);
        let path = emit::path(&row.rust_path, &key)?;
        let call = if row.protocol == Protocol::V2 {
            quote! { check.v2::<#path>() }
        } else if row.multipart {
            quote! { check.response_only::<#path>() }
        } else {
            quote! { check.run::<#path>() }
        };
        arms.push(quote! { #key => #call, });
    }
    // The arms are longer than any line: printed one a line, as they are
    // (a printer would break them and wrap each body in braces).
    let mut body = vec!["Some(match key {".to_owned()];
    body.extend(
        arms.iter()
            .map(|arm| format!("    {}", emit::one_line(arm))),
    );
    body.push(format!(
        "    {}",
        emit::one_line(&quote! { _ => return None, })
    ));
    body.push("})".to_owned());
    let doc = emit::inner_doc(
        "Picks the generated types of an operation by its `METHOD /spec-path` key.",
    );
    let marker = emit::marker(DISPATCH_BODY);
    let tokens = quote! {
        #doc
        use super::Check;
        /// Runs `check` with the operation's types; `None` for an unknown key.
        pub fn dispatch(key: &str, check: &mut Check) -> Option<Result<(), String>> {
            #marker
        }
    };
    let text = emit::file(HEADER, tokens, "codegen/tests/spec/dispatch.rs")?;
    emit::replace_marker(&text, DISPATCH_BODY, &body)
}

/// Where `dispatch`'s body goes once the file is printed.
const DISPATCH_BODY: &str = "__wxpay_codegen_dispatch";
