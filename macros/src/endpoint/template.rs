//! The path template: `"/v3/marketing/favor/stocks/<stock_id>/start"`.
//!
//! Parsed into literal text and `<name>` placeholders, each placeholder
//! keeping the span of its text inside the string literal so errors about
//! it point there (on compilers that can point inside a literal; elsewhere
//! at the whole literal).

use std::collections::HashSet;
use std::ops::Range;

use proc_macro2::{Literal, Span};
use syn::LitStr;

use super::error_at;

/// One piece of a template.
#[derive(Debug, Clone)]
pub(crate) enum Segment {
    /// Fixed path text, sent as written.
    Literal(String),
    /// A `<name>` placeholder: the field `name`, as one path segment.
    Param {
        /// The placeholder's name (a field name, without `r#`).
        name: String,
        /// Where `<name>` is written.
        span: Span,
    },
}

/// A validated path template.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    /// Literal text and placeholders, in order; neighbouring literal text
    /// is merged into one piece.
    pub segments: Vec<Segment>,
}

/// Characters a template may hold literally: RFC 3986 path characters
/// that need no percent-encoding.
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/".contains(c)
}

/// Whether `name` can be a field name: a letter or `_` first, then
/// letters, digits and `_` (and not `_` alone).
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) if first.is_alphabetic() || first == '_' => {}
        _ => return false,
    }
    name != "_" && chars.all(|c| c.is_alphanumeric() || c == '_')
}

impl Template {
    /// Parses and validates `lit`, reporting every problem at once.
    #[cfg(test)]
    pub(crate) fn parse(lit: &LitStr) -> darling::Result<Self> {
        let mut errors = darling::Error::accumulator();
        let template = Template::parse_into(lit, &mut errors);
        errors.finish_with(template)
    }

    /// Parses `lit`, adding every problem to `errors`. The template returned
    /// holds the well-formed parts, so that placeholders can still be
    /// checked against the fields when other parts are wrong.
    pub(crate) fn parse_into(lit: &LitStr, errors: &mut darling::error::Accumulator) -> Self {
        let value = lit.value();
        let spans = SpanMap::new(lit);
        let mut segments = Vec::new();
        let mut text = String::new();
        let mut seen = HashSet::new();

        if !lit.suffix().is_empty() {
            errors.push(error_at(
                lit.span(),
                "the path template takes no literal suffix",
            ));
        }
        if value.is_empty() {
            errors.push(error_at(
                lit.span(),
                "the path template is empty; it is the request path, such as \"/v3/marketing/favor/stocks\"",
            ));
        } else if !value.starts_with('/') {
            errors.push(error_at(
                spans.char_at(&value, 0),
                "the path template must start with `/`, as in \"/v3/...\"",
            ));
        }

        let chars: Vec<(usize, char)> = value.char_indices().collect();
        let mut i = 0;
        while let Some(&(at, c)) = chars.get(i) {
            i += 1;
            match c {
                '<' => {
                    // The placeholder runs to the next `>`; meeting another
                    // `<` (or the end) first means this one is never closed.
                    let close = chars[i..]
                        .iter()
                        .find(|&&(_, c)| c == '>' || c == '<')
                        .filter(|&&(_, c)| c == '>');
                    let Some(&(close_at, _)) = close else {
                        let until = chars[i..]
                            .iter()
                            .find(|&&(_, c)| c == '<' || c == '/')
                            .map_or(value.len(), |&(pos, _)| pos);
                        let opened = &value[at..until];
                        errors.push(error_at(
                            spans.range(at..until),
                            format!(
                                "unclosed placeholder `{opened}`: close it with `>`, as in `{opened}>`"
                            ),
                        ));
                        continue;
                    };
                    let end = close_at + 1;
                    i = chars.partition_point(|&(pos, _)| pos < end);
                    let name = &value[at + 1..close_at];
                    let span = spans.range(at..end);
                    if !text.is_empty() {
                        segments.push(Segment::Literal(std::mem::take(&mut text)));
                    }
                    if let Some(error) = check_placeholder(&value, at..end, name, &mut seen) {
                        errors.push(error_at(span, error));
                        continue;
                    }
                    segments.push(Segment::Param {
                        name: name.to_owned(),
                        span,
                    });
                }
                '{' => {
                    // `{name}` is how WeChat Pay's documentation writes a
                    // placeholder; say how to write it here.
                    let end = value[at..].find('}').map(|off| at + off + 1);
                    let braced = end.map(|end| &value[at + 1..end - 1]);
                    match (end, braced) {
                        (Some(end), Some(name)) if is_identifier(name) => {
                            errors.push(error_at(
                                spans.range(at..end),
                                format!("placeholders are written `<{name}>`, not `{{{name}}}`"),
                            ));
                            i = chars.partition_point(|&(pos, _)| pos < end);
                        }
                        _ => errors.push(not_allowed(&spans, &value, at, c)),
                    }
                }
                '>' => errors.push(error_at(
                    spans.char_at(&value, at),
                    "`>` without a matching `<`: placeholders are written `<field_name>`",
                )),
                '?' => errors.push(error_at(
                    spans.char_at(&value, at),
                    "the path template cannot hold a query string: fields marked \
                     `#[wxpay(query)]` (and, for GET and DELETE, all fields not in the path) \
                     are sent in the query",
                )),
                '#' => errors.push(error_at(
                    spans.char_at(&value, at),
                    "the path template cannot hold a fragment (`#`): requests are sent without one",
                )),
                '/' if text.ends_with('/') => errors.push(error_at(
                    spans.char_at(&value, at),
                    "empty path segment (`//`) in the path template",
                )),
                c if is_path_char(c) => text.push(c),
                c => errors.push(not_allowed(&spans, &value, at, c)),
            }
        }
        if !text.is_empty() {
            segments.push(Segment::Literal(text));
        }
        Template { segments }
    }

