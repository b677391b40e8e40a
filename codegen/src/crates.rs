//! Which crate compiles which part of the catalogue.
//!
//! The catalogue is over a hundred thousand lines of structs and serde
//! impls. In one crate, rustc holds all of it at once (over 3 GB with every
//! feature on) and compiles it on one core; split into crates of a theme
//! each, cargo builds them side by side and rebuilds only what changed.
//! Users never name these crates: `wxpay` re-exports each area at its
//! usual path (`wxpay::api::v3::pay`) behind the feature of the same name,
//! which turns on the crate and the area within it.
//!
//! Every catalogue crate mirrors the facade's layout (`api::v3::pay`,
//! `api::v2::pay`, `api::hk`, `api::types`), so the generated sources name
//! their types the same way (`crate::api::v3::pay::types::Amount`)
//! whichever crate they land in. The shared definitions and the two
//! macros the generated code calls (`string_enum!`, `constructors!`) live in
//! `wxpay-api-types`, which every other catalogue crate depends on.
//!
//! [`CRATES`] is a reviewed table: an area of the spec that no entry names,
//! or an entry naming an area the spec no longer has, stops the generator,
//! so that a new area lands in a crate someone chose.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use proc_macro2::TokenStream;
use quote::quote;

use crate::emit;

/// One catalogue crate.
#[derive(Debug)]
pub struct Crate {
    /// The folder under `api/`, and the crate's name after `wxpay-api-`.
    pub name: &'static str,
    /// What it holds, for its docs and its manifest's description.
    pub about: &'static str,
    /// The areas it holds: the APIv3 area (`/v3/<area>/…`, the split areas
    /// whole), or `hk`, `global` (both `/global/v3/…` and `/v3/global/…`)
    /// or `v2` (every APIv2 area).
    pub areas: &'static [&'static str],
    /// Hand-written modules of the crate (`src/<name>.rs`), which the
    /// generator declares and never rewrites: trait impls for the crate's
    /// types that the orphan rule keeps out of `wxpay`.
    pub handwritten: &'static [&'static str],
}

/// The crate of the shared definitions (`api::types`) and the macros.
pub const TYPES: &str = "types";

/// The catalogue's crates, by theme. Sizes (lines of generated code) are
/// kept near or below 20,000 per crate: rustc's peak memory follows the
/// largest crate.
pub const CRATES: &[Crate] = &[
    Crate {
        name: "payments",
        about: "paying, refunding, bills, certificates, transfers and the merchant's funds",
        areas: &[
            "pay",
            "refund",
            "bill",
            "billdownload",
            "certificates",
            "combine-transactions",
            "profitsharing",
            "transfer",
            "transfer-detail",
            "transferdownload",
            "fund-app",
            "merchantfund",
            "bank-transfer",
            "bank-batch-transfer",
            "partner-transfer",
            "funds-to-oversea",
            "capital",
            "abnormal-fund-processing",
            "transaction-block",
            "aggracct-bc",
            "recharge",
            "repayment",
            "webhooks",
            "security",
            "realname",
        ],
        handwritten: &["prepay_orders", "transfer_bills"],
    },
    Crate {
        name: "merchants",
        about: "onboarding and running merchants: applications, stores, risk, e-commerce and platforms",
        areas: &[
            "merchant",
            "merchant-service",
            "applyment4sub",
            "apply4sub",
            "apply4subject",
            "mchalterapply",
            "mch-manage",
            "mch_operate",
            "mch-operation-manage",
            "merchant-risk-manage",
            "merchant-settlement",
            "merchant-store",
            "compliance",
            "ecommerce",
            "platsolution",
        ],
        handwritten: &[],
    },
    Crate {
        name: "marketing",
        about: "marketing campaigns: coupons, discounts, gifts and member cards (`/v3/marketing/…`)",
        areas: &["marketing"],
        handwritten: &[],
    },
    Crate {
        name: "brands",
        about: "brands and loyalty: brand merchants, business circles, rebates and rewards",
        areas: &[
            "brand",
            "brand-basic",
            "businesscircle",
            "goldplan",
            "industry-coupon",
            "industry-rebate",
            "rate-activity",
            "smartguide",
            "lovefeast",
            "discount-card",
        ],
        handwritten: &[],
    },
    Crate {
        name: "contracts",
        about: "payments under contract: credit-based payscore and withholding (papay)",
        areas: &[
            "payscore",
            "papay",
            "partner-papay",
            "edu-papay",
            "password-exempt-contract",
            "credit-repayment",
        ],
        handwritten: &[],
    },
    Crate {
        name: "industries",
        about: "industry solutions: government, invoices, parking, transport, health, education and devices",
        areas: &[
            "gov",
            "new-tax-control-fapiao",
            "parking",
            "vehicle",
            "ebike",
            "taxi-invoice",
            "med-ins",
            "edu-star",
            "eduschoolpay",
            "catering",
            "hire-power-bank",
            "inspolicymgr",
            "iotmanage",
            "offlineface",
            "offlinefacemch",
            "facemch",
            "palmservice",
            "pay-devices",
            "qrcode",
            "express",
            "multiuse",
            "payroll-card",
            "webizpay",
        ],
        handwritten: &[],
    },
    Crate {
        name: "cross-border",
        about: "cross-border payments: `/v3/global/…`, the Hong Kong site's APIv3 and `/global/v3/…`",
        areas: &["global", "hk"],
        handwritten: &[],
    },
    Crate {
        name: "v2",
        about: "APIv2, every area (XML, signed with the APIv2 key)",
        areas: &["v2"],
        handwritten: &[],
    },
];

