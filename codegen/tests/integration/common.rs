//! What the spec tests share: the spec itself, and requests and responses
//! built from its examples (or, for the conformance test, from its schemas
//! where the examples fall short).
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use serde_yaml::Value as Yaml;
use wxpay_codegen::generate::Output;
use wxpay_codegen::spec::{Kind, Operation, Spec, get, get_str, kind_of, scalar_text};

/// Writes past the test harness's capture, so the line shows in CI logs.
pub fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The text of the generated file at `path` (from the workspace root).
pub fn generated<'a>(output: &'a Output, path: &str) -> &'a str {
    output
        .files
        .iter()
        .find(|(p, _)| p.as_path() == Path::new(path))
        .map(|(_, text)| text.as_str())
        .unwrap_or_else(|| panic!("{path} not written"))
}

/// The spec at `../shared/spec/wechatpay-openapi` (or `WXPAY_SPEC`), or
/// `None` after saying loudly that the caller skips.
pub fn spec() -> Option<Spec> {
    let dir = std::env::var_os("WXPAY_SPEC")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/spec/wechatpay-openapi")
        });
    match Spec::open(&dir) {
        Ok(spec) => Some(spec),
        Err(error) => {
            say(&format!(
                "SKIPPED: no WeChat Pay OpenAPI spec at {} ({error}); the catalogue was NOT checked against it",
                dir.display()
            ));
            None
        }
    }
}

/// An operation's request as the generated struct reads it.
pub struct Request {
    /// Path, query and body values, keyed by wire name (a path parameter
    /// that a body member also names as `<name>@path`).
    pub all: Value,
    /// The body alone, when the operation takes one.
    pub body: Option<Value>,
    /// Query parameter names that have a value.
    pub query: Vec<String>,
    /// The body's required top-level members, in schema order.
    pub required: Vec<String>,
}

/// How a request is filled in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fill {
    /// From the spec's examples only: `None` when a required part has none.
    Examples,
    /// From the examples, and values made up from the schema (its type,
    /// format and bounds) where a required part has none.
    Schema,
}

/// The request example of `op`: `(all params and body by wire name, the
/// body alone, query names)`, or `None` when a required part has none.
pub fn request_example(spec: &Spec, op: &Operation) -> Option<(Value, Option<Value>, Vec<String>)> {
    let request = request(spec, op, Fill::Examples)?;
    Some((request.all, request.body, request.query))
}

/// A request for every operation: the spec's examples where it has them,
/// made-up values of the right type where a required part has none. `None`
/// only when the spec cannot be read.
pub fn request_filled(spec: &Spec, op: &Operation) -> Option<Request> {
    request(spec, op, Fill::Schema)
}

fn request(spec: &Spec, op: &Operation, fill: Fill) -> Option<Request> {
    let mut all = serde_json::Map::new();
    let mut body = None;
    let mut query = Vec::new();
    let mut required_members = Vec::new();
    let mut any = fill == Fill::Schema;
    let mut paths = Vec::new();
    let mut body_names = BTreeSet::new();
    for (param, file) in spec.parameters(&op.file, &op.op).ok()? {
        let name = get_str(&param, "name").unwrap_or("").to_owned();
        let required = get(&param, "required")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        match get_str(&param, "in") {
            Some("body") => {
                let schema = get(&param, "schema")?;
                if let Ok(flat) = spec.flatten(&file, schema) {
                    required_members = flat
                        .required
                        .iter()
                        .filter(|name| flat.properties.iter().any(|(n, _)| n == *name))
                        .cloned()
                        .collect();
                    body_names.extend(flat.properties.into_iter().map(|(name, _)| name));
                }
                let example = match fill {
                    Fill::Examples => spec.example(&file, schema).ok()?,
                    Fill::Schema => Some(made_up(spec, &[(file.clone(), schema.clone())], 0)),
                };
                match example {
                    Some(Value::Object(map)) => {
                        any = true;
                        body = Some(Value::Object(map.clone()));
                        all.extend(map);
                    }
                    _ => return None,
                }
            }
            Some(place @ ("path" | "query")) => {
                let example = get(&param, "example").and_then(scalar_text).or_else(|| {
                    get(&param, "enum")?
                        .as_sequence()?
                        .first()
                        .and_then(scalar_text)
                });
                let example = match (example, fill) {
                    (Some(text), _) => Some(text),
                    (None, Fill::Schema) if required || place == "path" => {
                        Some(made_up_text(&param))
                    }
                    (None, _) => None,
                };
                match example {
                    Some(text) => {
                        any = true;
                        let value = match (place, kind_of(&param)) {
                            (_, Kind::Integer) => text.parse::<i64>().map(Value::from).ok()?,
                            // Path parameters are text unless integers.
                            ("path", _) => Value::String(text),
                            (_, Kind::Number) => Value::from(text.parse::<f64>().ok()?),
                            (_, Kind::Boolean) => Value::Bool(text == "true"),
                            _ => Value::String(text),
                        };
                        // A query parameter that is also a placeholder is
                        // sent in the path (a spec quirk).
                        if place == "query" && op.template.contains(&format!("{{{name}}}")) {
                            if fill == Fill::Schema {
                                paths.push((name, value));
                            }
                            continue;
                        }
                        if place == "query" {
                            query.push(name.clone());
                        }
                        if place == "path" {
                            paths.push((name, value));
                        } else {
                            all.entry(name).or_insert(value);
                        }
                    }
                    None if required || place == "path" => return None,
                    None => {}
                }
            }
            _ => {}
        }
    }
    // A path parameter that a body member also names is read as
    // `<name>@path` (see the naming rule).
    for (name, value) in paths {
        let key = if body_names.contains(&name) {
            format!("{name}@path")
        } else {
            name
        };
        all.insert(key, value);
    }
    // Every placeholder needs a value; one that the body also names and the
    // spec gives no example for takes the body's.
    for segment in &op.segments {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}'))
            && body_names.contains(name)
            && !all.contains_key(&format!("{name}@path"))
            && let Some(value) = all.get(name).cloned()
        {
            all.insert(format!("{name}@path"), value);
        }
    }
    for segment in &op.segments {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}'))
            && name != "empty"
            && !all.contains_key(name)
            && !all.contains_key(&format!("{name}@path"))
        {
            // A placeholder the parameters do not declare (a spec quirk)
            // is a text field named after it.
            match fill {
                Fill::Examples => return None,
                Fill::Schema => {
                    let key = if body_names.contains(name) {
                        format!("{name}@path")
                    } else {
                        name.to_owned()
                    };
                    all.insert(key, Value::String(made_up_text(&Yaml::Null)));
                }
            }
        }
    }
    any.then_some(Request {
        all: Value::Object(all),
        body,
        query,
        required: required_members,
    })
}