    /// The template with `{name}` placeholders, for `PATH_TEMPLATE`.
    pub(crate) fn braced(&self) -> String {
        self.segments
            .iter()
            .map(|segment| match segment {
                Segment::Literal(text) => text.clone(),
                Segment::Param { name, .. } => format!("{{{name}}}"),
            })
            .collect()
    }

    /// The placeholders, in order.
    pub(crate) fn params(&self) -> impl Iterator<Item = (&str, Span)> {
        self.segments.iter().filter_map(|segment| match segment {
            Segment::Param { name, span } => Some((name.as_str(), *span)),
            Segment::Literal(_) => None,
        })
    }
}

/// What is wrong with the placeholder `<name>` written at `range`, if anything.
fn check_placeholder(
    value: &str,
    range: Range<usize>,
    name: &str,
    seen: &mut HashSet<String>,
) -> Option<String> {
    if name.is_empty() {
        return Some(
            "empty placeholder `<>`: write the field's name inside, as in `<stock_id>`".into(),
        );
    }
    if !is_identifier(name) {
        return Some(format!(
            "`<{name}>` is not a placeholder: a placeholder is a field name \
             (letters, digits and `_`, not starting with a digit)"
        ));
    }
    let whole_segment = value[..range.start].ends_with('/')
        && matches!(value[range.end..].chars().next(), None | Some('/'));
    if !whole_segment {
        return Some(format!(
            "placeholder `<{name}>` must be a whole path segment, with `/` or the end of the \
             template on both sides: its value is encoded as exactly one segment"
        ));
    }
    if !seen.insert(name.to_owned()) {
        return Some(format!(
            "placeholder `<{name}>` appears more than once in the path template; \
             each field fills exactly one segment"
        ));
    }
    None
}

fn not_allowed(spans: &SpanMap, value: &str, at: usize, c: char) -> darling::Error {
    let what = if c.is_whitespace() {
        "whitespace".to_owned()
    } else {
        format!("`{c}`")
    };
    error_at(
        spans.char_at(value, at),
        format!(
            "{what} cannot appear in a path template: it needs percent-encoding; the template \
             holds plain path text (letters, digits, `/` and `-._~!$&'()*+,;=:@`) and `<placeholders>`"
        ),
    )
}

/// Maps byte ranges of the literal's value to spans inside the literal.
struct SpanMap {
    token: Literal,
    whole: Span,
    /// How many source bytes precede the value (`"` or `r#"`), when value
    /// bytes and source bytes line up; `None` when escapes make them differ.
    offset: Option<usize>,
}

