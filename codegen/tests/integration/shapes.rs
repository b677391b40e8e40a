//! What the generator writes about types: one type per shape within a
//! feature, derives that follow use, and constructors for what is sent.
//! Reads the generated text, not the compiled types (`tests/old_paths.rs`
//! at the workspace root compiles a sample of the old names).
//!
//! Says SKIPPED, loudly, when the spec is not there.

use std::collections::BTreeMap;

use wxpay_codegen::generate;

use crate::common;
use common::{generated as file, say, spec};

/// A struct or enum the generator wrote: its name, the attribute lines
/// above it, and its body without docs or indentation.
struct Item {
    name: String,
    attributes: Vec<String>,
    body: String,
}

/// Every struct and `string_enum!` in `text`, with the top-level module
/// (`marketing`'s sub-area) each sits in. A type a body names without a
/// path is written with the path of the module the body is in, so that two
/// modules' `GetStatus` do not look alike.
fn items(text: &str) -> Vec<(String, Item)> {
    let mut out = Vec::new();
    // The modules around the line: (indentation, name).
    let mut modules: Vec<(usize, String)> = Vec::new();
    let mut attributes = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix("pub mod ") {
            modules.push((indent, name.trim_end_matches(" {").to_owned()));
        }
        if trimmed == "}" && modules.last().is_some_and(|(at, _)| *at == indent) {
            modules.pop();
        }
        if trimmed.starts_with("#[") {
            attributes.push(trimmed.to_owned());
            continue;
        }
        let name = trimmed
            .strip_prefix("pub struct ")
            .or_else(|| trimmed.strip_prefix("pub enum "))
            .and_then(|rest| rest.strip_suffix(" {"));
        if let Some(name) = name {
            let path: Vec<&str> = modules.iter().map(|(_, name)| name.as_str()).collect();
            let mut body = String::new();
            for line in lines.by_ref() {
                let line = line.trim();
                if line == "}" {
                    break;
                }
                if !line.starts_with("///") {
                    body.push_str(&qualify(line, &path.join("::")));
                    body.push('\n');
                }
            }
            let item = Item {
                name: name.to_owned(),
                attributes: std::mem::take(&mut attributes),
                body,
            };
            let top = modules
                .first()
                .map(|(_, name)| name.clone())
                .unwrap_or_default();
            out.push((top, item));
        } else if !trimmed.starts_with("///") {
            attributes.clear();
        }
    }
    out
}

/// `line` with every type it names without a path prefixed by `module`.
fn qualify(line: &str, module: &str) -> String {
    const PLAIN: &[&str] = &["String", "Vec", "Option", "Some", "None"];
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let pathless = !out.ends_with("::") && !out.ends_with('"');
        if word.starts_with(|c: char| c.is_ascii_uppercase())
            && pathless
            && !PLAIN.contains(&word.as_str())
        {
            out.push_str(module);
            out.push_str("::");
        }
        out.push_str(word);
        word.clear();
    };
    for c in line.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[test]
fn no_feature_writes_one_shape_twice() {
    let Some(spec) = spec() else { return };
    let output = generate::generate(&spec).expect("generates");
    let mut checked = 0;
    for (path, text) in &output.files {
        let path = path.to_string_lossy();
        // Each catalogue crate's areas (`api/<crate>/src/api/…`), not the
        // shared definitions.
        let catalogue = path.starts_with("api/")
            && path.contains("/src/api/")
            && !path.starts_with("api/types/");
        if !catalogue {
            continue;
        }
        // `marketing`'s sub-areas are features of their own.
        let split = path.ends_with("/src/api/v3/marketing.rs");
        let mut seen: BTreeMap<(String, String), String> = BTreeMap::new();
        for (top, item) in items(text) {
            // An operation's own struct has its attribute: not a shape to
            // share, whatever its members.
            if item
                .attributes
                .iter()
                .any(|a| a.starts_with("#[crate::endpoint("))
            {
                continue;
            }
            checked += 1;
            let unit = if split { top } else { String::new() };
            if let Some(first) = seen.insert((unit, item.body.clone()), item.name.clone()) {
                panic!(
                    "{path}: `{first}` and `{}` are one shape written twice:\n{}",
                    item.name, item.body
                );
            }
        }
    }
    assert!(checked > 2000, "only {checked} types checked");
    say(&format!("{checked} types, no shape twice in a feature"));
}

