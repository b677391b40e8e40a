//! Writing and reading the flat XML documents of APIv2.

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;

use super::Fields;
use super::fields::is_xml_name;
use crate::v2_error::XmlError;

/// The largest APIv2 document read, in bytes.
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// Writes `fields` under the root `root`.
pub(crate) fn write(root: &str, fields: &Fields) -> String {
    let mut out = String::with_capacity(64 + fields.len() * 32);
    out.push('<');
    out.push_str(root);
    out.push('>');
    for (name, value) in fields.iter() {
        let name = element_name(name);
        out.push('<');
        out.push_str(&name);
        out.push('>');
        push_value(&mut out, value);
        out.push_str("</");
        out.push_str(&name);
        out.push('>');
    }
    out.push_str("</");
    out.push_str(root);
    out.push('>');
    out
}

/// `name`, or a copy with every character that cannot stand in an element
/// name replaced by `_`.
fn element_name(name: &str) -> std::borrow::Cow<'_, str> {
    if is_xml_name(name) {
        return name.into();
    }
    let mut fixed: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !fixed.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        fixed.insert(0, '_');
    }
    fixed.into()
}

/// Appends `value` as element content: plain, CDATA, or escaped.
pub(crate) fn push_value(out: &mut String, value: &str) {
    if value.contains('\r') {
        // Line-end normalisation would turn a raw CR (in text or CDATA)
        // into LF; a character reference survives it.
        for c in value.chars() {
            match c {
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '&' => out.push_str("&amp;"),
                '\r' => out.push_str("&#13;"),
                other => out.push(other),
            }
        }
    } else if value.contains(['<', '>', '&', '\'', '"']) {
        out.push_str("<![CDATA[");
        out.push_str(&value.replace("]]>", "]]]]><![CDATA[>"));
        out.push_str("]]>");
    } else {
        out.push_str(value);
    }
}

/// Where the reader stands.
enum State {
    /// Before the root element.
    Prolog,
    /// Inside the root, between fields.
    Root,
    /// Inside the field `name`, `depth` elements deep (0: its own content).
    Field {
        name: String,
        value: String,
        /// Byte offset where its content starts.
        start: usize,
        depth: usize,
        /// Whether it holds elements (then its inner XML is its value).
        nested: bool,
    },
    /// After the root.
    Done,
}

/// Reads a flat APIv2 document.
pub(crate) fn read(body: &[u8]) -> Result<Fields, XmlError> {
    if body.len() > MAX_BODY {
        return Err(XmlError::TooLarge {
            len: body.len(),
            max: MAX_BODY,
        });
    }
    let source = std::str::from_utf8(body).map_err(|_| XmlError::NotUtf8)?;
    let mut reader = Reader::from_str(source);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    config.expand_empty_elements = false;

    let mut fields = Fields::new();
    let mut state = State::Prolog;
    loop {
        let mut field_ends = false;
        let before = reader.buffer_position();
        let event = reader.read_event().map_err(|error| XmlError::Syntax {
            position: reader.error_position(),
            reason: error.to_string(),
        })?;
        let shape = |reason: &'static str| XmlError::Shape {
            position: before,
            reason,
        };
        match (&mut state, event) {
            (_, Event::Eof) => {
                return match state {
                    State::Done => Ok(fields),
                    State::Prolog => Err(XmlError::Empty),
                    _ => Err(shape("the document ends before its root element is closed")),
                };
            }
            (_, Event::DocType(_)) => return Err(shape("a DTD is not allowed")),
            (
                State::Field {
                    depth: 0, value, ..
                },
                Event::Text(text),
            ) => value.push_str(&text.xml10_content()),
            (
                State::Field {
                    depth: 0, value, ..
                },
                Event::CData(data),
            ) => value.push_str(&data.xml10_content()),
            (
                State::Field {
                    depth: 0, value, ..
                },
                Event::GeneralRef(reference),
            ) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => match resolve_predefined_entity(&reference) {
                        Some(text) => text.to_owned(),
                        None => return Err(shape("an entity other than the five XML ones")),
                    },
                    Err(error) => {
                        return Err(XmlError::Syntax {
                            position: before,
                            reason: error.to_string(),
                        });
                    }
                };
                value.push_str(&resolved);
            }
            (_, Event::Comment(_) | Event::PI(_) | Event::Decl(_)) => {}
            (State::Prolog | State::Root | State::Done, Event::Text(text))
                if text.trim().is_empty() => {}
            (State::Prolog | State::Done | State::Root, Event::Text(_) | Event::CData(_))
            | (State::Prolog | State::Done | State::Root, Event::GeneralRef(_)) => {
                return Err(shape("text outside the fields"));
            }
            (State::Prolog, Event::Start(_)) => state = State::Root,
            (State::Prolog, Event::Empty(_)) => state = State::Done,
            (State::Done, Event::Start(_) | Event::Empty(_)) => {
                return Err(shape("a second root element"));
            }
            (State::Root, Event::Start(start)) => {
                if !is_xml_name(start.name().into_inner()) {
                    return Err(shape(NOT_A_FIELD_NAME));
                }
                let name = start.name().into_inner().to_owned();
                state = State::Field {
                    name,
                    value: String::new(),
                    start: position(&reader),
                    depth: 0,
                    nested: false,
                };
            }
            (State::Root, Event::Empty(start)) => {
                if !is_xml_name(start.name().into_inner()) {
                    return Err(shape(NOT_A_FIELD_NAME));
                }
                let name = start.name().into_inner().to_owned();
                fields
                    .insert_new(name, String::new())
                    .map_err(|name| XmlError::DuplicateField { name })?;
            }
            (State::Root, Event::End(_)) => state = State::Done,
            (State::Prolog | State::Done, Event::End(_)) => {
                return Err(shape("a closing tag without its opening tag"));
            }
            (State::Field { depth, nested, .. }, Event::Start(_)) => {
                *depth += 1;
                *nested = true;
            }
            (State::Field { nested, .. }, Event::Empty(_)) => *nested = true,
            (State::Field { depth, .. }, Event::End(_)) if *depth > 0 => *depth -= 1,
            (State::Field { .. }, Event::Text(_) | Event::CData(_) | Event::GeneralRef(_)) => {
                // Inside a nested element: kept verbatim with the inner XML.
            }
            (State::Field { .. }, Event::End(_)) => field_ends = true,
        }
        if field_ends
            && let State::Field {
                name,
                value,
                start,
                nested,
                ..
            } = std::mem::replace(&mut state, State::Root)
        {
            let value = if nested {
                let end = usize::try_from(before).unwrap_or(source.len());
                source.get(start..end).unwrap_or_default().to_owned()
            } else {
                value
            };
            fields
                .insert_new(name, value)
                .map_err(|name| XmlError::DuplicateField { name })?;
        }
    }
}

/// Why a field whose element name is not a plain XML name is refused:
/// such a name could not be written back unchanged (the writer replaces
/// what cannot stand in a name), so the signature over it would not hold.
const NOT_A_FIELD_NAME: &str = "a field name that is not a plain XML name (a letter or `_`, then letters, digits, `_`, `-`, `.`)";

fn position(reader: &Reader<&[u8]>) -> usize {
    usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX)
}
