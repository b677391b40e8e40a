//! Making up an answer that fits a response schema: every required field,
//! the optional ones the spec gives an example (or enum) for, request
//! values echoed by name, fresh ids, the current time.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};

use super::check::fits;
use super::{Format, Node, Table};
use crate::clock;

/// Counts the ids made up, so that no two answers share one.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// What one answer is made of.
struct Context<'a> {
    table: &'a Table,
    /// Request values by name (path, query, body top level).
    echo: &'a Map<String, Value>,
    /// Now, RFC 3339 in China Standard Time.
    now: String,
}

/// An answer for the response schema at `schema`.
pub(crate) fn synthesize(table: &Table, schema: usize, echo: &Map<String, Value>) -> Value {
    let context = Context {
        table,
        echo,
        now: clock::format_rfc3339(clock::unix_now()),
    };
    context.make(table.root(schema), None)
}

/// Some bytes for a download of `content_type`.
pub(super) fn file(content_type: &str, path: &str) -> Vec<u8> {
    if content_type.contains("pdf") {
        format!("%PDF-1.4\n% wxpay-sandbox: a stand-in file for {path}\n%%EOF\n").into_bytes()
    } else {
        format!("wxpay-sandbox: a stand-in file for {path}\n").into_bytes()
    }
}

/// Whether a field holds an identifier that should not repeat.
fn is_id(name: &str) -> bool {
    name == "id" || name.ends_with("_id") || name.ends_with("_no")
}

impl Context<'_> {
    /// A value of `node`; `name` is the field's (none for array items).
    fn make(&self, (index, node): (usize, &Node), name: Option<&str>) -> Value {
        if let Some(value) = name.and_then(|name| self.echo.get(name))
            && fits(self.table, (index, node), value)
        {
            return value.clone();
        }
        match node {
            Node::Object {
                properties,
                required,
            } => {
                let mut object = Map::new();
                for (field, child) in properties {
                    let child = self.table.child(*child, index);
                    let wanted = required.contains(field)
                        || self.echo.contains_key(field)
                        || self.table.exemplified.get(child.0) == Some(&true);
                    if wanted {
                        object.insert(field.clone(), self.make(child, Some(field)));
                    }
                }
                Value::Object(object)
            }
            Node::Array { items, .. } => {
                Value::Array(vec![self.make(self.table.child(*items, index), None)])
            }
            Node::String {
                allowed,
                min_length,
                max_length,
                format,
                example,
            } => {
                let text = match (allowed, format) {
                    (Some(allowed), _) => example
                        .as_ref()
                        .filter(|e| allowed.contains(e))
                        .or(allowed.first())
                        .cloned()
                        .unwrap_or_default(),
                    (None, Some(Format::DateTime)) => self.now.clone(),
                    (None, Some(Format::Date)) => self.now.chars().take(10).collect(),
                    _ if name.is_some_and(is_id) => fresh_id(example.as_deref()),
                    (None, Some(Format::Url)) => format!(
                        "https://wxpay-sandbox.invalid/files/{}",
                        NEXT_ID.fetch_add(1, Ordering::Relaxed)
                    ),
                    _ => example
                        .clone()
                        .unwrap_or_else(|| name.unwrap_or("sandbox").to_owned()),
                };
                fit_length(text, *min_length, *max_length)
            }
            Node::Integer {
                allowed,
                minimum,
                maximum,
                example,
            } => {
                let number = match allowed {
                    Some(allowed) => example
                        .filter(|e| allowed.contains(e))
                        .or(allowed.first().copied())
                        .unwrap_or(0),
                    None => {
                        let number = example.or(*minimum).unwrap_or(1);
                        let number = minimum.map_or(number, |min| number.max(min));
                        maximum.map_or(number, |max| number.min(max))
                    }
                };
                Value::from(number)
            }
            Node::Number { example } => example.clone().map_or(Value::from(0), Value::Number),
            Node::Boolean { example } => Value::Bool(example.unwrap_or(false)),
            Node::Any => Value::Object(Map::new()),
            Node::File => Value::from(""),
        }
    }
}

/// A new id in the example's shape: its last run of digits replaced by a
/// counter (at most its last 8 digits, zero-padded); without an example,
/// `1` and nine digits.
fn fresh_id(example: Option<&str>) -> String {
    let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let Some(example) = example else {
        return format!("1{n:09}");
    };
    let Some(end) = example.rfind(|c: char| c.is_ascii_digit()).map(|at| at + 1) else {
        return format!("{example}{n}");
    };
    let start = example[..end]
        .char_indices()
        .rev()
        .find(|(_, c)| !c.is_ascii_digit())
        .map_or(0, |(at, c)| at + c.len_utf8());
    let width = (end - start).min(8);
    let keep = end - width;
    format!("{}{n:0width$}{}", &example[..keep], &example[end..])
}

/// Truncates `text` to `max` characters, pads it to `min` with `0`s.
fn fit_length(text: String, min: Option<usize>, max: Option<usize>) -> Value {
    let mut text = match max {
        Some(max) if text.chars().count() > max => text.chars().take(max).collect(),
        _ => text,
    };
    if let Some(min) = min {
        while text.chars().count() < min {
            text.push('0');
        }
    }
    Value::from(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_the_example_shape_and_never_repeat() {
        let a = fresh_id(Some("4200001999202407041234567890"));
        let b = fresh_id(Some("4200001999202407041234567890"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 28);
        assert!(a.starts_with("42000019992024070412"));
        let c = fresh_id(Some("ABC12"));
        assert!(c.starts_with("ABC"), "{c}");
        let d = fresh_id(Some("微信123"));
        assert!(d.starts_with("微信"), "{d}");
        assert_ne!(fresh_id(Some("微信")), fresh_id(Some("微信")));
        assert!(fresh_id(None).starts_with('1'));
    }

    #[test]
    fn lengths_are_respected() {
        assert_eq!(fit_length("abcdef".into(), None, Some(3)), "abc");
        assert_eq!(fit_length("a".into(), Some(3), None), "a00");
    }
}