/// The example answer of `op`'s success status (not 204), or `None`.
pub fn response_example(spec: &Spec, op: &Operation) -> Option<Value> {
    let responses = get(&op.op, "responses")?.as_mapping()?;
    for (code, answer) in responses {
        let code = scalar_text(code)?;
        if code.starts_with('2') && code != "204" {
            let schema = get(answer, "schema")?;
            return match spec.example(&op.file, schema).ok()? {
                Some(Value::Object(map)) if map.is_empty() => None,
                other => other,
            };
        }
    }
    None
}

/// A value for the schema that `parts` all apply to: the spec's example
/// where it has a complete one; otherwise its required members (and the
/// optional members that have examples), each made up the same way.
pub fn made_up(spec: &Spec, parts: &[(PathBuf, Yaml)], depth: usize) -> Value {
    if let Ok(Some(example)) = spec.example_parts(parts) {
        return example;
    }
    let Some((file, schema)) = parts.last() else {
        return Value::Null;
    };
    let Ok((file, schema)) = spec.deref(file, schema) else {
        return Value::Null;
    };
    match kind_of(&schema) {
        Kind::Object => {
            let mut out = serde_json::Map::new();
            // A schema that refers back to itself stops at an empty object.
            if depth > 12 {
                return Value::Object(out);
            }
            let Ok(flat) = spec.flatten_parts(parts) else {
                return Value::Object(out);
            };
            for (name, prop_parts) in &flat.properties {
                if flat.required.contains(name) {
                    out.insert(name.clone(), made_up(spec, prop_parts, depth + 1));
                } else if let Ok(Some(example)) = spec.example_parts(prop_parts) {
                    out.insert(name.clone(), example);
                }
            }
            Value::Object(out)
        }
        Kind::Array => match get(&schema, "items") {
            Some(items) if depth <= 12 => {
                let item = made_up(spec, &[(file.clone(), items.clone())], depth + 1);
                Value::Array(vec![item])
            }
            _ => Value::Array(Vec::new()),
        },
        Kind::Integer => Value::from(made_up_number(&schema)),
        Kind::Number => Value::from(made_up_number(&schema) as f64),
        Kind::Boolean => Value::Bool(true),
        Kind::String | Kind::File => Value::String(made_up_text(&schema)),
    }
}

/// A whole number within the schema's bounds (1 when it has none).
fn made_up_number(schema: &Yaml) -> i64 {
    let bound = |key| {
        get(schema, key)
            .and_then(scalar_text)
            .and_then(|text| text.parse::<f64>().ok())
    };
    let mut value = 1.0_f64;
    if let Some(min) = bound("minimum") {
        value = value.max(min.ceil());
    }
    if let Some(max) = bound("maximum") {
        value = value.min(max.floor());
    }
    value as i64
}

/// Text for a schema without an example: by its format, of a length
/// within its bounds, a number when its type is one.
fn made_up_text(schema: &Yaml) -> String {
    match kind_of(schema) {
        Kind::Integer | Kind::Number => return made_up_number(schema).to_string(),
        Kind::Boolean => return "true".to_owned(),
        _ => {}
    }
    match get_str(schema, "format").map(str::trim) {
        Some("date-time" | "rfc3339") => return "2024-01-01T10:00:00+08:00".to_owned(),
        Some("date") => return "2024-01-01".to_owned(),
        Some("yyyyMMddHHmmss") => return "20240101100000".to_owned(),
        Some("url" | "MediaUrl") => return "https://example.com/conformance".to_owned(),
        Some("base64") => return "MTIzNDU2Nzg=".to_owned(),
        _ => {}
    }
    let length = |key| {
        get(schema, key)
            .and_then(scalar_text)
            .and_then(|text| text.parse::<usize>().ok())
    };
    let min = length("minLength").unwrap_or(1).max(1);
    let max = length("maxLength").unwrap_or(usize::MAX).max(1);
    let len = 8.clamp(min, max.max(min));
    "1234567890".chars().cycle().take(len).collect()
}
