//! One type per shape.
//!
//! The spec describes the same object over and over under other names: an
//! amount inside every payment answer, a colour in every card style. The
//! generator runs twice. The first pass counts, per feature, every struct
//! and enum by its *shape*: its wire form, docs left out (member names,
//! Rust field names, member types compared recursively, required-ness,
//! encryption; an enum's values). The second pass puts each shape that
//! occurs more than once in the feature's `types` module, once, named for
//! what it is (the spec's definition name or the member name it most
//! often sits under), and leaves a type alias under every old name, so a
//! path a user may have written keeps compiling.
//!
//! The derives follow use as well: a type only sent derives `Serialize`, a
//! type only received `Deserialize`. The catalogue's conformance tests,
//! which decode the spec's request examples into request types, get
//! `Deserialize` on those through the hidden feature `__conformance`.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::quote;

use crate::emit;

/// The feature that asks request types to derive `Deserialize` too.
pub const CONFORMANCE_FEATURE: &str = "__conformance";

/// Which way a type crosses the wire.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Sides {
    /// It is sent: `Serialize`.
    pub sent: bool,
    /// It is received: `Deserialize`.
    pub received: bool,
}

impl Sides {
    /// Sent and received.
    pub const BOTH: Sides = Sides {
        sent: true,
        received: true,
    };

    fn union(self, other: Sides) -> Sides {
        Sides {
            sent: self.sent || other.sent,
            received: self.received || other.received,
        }
    }

    /// The derive attributes of a struct used this way.
    pub fn derives(self, default: bool) -> TokenStream {
        let default = default.then(|| quote! { Default, });
        let serde = match (self.sent, self.received) {
            (true, true) => quote! { , serde::Serialize, serde::Deserialize },
            (true, false) => quote! { , serde::Serialize },
            (false, _) => quote! { , serde::Deserialize },
        };
        let conformance = (self.sent && !self.received).then(conformance_deserialize);
        quote! {
            #[derive(Debug, Clone, #default PartialEq #serde)]
            #conformance
        }
    }
}

