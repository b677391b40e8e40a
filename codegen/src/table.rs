//! The sandbox's operation table: every operation of the spec with what a
//! mock server needs to check a request and make up an answer, `$ref`s
//! resolved and `allOf`s merged, written as one compact JSON file
//! (`sandbox/src/spec/operations.json`).
//!
//! Schemas are interned: every distinct schema node is stored once in
//! `schemas` and referred to by its index, so the types the spec shares
//! between operations cost their size once. Descriptions are dropped;
//! leaf examples are kept (the sandbox answers with them).
//!
//! The shape (the sandbox's `spec` module reads it):
//!
//! ```text
//! {"schemas": [node, …],
//!  "operations": [{"method", "path", "params": [{"name", "in", "required", "schema"}],
//!                  "body"?, "multipart", "status", "answer", "content_type"?, "response"?}]}
//! node: {"type": "object", "properties": [[name, index], …], "required": [name, …]}
//!     | {"type": "array", "items": index, "max_items"?}
//!     | {"type": "string", "enum"?, "min_length"?, "max_length"?, "format"?, "example"?}
//!     | {"type": "integer", "enum"?, "minimum"?, "maximum"?, "example"?}
//!     | {"type": "number" | "boolean", "example"?} | {"type": "any"} | {"type": "file"}
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value as J, json};
use serde_yaml::Value;

use crate::spec::{Kind, Spec, get, get_str, is_required, kind_of, scalar_text, to_json};

/// Where the sandbox keeps the table, relative to the workspace.
pub const TABLE_PATH: &str = "sandbox/src/spec/operations.json";

/// Nesting deeper than this is answered as "anything" (guards against
/// self-referencing schemas).
const MAX_DEPTH: usize = 24;

/// Interned schema nodes.
#[derive(Default)]
struct Pool {
    nodes: Vec<J>,
    index: HashMap<String, usize>,
}

impl Pool {
    fn intern(&mut self, node: J) -> usize {
        let key = node.to_string();
        if let Some(&at) = self.index.get(&key) {
            return at;
        }
        let at = self.nodes.len();
        self.nodes.push(node);
        self.index.insert(key, at);
        at
    }
}

struct Builder<'a> {
    spec: &'a Spec,
    pool: Pool,
}

/// Builds the table's JSON text (one operation per line, so that a diff
/// shows which operations changed).
pub fn table(spec: &Spec) -> Result<String, String> {
    let mut builder = Builder {
        spec,
        pool: Pool::default(),
    };
    let mut operations = Vec::new();
    for op in spec.operations()? {
        let file = op.file.as_path();
        let takes_body = wxpay_protocol::body_allowed(&op.method);
        let path_names: Vec<&str> = op
            .segments
            .iter()
            .filter(|s| *s != "{empty}")
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        let mut params = Vec::new();
        let mut seen = Vec::new();
        let mut body = None;
        let mut multipart = false;
        for (param, param_file) in spec.parameters(file, &op.op)? {
            let name = get_str(&param, "name").unwrap_or("").to_owned();
            let place = get_str(&param, "in").unwrap_or("");
            match place {
                "path" | "query" => {
                    // The client sends a parameter that is both a path and
                    // a query parameter in the path only.
                    if place == "query" && path_names.contains(&name.as_str()) {
                        continue;
                    }
                    // A path parameter the template has no place for is
                    // never sent.
                    if place == "path" && !path_names.contains(&name.as_str()) {
                        continue;
                    }
                    if seen.contains(&(place.to_owned(), name.clone())) {
                        continue;
                    }
                    seen.push((place.to_owned(), name.clone()));
                    let required = place == "path" || is_required(&param);
                    let schema = builder.node(&param_file, &param, 0)?;
                    params.push(json!({
                        "name": name,
                        "in": place,
                        "required": required,
                        "schema": schema,
                    }));
                }
                "body" if takes_body => {
                    if let Some(schema) = get(&param, "schema") {
                        body = Some(builder.node(&param_file, schema, 0)?);
                    }
                }
                "formData" => multipart = true,
                _ => {}
            }
        }
        // Path parameters the spec forgot to declare are still required.
        for name in &path_names {
            if !seen.contains(&("path".to_owned(), (*name).to_owned())) {
                let schema = builder.pool.intern(json!({"type": "string"}));
                params
                    .push(json!({"name": name, "in": "path", "required": true, "schema": schema}));
            }
        }

        let mut entry = Map::new();
        entry.insert("method".into(), J::from(op.method.clone()));
        entry.insert("path".into(), J::from(op.template.clone()));
        entry.insert("params".into(), J::Array(params));
        if let Some(body) = body {
            entry.insert("body".into(), J::from(body));
        }
        entry.insert("multipart".into(), J::Bool(multipart));
        let (status, answer) = builder.answer(&op.op, file)?;
        entry.insert("status".into(), J::from(status));
        match answer {
            Answer::Json(schema) => {
                entry.insert("answer".into(), J::from("json"));
                entry.insert("response".into(), J::from(schema));
            }
            Answer::Empty => {
                entry.insert("answer".into(), J::from("empty"));
            }
            Answer::File(content_type) => {
                entry.insert("answer".into(), J::from("file"));
                entry.insert("content_type".into(), J::from(content_type));
            }
        }
        operations.push(J::Object(entry));
    }

    let mut out = String::from("{\"schemas\":[\n");
    for (at, node) in builder.pool.nodes.iter().enumerate() {
        if at > 0 {
            out.push_str(",\n");
        }
        out.push_str(&node.to_string());
    }
    out.push_str("\n],\n\"operations\":[\n");
    for (at, op) in operations.iter().enumerate() {
        if at > 0 {
            out.push_str(",\n");
        }
        out.push_str(&op.to_string());
    }
    out.push_str("\n]}\n");
    Ok(out)
}

