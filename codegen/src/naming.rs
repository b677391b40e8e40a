//! The one naming rule: every Rust name in the catalogue comes from the
//! operation's URL and method (and, for nested types, the field path).
//!
//! - A path segment is a module: `-` and other non-identifier characters
//!   become `_`, capitals are lowered; a placeholder `{stock_id}` is
//!   `_stock_id_` and the spec's `{empty}` (a trailing `/`) is `_empty_`; a
//!   segment starting with a digit gets a leading `_`.
//! - A keyword is a raw identifier (`r#type`), except `crate`, `self`,
//!   `super` and `Self`, which cannot be raw and get a trailing `_`
//!   (`crate_`).
//! - The leaf module holds one struct per method, `Get`, `Post`, `Put`,
//!   `Patch`, `Delete`, and its answer `GetResponse`, `PostResponse`, …
//! - A nested object or enum is named after its parent and its field in
//!   UpperCamelCase: `PostResponse` + `amount` = `PostResponseAmount`.
//! - A type shared through `$ref` from `definitions/` lives in
//!   `wxpay::api::types` under its own name (`IdType`).
//! - Fields are snake_case (`payAuthNo` → `pay_auth_no`, sent under the
//!   spec's name); enum variants are UpperCamelCase of the value
//!   (`REFUND.SUCCESS` → `RefundSuccess`), `V<n>` for values that are not
//!   ASCII words.

/// Words that are keywords in Rust 2024.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where",
    "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "try",
    "typeof", "unsized", "virtual", "yield",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["crate", "self", "super", "Self"];

/// Makes `word` (already made of identifier characters) usable as an
/// identifier.
pub fn escape(word: &str) -> String {
    if NOT_RAW.contains(&word) {
        format!("{word}_")
    } else if KEYWORDS.contains(&word) {
        format!("r#{word}")
    } else if word == "_" {
        "__".to_owned()
    } else {
        word.to_owned()
    }
}

/// Splits `text` into lowercase words at non-alphanumerics and at
/// lower→upper case changes (`payAuthNo` → `pay auth no`).
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for ch in text.chars() {
        if ch.is_ascii_alphanumeric() {
            if ch.is_ascii_uppercase() && prev_lower && !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
            current.push(ch.to_ascii_lowercase());
        } else {
            prev_lower = false;
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The module for one path segment.
pub fn module(segment: &str) -> String {
    if let Some(inner) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        return format!("_{}_", snake(inner));
    }
    let mut out: String = segment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    escape(&out)
}

/// snake_case without escaping.
fn snake(text: &str) -> String {
    let joined = words(text).join("_");
    if joined.is_empty() {
        "field".to_owned()
    } else if joined.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{joined}")
    } else {
        joined
    }
}

/// A field's identifier.
pub fn field(name: &str) -> String {
    escape(&snake(name))
}

/// UpperCamelCase of `text`.
pub fn camel(text: &str) -> String {
    words(text)
        .iter()
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// The struct for a method: `Get`, `Post`, …
pub fn method_struct(method: &str) -> String {
    camel(&method.to_ascii_lowercase())
}

/// An enum variant for the wire value `value` (the `index`th).
pub fn variant(value: &str, index: usize) -> String {
    let ascii_word = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-: /".contains(c));
    let mut name = if ascii_word {
        camel(value)
    } else {
        String::new()
    };
    if name.is_empty() {
        name = if value.is_empty() {
            "Empty".to_owned()
        } else {
            format!("V{index}")
        };
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'V');
    }
    if name == "Other" || name == "Self" {
        name.push_str("Value");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments() {
        assert_eq!(module("{stock_id}"), "_stock_id_");
        assert_eq!(module("{empty}"), "_empty_");
        assert_eq!(module("out-trade-no"), "out_trade_no");
        assert_eq!(module("crate"), "crate_");
        assert_eq!(module("type"), "r#type");
        assert_eq!(module("4sub"), "_4sub");
    }

    #[test]
    fn fields_and_variants() {
        assert_eq!(field("payAuthNo"), "pay_auth_no");
        assert_eq!(field("type"), "r#type");
        assert_eq!(field("self"), "self_");
        assert_eq!(field("payer _currency"), "payer_currency");
        assert_eq!(variant("REFUND.SUCCESS", 0), "RefundSuccess");
        assert_eq!(variant("2401", 0), "V2401");
        assert_eq!(variant("中文", 3), "V3");
        assert_eq!(camel("stock_id"), "StockId");
    }
}