/// `Deserialize` for the conformance tests only.
pub fn conformance_deserialize() -> TokenStream {
    quote! { #[cfg_attr(feature = #CONFORMANCE_FEATURE, derive(serde::Deserialize))] }
}

/// What a skipped `None` looks like on a sent field; a type never sent
/// leaves it out.
pub fn skip_none() -> TokenStream {
    quote! { #[serde(skip_serializing_if = "Option::is_none")] }
}

/// One field of a generated struct.
pub struct Field {
    /// Its doc text.
    pub doc: String,
    /// Its attributes besides the doc and [`Field::skip_none`], in order.
    pub attrs: Vec<TokenStream>,
    /// A `None` is left out when the struct is sent ([`skip_none`]).
    pub skip_none: bool,
    /// Its name (`r#type` for a keyword).
    pub ident: String,
    /// Its type, `Option<…>` when it is optional.
    pub ty: String,
}

impl Field {
    /// `pub ident: Type,` with its doc and attributes, in a struct
    /// that is `sent` or not; `owner` names the struct for errors.
    pub fn tokens(&self, sent: bool, owner: &str) -> Result<TokenStream, String> {
        let doc = emit::doc(&self.doc);
        let attrs = &self.attrs;
        let skip = (sent && self.skip_none).then(skip_none);
        let ident = emit::ident(&self.ident)?;
        let ty = emit::ty(&self.ty, &format!("`{owner}::{}`", self.ident))?;
        Ok(quote! {
            #doc
            #(#attrs)*
            #skip
            pub #ident: #ty,
        })
    }

    /// What the field is on the wire and in Rust, its doc aside.
    pub fn shape(&self) -> String {
        let attrs: Vec<String> = self.attrs.iter().map(ToString::to_string).collect();
        format!(
            "{}{}pub {}: {},",
            attrs.concat(),
            if self.skip_none { "skip" } else { "" },
            self.ident,
            self.ty
        )
    }
}

/// The fields of struct `owner`, as tokens for its braces.
pub fn fields_tokens(fields: &[Field], sent: bool, owner: &str) -> Result<TokenStream, String> {
    let fields = fields
        .iter()
        .map(|field| field.tokens(sent, owner))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(quote! { #(#fields)* })
}

/// A struct or enum, waiting for its name.
pub enum Shaped {
    /// A struct: its doc, its fields, and whether every field is
    /// optional (then it derives `Default`).
    Struct {
        /// The struct's doc text.
        doc: String,
        /// Its doc where it stays in its operation's module, if not `doc`.
        local_doc: Option<String>,
        /// The fields.
        fields: Vec<Field>,
        /// Every field is optional.
        all_optional: bool,
    },
    /// A string enum: its doc and its variants.
    Enum {
        /// The enum's doc line.
        doc: String,
        /// The variants (`/// doc` `Variant = "WIRE",` each).
        variants: TokenStream,
    },
}

impl Shaped {
    /// The item, named `name`, derived for `sides`; `local` when it stays
    /// in its operation's module.
    pub fn render(&self, name: &str, sides: Sides, local: bool) -> Result<TokenStream, String> {
        let ident = emit::ident(name)?;
        match self {
            Shaped::Struct {
                doc,
                local_doc,
                fields,
                all_optional,
            } => {
                let doc = match local_doc {
                    Some(local_doc) if local => local_doc,
                    _ => doc,
                };
                let doc = emit::doc(if doc.is_empty() { name } else { doc });
                let derives = sides.derives(*all_optional);
                let body = fields_tokens(fields, sides.sent, name)?;
                let constructors = if sides.sent {
                    crate::builders::constructors(name, fields)?
                } else {
                    TokenStream::new()
                };
                Ok(quote! {
                    #doc
                    #derives
                    pub struct #ident { #body }
                    #constructors
                })
            }
            Shaped::Enum { doc, variants } => {
                let doc = emit::doc(if doc.is_empty() { name } else { doc });
                Ok(quote! {
                    string_enum! {
                        #doc
                        pub enum #ident { #variants }
                    }
                })
            }
        }
    }
}

/// What the first pass saw of one shape in one feature.
#[derive(Default)]
pub struct Seen {
    /// How many times it was generated.
    pub count: usize,
    /// The names it could go by, with how often each came up: the member
    /// it sits under (`Amount`) or its definition's name.
    pub names: BTreeMap<String, usize>,
    /// Longer names, for when every short one is taken: the path of
    /// members down to it (`PayerIdentity`).
    pub long_names: BTreeMap<String, usize>,
    /// Which ways it crosses the wire, over all its uses.
    pub sides: Sides,
}

/// Every shape by `(feature module, shape)`.
#[derive(Default)]
pub struct Census {
    seen: BTreeMap<(String, String), Seen>,
}

impl Census {
    /// Counts one use.
    pub fn count(&mut self, unit: &str, shape: &str, name: &str, long: &str, sides: Sides) {
        let seen = self
            .seen
            .entry((unit.to_owned(), shape.to_owned()))
            .or_default();
        seen.count += 1;
        *seen.names.entry(name.to_owned()).or_default() += 1;
        *seen.long_names.entry(long.to_owned()).or_default() += 1;
        seen.sides = seen.sides.union(sides);
    }

    /// The shape, if it occurs more than once in the feature module.
    pub fn repeated(&self, unit: &str, shape: &str) -> Option<&Seen> {
        self.seen
            .get(&(unit.to_owned(), shape.to_owned()))
            .filter(|seen| seen.count > 1)
    }

    /// `(distinct shapes, uses, shapes used more than once, their uses)`.
    pub fn totals(&self) -> (usize, usize, usize, usize) {
        let repeated: Vec<&Seen> = self.seen.values().filter(|s| s.count > 1).collect();
        (
            self.seen.len(),
            self.seen.values().map(|s| s.count).sum(),
            repeated.len(),
            repeated.iter().map(|s| s.count).sum(),
        )
    }
}

/// Names a shared type must not take: the prelude's and the types that
/// generated fields name without a path, which a type of the same name in
/// the `types` module would shadow.
const RESERVED: &[&str] = &[
    "Box",
    "Clone",
    "Debug",
    "Default",
    "Err",
    "None",
    "Ok",
    "Option",
    "PartialEq",
    "Result",
    "Self",
    "Some",
    "String",
    "Vec",
    "Value",
    "Type",
    "Shape",
];

impl Seen {
    /// The name for the shared type: the most frequent of its names not yet
    /// `taken` (nor reserved), ties by name; else the most frequent free
    /// long name; else the most frequent name with a number after it.
    pub fn name(&self, taken: &BTreeSet<String>) -> String {
        let taken = |name: &str| taken.contains(name) || RESERVED.contains(&name);
        let ranked = |names: &BTreeMap<String, usize>| {
            let mut ranked: Vec<(String, usize)> =
                names.iter().map(|(name, n)| (name.clone(), *n)).collect();
            ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            ranked
        };
        let short = ranked(&self.names);
        let long = ranked(&self.long_names);
        if let Some((free, _)) = short.iter().chain(&long).find(|(name, _)| !taken(name)) {
            return free.clone();
        }
        let base = short
            .first()
            .map(|(name, _)| name.as_str())
            .unwrap_or("Shape");
        (2..)
            .map(|n| format!("{base}{n}"))
            .find(|name| !taken(name))
            .unwrap_or_else(|| base.to_owned())
    }
}