/// What a successful call answers.
enum Answer {
    /// JSON of this schema.
    Json(usize),
    /// Nothing.
    Empty,
    /// A file of this content type.
    File(String),
}

impl Builder<'_> {
    /// The success status and answer, decided as the catalogue's response
    /// types are: the first 2xx other than 204 with a schema that is not
    /// an untyped empty object is JSON; otherwise the answer is empty.
    fn answer(&mut self, op: &Value, file: &Path) -> Result<(u16, Answer), String> {
        let produces: Vec<String> = get(op, "produces")
            .and_then(Value::as_sequence)
            .map(|s| s.iter().filter_map(scalar_text).collect())
            .unwrap_or_default();
        let codes: Vec<(u16, Option<Value>)> = get(op, "responses")
            .and_then(Value::as_mapping)
            .map(|responses| {
                responses
                    .iter()
                    .filter_map(|(code, answer)| {
                        let code = scalar_text(code)?.parse::<u16>().ok()?;
                        Some((code, get(answer, "schema").cloned()))
                    })
                    .filter(|(code, _)| (200..300).contains(code))
                    .collect()
            })
            .unwrap_or_default();
        let first = codes.first().map_or(200, |(code, _)| *code);
        if !produces.is_empty() && !produces.iter().any(|p| p.contains("json")) {
            return Ok((first, Answer::File(produces[0].clone())));
        }
        for (code, schema) in &codes {
            if *code == 204 {
                continue;
            }
            let Some(schema) = schema else {
                return Ok((*code, Answer::Empty));
            };
            let (schema_file, resolved) = self.spec.deref(file, schema)?;
            let empty = kind_of(&resolved) == Kind::Object
                && self
                    .spec
                    .flatten(&schema_file, &resolved)?
                    .properties
                    .is_empty()
                && get(&resolved, "type").is_none();
            if empty {
                return Ok((*code, Answer::Empty));
            }
            return Ok((*code, Answer::Json(self.node(file, schema, 0)?)));
        }
        let status = if codes.iter().any(|(code, _)| *code == 204) {
            204
        } else {
            first
        };
        Ok((status, Answer::Empty))
    }

    /// The node of `schema`, written in `file`.
    fn node(&mut self, file: &Path, schema: &Value, depth: usize) -> Result<usize, String> {
        self.node_parts(&[(file.to_path_buf(), schema.clone())], depth)
    }

    /// The node of a property that one or several (`allOf`) declarations
    /// describe.
    fn node_parts(&mut self, parts: &[(PathBuf, Value)], depth: usize) -> Result<usize, String> {
        let Some((last_file, last)) = parts.last() else {
            return Ok(self.pool.intern(json!({"type": "any"})));
        };
        if depth > MAX_DEPTH {
            return Ok(self.pool.intern(json!({"type": "any"})));
        }
        let (file, schema) = self.spec.deref(last_file, last)?;
        let kind = kind_of(&schema);
        let node = match kind {
            Kind::Object => {
                let flat = if parts.len() == 1 {
                    self.spec.flatten(&file, &schema)?
                } else {
                    self.spec.flatten_parts(parts)?
                };
                if flat.properties.is_empty() {
                    json!({"type": "any"})
                } else {
                    let mut properties = Vec::new();
                    for (name, prop_parts) in &flat.properties {
                        let at = self.node_parts(prop_parts, depth + 1)?;
                        properties.push(json!([name, at]));
                    }
                    let mut required: Vec<String> = Vec::new();
                    for name in &flat.required {
                        if flat.properties.iter().any(|(n, _)| n == name)
                            && !required.contains(name)
                        {
                            required.push(name.clone());
                        }
                    }
                    json!({"type": "object", "properties": properties, "required": required})
                }
            }
            Kind::Array => {
                let items = match get(&schema, "items") {
                    Some(items) => self.node(&file, items, depth + 1)?,
                    None => self.pool.intern(json!({"type": "any"})),
                };
                let mut node = json!({"type": "array", "items": items});
                if let Some(max) = get(&schema, "maxItems").and_then(Value::as_u64) {
                    node["max_items"] = J::from(max);
                }
                node
            }
            Kind::String => string_node(&schema),
            Kind::Integer => integer_node(&schema),
            Kind::Number => scalar_node("number", &schema),
            Kind::Boolean => scalar_node("boolean", &schema),
            Kind::File => json!({"type": "file"}),
        };
        Ok(self.pool.intern(node))
    }
}

