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

use std::fmt::Write as _;

/// A field of a rendered struct: `pub ident: Type,`, with the first line
/// of its doc.
struct Field<'a> {
    ident: &'a str,
    ty: &'a str,
    doc: &'a str,
}

/// The fields of a struct body as the generator renders it: a doc, maybe
/// attributes, then `pub ident: Type,` on one line.
fn fields(body: &str) -> Vec<Field<'_>> {
    let mut out = Vec::new();
    let mut doc = "";
    for line in body.lines().map(str::trim) {
        if let Some(text) = line.strip_prefix("///") {
            if doc.is_empty() {
                doc = text.trim();
            }
        } else if let Some(field) = line.strip_prefix("pub ").and_then(|l| l.strip_suffix(',')) {
            if let Some((ident, ty)) = field.split_once(": ") {
                out.push(Field { ident, ty, doc });
            }
            doc = "";
        }
    }
    out
}

/// `constructors! { name { new(…); with_…; } }` for a struct whose
/// rendered fields are `body` (the macro, `api/types/src/macros.rs`,
/// writes the `impl`); nothing when no field is optional (a struct
/// literal is as short) and no `new` when every field is (`Default` is
/// there).
pub fn constructors(name: &str, body: &str) -> String {
    let fields = fields(body);
    let optional = |field: &Field| field.ty.starts_with("Option<");
    if !fields.iter().any(optional) {
        return String::new();
    }
    // rustfmt leaves macro bodies alone, so they are indented here.
    let mut out = format!("\nconstructors! {{\n    {name} {{\n");
    let required: Vec<&Field> = fields.iter().filter(|f| !optional(f)).collect();
    if !required.is_empty() {
        out.push_str("        new(\n");
        for field in &required {
            let _ = writeln!(out, "            {}: {},", field.ident, field.ty);
        }
        out.push_str("        );\n");
    }
    for field in fields.iter().filter(|f| optional(f)) {
        let inner = &field.ty["Option<".len()..field.ty.len() - 1];
        let bare = field.ident.trim_start_matches("r#");
        let what = if field.doc.is_empty() {
            String::new()
        } else {
            format!(" ({})", field.doc)
        };
        let _ = writeln!(
            out,
            "        /// Sets `{bare}`{what}.\n        with_{bare} => {}: {inner};",
            field.ident
        );
    }
    out.push_str("    }\n}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::constructors;

    #[test]
    fn required_fields_make_new_and_optional_ones_setters() {
        let body = "/// 应用ID\npub appid: String,\n/// 附加数据\n\
                    #[serde(skip_serializing_if = \"Option::is_none\")]\n\
                    pub attach: Option<String>,\n/// 类型\npub r#type: Option<Vec<i64>>,\n";
        let out = constructors("Post", body);
        assert!(out.contains("constructors! {\n    Post {\n"), "{out}");
        assert!(
            out.contains("        new(\n            appid: String,\n        );\n"),
            "{out}"
        );
        assert!(
            out.contains(
                "        /// Sets `attach` (附加数据).\n        with_attach => attach: String;"
            ),
            "{out}"
        );
        assert!(out.contains("with_type => r#type: Vec<i64>;"), "{out}");
    }

    #[test]
    fn nothing_without_optional_fields_and_no_new_without_required_ones() {
        assert_eq!(constructors("A", "pub a: String,\n"), "");
        let out = constructors("B", "pub b: Option<bool>,\n");
        assert!(!out.contains("new("), "{out}");
        assert!(out.contains("with_b => b: bool;"), "{out}");
    }
}
