//! The flat field map of an APIv2 message.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::{DecodeError, XmlError};
use crate::target::BuildError;

/// The fields of an APIv2 message: names and text values, kept sorted by
/// name (the order signatures use).
///
/// A request's fields come from a `Serialize` struct
/// ([`Fields::from_serialize`]); an answer's from its XML
/// ([`Fields::from_xml`]), with every field kept, known to the answer type
/// or not. [`Fields::decode`] turns them into a typed value, and `Fields`
/// is itself such a type (`decode::<Fields>()`), so an operation may answer
/// the raw map.
///
/// `Debug` lists the field names only: values may be personal data.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Fields {
    map: BTreeMap<String, String>,
}

impl Fields {
    /// No fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value`, answering the value it replaces.
    ///
    /// Names are written as XML element names: use the wire names (ASCII
    /// letters, digits, `_`, `-`, `.`, not starting with a digit). See
    /// [`Fields::to_xml`] for what happens to other names.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) -> Option<String> {
        self.map.insert(name.into(), value.into())
    }

    /// The value of `name`, if the field is there.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// Removes `name`, answering its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.map.remove(name)
    }

    /// Whether the field `name` is there (empty or not).
    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// The fields, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.map
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The fields of `value`, which must serialize to a map (a struct with
    /// named fields, or a map). Strings are taken as they are, numbers and
    /// booleans as their text, unit enum variants as their name; `None`
    /// (and `null`) leaves the field out; a nested object or list is written
    /// as its compact JSON text, as APIv2 carries `detail`, `scene_info`
    /// and the like.
    ///
    /// # Errors
    /// [`BuildError::Body`] when `value` cannot be serialized, is not a map,
    /// or has a field name that is not an XML element name.
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Self, BuildError> {
        let object = match serde_json::to_value(value).map_err(BuildError::Body)? {
            Value::Object(object) => object,
            _ => {
                return Err(BuildError::Body(serde::ser::Error::custom(
                    "APIv2 fields must serialize to a map: use a struct with named fields",
                )));
            }
        };
        let mut fields = Fields::new();
        for (name, value) in object {
            if !is_xml_name(&name) {
                return Err(BuildError::Body(serde::ser::Error::custom(format!(
                    "APIv2 field name `{name}` cannot be an XML element name; rename it (#[serde(rename = \"…\")]) to its wire name"
                ))));
            }
            let text = match value {
                Value::Null => continue,
                Value::String(text) => text,
                Value::Bool(flag) => flag.to_string(),
                Value::Number(number) => number.to_string(),
                nested @ (Value::Array(_) | Value::Object(_)) => nested.to_string(),
            };
            fields.insert(name, text);
        }
        Ok(fields)
    }

    /// The XML document: `<xml><name>value</name>…</xml>`, fields in name
    /// order. Values holding `<`, `>`, `&`, `'` or `"` are written as CDATA
    /// (a `]]>` inside split across two sections); values holding a
    /// carriage return are written escaped instead, as CDATA would lose it
    /// to line-end normalisation.
    ///
    /// A name that is not an XML element name (only possible through
    /// [`Fields::insert`]) is written with each offending character
    /// replaced by `_`, so it can never break the document; WeChat Pay will
    /// then refuse the request's signature.
    pub fn to_xml(&self) -> String {
        super::xml::write("xml", self)
    }

    /// Reads an APIv2 XML document: one root element (`<xml>`, or `<root>`
    /// in a decrypted refund notification) whose child elements are the
    /// fields. Text and CDATA are taken verbatim (whitespace kept, entities
    /// resolved); an empty element is an empty value.
    ///
    /// A field that itself holds elements keeps its inner XML as its text
    /// (verbatim, not unescaped). Bodies over 1 MiB, duplicate field names,
    /// text outside the fields, DTDs and anything after the root are
    /// refused.
    ///
    /// # Errors
    /// [`XmlError`], saying what was wrong and where.
    pub fn from_xml(body: &[u8]) -> Result<Self, XmlError> {
        super::xml::read(body)
    }

    /// The fields as a `T` (any `Deserialize` type: a struct whose members
    /// are strings, numbers, booleans, options, unit enums, or JSON-carrying
    /// nested values). Numbers and booleans are parsed from the text when
    /// the member asks for them; an absent field is `None` for an `Option`
    /// member. Fields `T` does not name are ignored (unless `T` denies
    /// unknown fields).
    ///
    /// # Errors
    /// [`DecodeError`], naming the field; never quoting its value.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, DecodeError> {
        super::de::decode(self)
    }

    /// Inserts a parsed field, refusing a second one of the same name.
    pub(crate) fn insert_new(&mut self, name: String, value: String) -> Result<(), String> {
        match self.map.entry(name) {
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(value);
                Ok(())
            }
            std::collections::btree_map::Entry::Occupied(slot) => Err(slot.key().clone()),
        }
    }
}

/// Whether `name` is an XML element name we write as it is.
pub(crate) fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fields")
            .field("names", &self.map.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Fields {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self {
            map: iter
                .into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
        }
    }
}

impl<'a> IntoIterator for &'a Fields {
    type Item = (&'a String, &'a String);
    type IntoIter = std::collections::btree_map::Iter<'a, String, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.map.iter()
    }
}

/// `Fields` is an answer type of its own: every field, as text.
impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;

        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = Fields;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of APIv2 fields")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Fields, A::Error> {
                let mut fields = Fields::new();
                while let Some((name, value)) = access.next_entry::<String, String>()? {
                    fields.insert(name, value);
                }
                Ok(fields)
            }
        }

        deserializer.deserialize_map(FieldsVisitor)
    }
}

/// Serializes as a map of strings (for logs one writes on purpose, or tests).
impl Serialize for Fields {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.map.iter())
    }
}