/// A string's constraints and example. `format: base64` marks a field the
/// client encrypts: its length and enum say nothing about the ciphertext.
fn string_node(schema: &Value) -> J {
    let mut node = Map::new();
    node.insert("type".into(), J::from("string"));
    let format = get_str(schema, "format").map(str::trim);
    let encrypted = format == Some("base64");
    let example = get(schema, "example").and_then(scalar_text);
    if encrypted {
        node.insert("format".into(), J::from("encrypted"));
    } else {
        if let Some(values) = get(schema, "enum").and_then(Value::as_sequence) {
            let values: Vec<J> = values.iter().filter_map(scalar_text).map(J::from).collect();
            if !values.is_empty() {
                node.insert("enum".into(), J::Array(values));
            }
        }
        for (key, name) in [("minLength", "min_length"), ("maxLength", "max_length")] {
            if let Some(n) = get(schema, key).and_then(Value::as_u64) {
                node.insert(name.into(), J::from(n));
            }
        }
        match format {
            Some("rfc3339" | "date-time") => {
                node.insert("format".into(), J::from("date-time"));
            }
            Some("date") => {
                node.insert("format".into(), J::from("date"));
            }
            Some("url" | "MediaUrl") => {
                node.insert("format".into(), J::from("url"));
            }
            _ => {}
        }
    }
    if let Some(example) = example {
        node.insert("example".into(), J::from(example));
    }
    J::Object(node)
}

fn integer_node(schema: &Value) -> J {
    let mut node = Map::new();
    node.insert("type".into(), J::from("integer"));
    if let Some(values) = get(schema, "enum").and_then(Value::as_sequence) {
        let values: Vec<J> = values
            .iter()
            .filter_map(scalar_text)
            .filter_map(|v| v.trim().parse::<i64>().ok())
            .map(J::from)
            .collect();
        if !values.is_empty() {
            node.insert("enum".into(), J::Array(values));
        }
    }
    for key in ["minimum", "maximum"] {
        if let Some(n) = get(schema, key)
            .and_then(scalar_text)
            .and_then(|n| n.trim().parse::<i64>().ok())
        {
            node.insert(key.into(), J::from(n));
        }
    }
    if let Some(example) = get(schema, "example")
        .and_then(scalar_text)
        .and_then(|n| n.trim().parse::<i64>().ok())
    {
        node.insert("example".into(), J::from(example));
    }
    J::Object(node)
}

fn scalar_node(kind: &str, schema: &Value) -> J {
    let mut node = json!({"type": kind});
    let example = get(schema, "example").map(to_json);
    let example = match (kind, example) {
        ("number", Some(J::Number(n))) => Some(J::Number(n)),
        ("number", Some(J::String(s))) => s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(J::Number),
        ("boolean", Some(J::Bool(b))) => Some(J::Bool(b)),
        ("boolean", Some(J::String(s))) if s == "true" || s == "false" => {
            Some(J::Bool(s == "true"))
        }
        _ => None,
    };
    if let Some(example) = example {
        node["example"] = example;
    }
    node
}