/// The crate's package name: `wxpay-api-<name>`.
pub fn package(name: &str) -> String {
    format!("wxpay-api-{name}")
}

/// The crate's name in Rust paths: `wxpay_api_<name>`.
pub fn rust_name(name: &str) -> String {
    package(name).replace('-', "_")
}

/// The crate's folder, relative to the workspace root.
pub fn dir(name: &str) -> String {
    format!("api/{name}")
}

/// The crate that holds `area` (see [`Crate::areas`]).
pub fn holding(area: &str) -> Result<&'static Crate, String> {
    CRATES
        .iter()
        .find(|krate| krate.areas.contains(&area))
        .ok_or_else(|| {
            format!(
                "the spec's area `{area}` is in no catalogue crate: add it to the crate \
                 of its theme in codegen/src/crates.rs (CRATES)"
            )
        })
}

/// Checks the table against the areas the spec has: each is in exactly
/// one crate, and no crate names an area the spec lacks.
pub fn check(areas: &BTreeSet<String>) -> Result<(), String> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for krate in CRATES {
        for area in krate.areas {
            if !seen.insert(*area) {
                problems.push(format!("`{area}` is in two crates"));
            }
            if !areas.contains(*area) {
                problems.push(format!(
                    "crate `{}` names `{area}`, which the spec no longer has",
                    krate.name
                ));
            }
        }
    }
    for area in areas {
        if let Err(problem) = holding(area) {
            problems.push(problem);
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "codegen/src/crates.rs (CRATES) does not match the spec: {}",
            problems.join("; ")
        ))
    }
}

/// One module a catalogue crate declares under `api`.
#[derive(Debug, Clone)]
pub struct Declared {
    /// `v3`, `v2`, or empty for `api::hk` and `api::global`.
    pub parent: &'static str,
    /// The module's name.
    pub name: String,
    /// Its doc line.
    pub doc: String,
    /// Its `cfg` predicate.
    pub gate: TokenStream,
}

/// The crate-level attributes of every catalogue crate, after its docs.
fn lints() -> TokenStream {
    quote! {
        #![allow(clippy::module_inception, clippy::enum_variant_names, clippy::large_enum_variant)]
    }
}

/// What every area crate's `lib.rs` starts with, after its docs.
fn shell() -> TokenStream {
    let expansion = emit::comment(
        "The endpoint attribute's expansion names `::wxpay::__private`, as in the\n`wxpay` crate.",
    );
    let runtime = emit::comment(
        "The generated sources name the runtime's items as `wxpay` does:\n\
         `crate::DateTime`, `crate::media::MediaFile`, `#[crate::endpoint]`.",
    );
    quote! {
        #expansion;
        extern crate self as wxpay;

        #[doc(hidden)]
        pub mod __private {
            pub use wxpay_core::__macro_support::*;
        }

        #runtime;
        #[allow(unused_imports)]
        use wxpay_core::*;
        #[allow(unused_imports)]
        use wxpay_macros::endpoint;
    }
}