#[test]
fn derives_follow_use() {
    let Some(spec) = spec() else { return };
    let output = generate::generate(&spec).expect("generates");
    let pay = items(file(&output, "api/payments/src/api/v3/pay.rs"));
    let derives = |name: &str| -> Vec<String> {
        let (_, item) = pay
            .iter()
            .find(|(_, item)| item.name == name)
            .unwrap_or_else(|| panic!("no {name}"));
        item.attributes.clone()
    };
    // Sent only: Serialize, and Deserialize for the conformance tests.
    let amount = derives("Amount");
    assert!(
        amount[0].contains("serde::Serialize") && !amount[0].contains("Deserialize"),
        "{amount:?}"
    );
    assert_eq!(
        amount[1],
        "#[cfg_attr(feature = \"__conformance\", derive(serde::Deserialize))]"
    );
    // Received only: Deserialize, and nothing that only serializing reads.
    let (_, answer) = pay
        .iter()
        .find(|(_, item)| item.name == "TransactionsResponse")
        .expect("the order query's answer");
    assert!(
        answer.attributes[0].contains("serde::Deserialize")
            && !answer.attributes[0].contains("Serialize"),
        "{:?}",
        answer.attributes
    );
    assert!(
        !answer.body.contains("skip_serializing_if"),
        "{}",
        answer.body
    );
    // The operations' own structs derive no serde outside the tests.
    let text = file(&output, "api/payments/src/api/v3/pay.rs");
    let at = text
        .find("#[crate::endpoint(POST, \"/v3/pay/transactions/jsapi\"")
        .expect("the JSAPI order");
    let declaration = &text[at..at + text[at..].find("pub struct").unwrap()];
    assert!(
        declaration.contains("#[derive(Debug, Clone, PartialEq)]")
            && declaration.contains("#[cfg_attr(feature = \"__conformance\""),
        "{declaration}"
    );
}

#[test]
fn sent_structs_with_optional_members_get_constructors() {
    let Some(spec) = spec() else { return };
    let output = generate::generate(&spec).expect("generates");
    let text = file(&output, "api/payments/src/api/v3/pay.rs");
    let at = text
        .find("#[crate::endpoint(POST, \"/v3/pay/transactions/jsapi\"")
        .expect("the JSAPI order");
    let rest = &text[at..];
    let constructor = &rest[rest.find("constructors! {").expect("its constructors")..];
    assert!(
        constructor.lines().nth(1).map(str::trim) == Some("impl Post {"),
        "{constructor}"
    );
    // Up to the end of `impl Post { … }`, the first line that closes a block.
    let end = constructor
        .lines()
        .position(|line| line.trim() == "}")
        .map_or(constructor.len(), |n| {
            constructor.lines().take(n).map(|l| l.len() + 1).sum()
        });
    let constructor = &constructor[..end];
    // The required members, in order, and a setter for an optional one.
    let new = constructor.find("fn new(").expect("new");
    let order = [
        "appid:",
        "mchid:",
        "description:",
        "out_trade_no:",
        "notify_url:",
    ];
    let mut last = new;
    for member in order {
        let at = constructor[new..]
            .find(member)
            .unwrap_or_else(|| panic!("{member} not in new:\n{constructor}"));
        assert!(new + at >= last, "{member} out of order");
        last = new + at;
    }
    assert!(
        constructor.contains("fn with_attach(attach: String);"),
        "{constructor}"
    );
    assert!(!constructor.contains("fn with_appid("), "{constructor}");
    // Answers get none.
    let answers = items(text);
    let (_, answer) = answers
        .iter()
        .find(|(_, item)| item.name == "TransactionsResponse")
        .expect("an answer");
    let constructed = |name: &str| {
        text.split("constructors! {")
            .skip(1)
            .any(|rest| rest.lines().nth(1).map(str::trim) == Some(&format!("impl {name} {{")))
    };
    assert!(constructed("Post"));
    assert!(!constructed(&answer.name));
}

#[test]
fn overridden_operations_answer_the_runtime_types() {
    let Some(spec) = spec() else { return };
    let output = generate::generate(&spec).expect("generates");
    let bill = file(&output, "api/payments/src/api/v3/bill.rs");
    assert!(
        bill.contains(
            "#[crate::endpoint(GET, \"/v3/bill/tradebill\", response = crate::bill::BillInfo)]"
        ),
        "the trade bill answers what download_bill takes"
    );
    assert!(bill.contains("pub bill_type: Option<crate::api::bill::BillType>,"));
    let merchant = file(&output, "api/merchants/src/api/v3/merchant.rs");
    assert!(merchant.contains(
        "#[crate::endpoint(POST, \"/v3/merchant/media/upload\", response = crate::api::media::MediaUploaded, multipart"
    ));
}