impl SpanMap {
    fn new(lit: &LitStr) -> Self {
        let token = lit.token();
        let source = token.to_string();
        let offset = if let Some(raw) = source.strip_prefix('r') {
            Some(2 + raw.chars().take_while(|&c| c == '#').count())
        } else if source.starts_with('"') && !source.contains('\\') {
            Some(1)
        } else {
            None
        };
        SpanMap {
            token,
            whole: lit.span(),
            offset,
        }
    }

    /// The span of `range` (in value bytes), or of the whole literal where
    /// the compiler cannot point inside it.
    fn range(&self, range: Range<usize>) -> Span {
        self.offset
            .and_then(|offset| self.token.subspan(range.start + offset..range.end + offset))
            .unwrap_or(self.whole)
    }

    /// The span of the character starting at byte `at`.
    fn char_at(&self, value: &str, at: usize) -> Span {
        let len = value[at..].chars().next().map_or(1, char::len_utf8);
        self.range(at..at + len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(template: &str) -> darling::Result<Template> {
        Template::parse(&LitStr::new(template, Span::call_site()))
    }

    fn parsed(template: &str) -> Vec<String> {
        match parse(template) {
            Ok(t) => t
                .segments
                .iter()
                .map(|s| match s {
                    Segment::Literal(text) => text.clone(),
                    Segment::Param { name, .. } => format!("<{name}>"),
                })
                .collect(),
            Err(error) => panic!("{template}: {error}"),
        }
    }

    fn errors(template: &str) -> Vec<String> {
        match parse(template) {
            Ok(_) => panic!("{template} was accepted"),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn valid_templates() {
        assert_eq!(
            parsed("/v3/marketing/favor/stocks/<stock_id>/start"),
            ["/v3/marketing/favor/stocks/", "<stock_id>", "/start"]
        );
        assert_eq!(parsed("/v3/a/<x>/<y>"), ["/v3/a/", "<x>", "/", "<y>"]);
        assert_eq!(parsed("/v3/<type>"), ["/v3/", "<type>"]);
        assert_eq!(parsed("/"), ["/"]);
        assert_eq!(parsed("/v3/a:b@c~d;e=f"), ["/v3/a:b@c~d;e=f"]);
        let t = parse("/v3/stocks/<stock_id>/start").unwrap();
        assert_eq!(t.braced(), "/v3/stocks/{stock_id}/start");
        assert_eq!(t.params().map(|(n, _)| n).collect::<Vec<_>>(), ["stock_id"]);
    }

    #[test]
    fn malformed_templates() {
        let cases: &[(&str, &str)] = &[
            (
                "/v3/a/<id",
                "unclosed placeholder `<id`: close it with `>`, as in `<id>`",
            ),
            ("/v3/a/<id/<b>", "unclosed placeholder `<id`"),
            ("/v3/a/<>", "empty placeholder"),
            ("/v3/a/<1a>", "`<1a>` is not a placeholder"),
            ("/v3/a/<a-b>", "`<a-b>` is not a placeholder"),
            ("/v3/a/<_>", "`<_>` is not a placeholder"),
            ("/v3/a?b=1", "cannot hold a query string"),
            ("/v3/a#top", "fragment"),
            ("v3/a", "must start with `/`"),
            ("", "is empty"),
            ("/v3/a>", "`>` without a matching `<`"),
            ("/v3/<a>/<a>", "appears more than once"),
            ("/v3/x<a>", "whole path segment"),
            ("/v3/<a>.json", "whole path segment"),
            ("/v3/<a><b>", "whole path segment"),
            ("/v3/{stock_id}", "written `<stock_id>`, not `{stock_id}`"),
            ("/v3/a b", "whitespace cannot appear"),
            ("/v3/批次", "`批` cannot appear"),
            ("/v3/%2F", "`%` cannot appear"),
            ("/v3//a", "empty path segment"),
        ];
        for (template, expected) in cases {
            let errors = errors(template);
            assert!(
                errors.iter().any(|e| e.contains(expected)),
                "{template}: expected {expected:?} in {errors:?}"
            );
        }
    }

    #[test]
    fn every_problem_is_reported() {
        let errors = errors("v3/<1>/<a>/<a>?x");
        assert_eq!(errors.len(), 4, "{errors:?}");
    }
}