/// The `lib.rs` of an area crate.
pub fn lib_rs(krate: &Crate, header: &str, modules: &[Declared]) -> Result<String, String> {
    let doc = emit::inner_doc(&format!(
        "Part of the `wxpay` crate's endpoint catalogue: {}.\n\n\
         Use it through `wxpay`, which re-exports each area at the same path\n\
         (`wxpay::api::…`) behind the feature of the same name; the catalogue is split\n\
         into crates so that cargo compiles it in parallel pieces.",
        krate.about
    ));
    let lints = lints();
    let macros = emit::comment("`string_enum!` and `constructors!`.");
    let shell = shell();
    let handwritten = if krate.handwritten.is_empty() {
        TokenStream::new()
    } else {
        let comment = emit::comment("Hand-written: trait impls for this crate's types.");
        let modules = krate
            .handwritten
            .iter()
            .map(|module| emit::ident(module))
            .collect::<Result<Vec<_>, _>>()?;
        quote! { #comment; #(mod #modules;)* }
    };
    let mut groups = Vec::new();
    for parent in ["", "v3", "v2"] {
        let mut declared = Vec::new();
        for module in modules.iter().filter(|m| m.parent == parent) {
            let doc = emit::doc(&module.doc);
            let gate = &module.gate;
            let name = emit::ident(&module.name)?;
            declared.push(quote! {
                #doc
                #[cfg(#gate)]
                pub mod #name;
            });
        }
        if declared.is_empty() {
            continue;
        }
        groups.push(if parent.is_empty() {
            quote! { #(#declared)* }
        } else {
            let doc = emit::doc(&format!(
                "`wxpay::api::{parent}`'s areas that this crate holds."
            ));
            let parent = emit::ident(parent)?;
            quote! {
                #doc
                pub mod #parent { #(#declared)* }
            }
        });
    }
    let tokens = quote! {
        #doc
        #lints
        #macros;
        #[allow(unused_imports)]
        #[macro_use]
        extern crate wxpay_api_types;
        #shell
        #handwritten
        /// The catalogue's modules, at the paths `wxpay::api` re-exports them under.
        pub mod api {
            #[allow(unused_imports)]
            pub(crate) use wxpay_api_types::{api::types, bill, media};
            #(#groups)*
        }
    };
    emit::file(header, tokens, &format!("{}/src/lib.rs", dir(krate.name)))
}

/// The `lib.rs` of `wxpay-api-types`.
pub fn types_lib_rs(header: &str) -> Result<String, String> {
    let doc = emit::inner_doc(
        "Part of the `wxpay` crate's endpoint catalogue: the types the spec shares between\n\
         operations (`definitions/…`), which `wxpay` re-exports as `wxpay::api::types`, and the\n\
         macros the generated sources call.",
    );
    let lints = lints();
    let runtime = emit::comment(
        "The generated sources name the runtime's items as `wxpay` does (`crate::DateTime`).",
    );
    let tokens = quote! {
        #doc
        #lints
        #[macro_use]
        mod macros;
        pub mod bill;
        pub mod media;
        #runtime;
        #[allow(unused_imports)]
        use wxpay_core::*;
        /// The shared definitions, at the path `wxpay::api` re-exports them under.
        pub mod api {
            pub mod types;
        }
    };
    emit::file(header, tokens, &format!("{}/src/lib.rs", dir(TYPES)))
}

/// The manifest of a catalogue crate: `features` are its leaf features;
/// `header` is the Rust sources' header, written as TOML comments.
pub fn manifest(header: &str, name: &str, about: &str, features: &[String], types: bool) -> String {
    let mut text = header.replace("// ", "# ");
    let _ = writeln!(
        text,
        "[package]\nname = \"{}\"\ndescription = \"Part of wxpay's endpoint catalogue: {}; use it through the wxpay crate\"\n\
         version.workspace = true\nedition.workspace = true\nrust-version.workspace = true\n\
         license.workspace = true\nrepository.workspace = true\n",
        package(name),
        about.replace('`', "")
    );
    text.push_str("[features]\n");
    for feature in features {
        let _ = writeln!(text, "{} = []", toml_key(feature));
    }
    text.push_str(
        "## Not for users: request types derive `Deserialize` too (see wxpay's feature).\n\
         __conformance = []\n\n\
         [lib]\n\
         # `wxpay`'s tests cover the catalogue; a test harness of its own would\n\
         # compile it a second time.\n\
         test = false\ndoctest = false\n\n\
         [dependencies]\n\
         # The runtime: the types the generated sources name, and what the\n\
         # endpoint attribute's expansion calls.\n\
         wxpay-core.workspace = true\n",
    );
    if !types {
        text.push_str(
            "# The endpoint attribute.\nwxpay-macros.workspace = true\n\
             # The shared definitions, `string_enum!` and `constructors!`.\n\
             wxpay-api-types.workspace = true\n",
        );
    }
    text.push_str(
        "# The derives on every request and answer.\nserde.workspace = true\n\
         # `serde_json::Value`, for members the spec leaves untyped.\nserde_json.workspace = true\n\n\
         [lints]\nworkspace = true\n",
    );
    text
}

/// A feature name as a TOML key (quoted unless it is a bare key).
pub fn toml_key(name: &str) -> String {
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        name.to_owned()
    } else {
        format!("{name:?}")
    }
}
