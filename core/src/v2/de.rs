//! Decoding [`Fields`] into a typed value: a serde deserializer over the
//! text map that parses numbers and booleans when the type asks for them.

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};

use super::Fields;
use crate::v2_error::DecodeError;

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DecodeError {
            field: None,
            reason: msg.to_string(),
        }
    }

    fn invalid_type(unexpected: de::Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        de::Error::custom(format_args!(
            "found {}, expected {expected}",
            kind(&unexpected)
        ))
    }

    fn invalid_value(unexpected: de::Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        de::Error::custom(format_args!(
            "unexpected {}, expected {expected}",
            kind(&unexpected)
        ))
    }

    fn unknown_variant(_variant: &str, expected: &'static [&'static str]) -> Self {
        de::Error::custom(format_args!(
            "a value that is none of the known ones ({})",
            expected.join(", ")
        ))
    }
}

/// What kind of value was found, without the value.
fn kind(unexpected: &de::Unexpected<'_>) -> &'static str {
    match unexpected {
        de::Unexpected::Bool(_) => "a boolean",
        de::Unexpected::Unsigned(_) | de::Unexpected::Signed(_) => "an integer",
        de::Unexpected::Float(_) => "a number",
        de::Unexpected::Char(_) => "a character",
        de::Unexpected::Str(_) => "text",
        de::Unexpected::Bytes(_) => "bytes",
        de::Unexpected::Unit => "nothing",
        de::Unexpected::Option => "an optional value",
        de::Unexpected::Seq => "a list",
        de::Unexpected::Map => "a map",
        _ => "another kind of value",
    }
}

pub(super) fn decode<T: DeserializeOwned>(fields: &Fields) -> Result<T, DecodeError> {
    T::deserialize(FieldsDeserializer { fields })
}

/// The whole message: a map.
struct FieldsDeserializer<'a> {
    fields: &'a Fields,
}

impl<'de> de::Deserializer<'de> for FieldsDeserializer<'_> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_map(Entries {
            iter: Box::new(self.fields.iter()),
            current: None,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct Entries<'a> {
    iter: Box<dyn Iterator<Item = (&'a str, &'a str)> + 'a>,
    current: Option<(&'a str, &'a str)>,
}

impl<'de> MapAccess<'de> for Entries<'_> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        let Some((name, value)) = self.iter.next() else {
            return Ok(None);
        };
        self.current = Some((name, value));
        // The key deserializer borrows only for the call: hand it a copy.
        let name = name.to_owned();
        seed.deserialize(IntoDeserializer::<DecodeError>::into_deserializer(name))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let Some((name, value)) = self.current.take() else {
            return Err(de::Error::custom("a value without its field name"));
        };
        seed.deserialize(Text(value)).map_err(|mut error| {
            if error.field.is_none() {
                error.field = Some(name.to_owned());
            }
            error
        })
    }
}

/// One field's text.
struct Text<'a>(&'a str);

impl Text<'_> {
    fn parse<T: std::str::FromStr>(&self, expected: &'static str) -> Result<T, DecodeError> {
        self.0
            .trim()
            .parse()
            .map_err(|_| de::Error::custom(format_args!("the text is not {expected}")))
    }

    fn json<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        // Read from a byte reader so the visitor's lifetime is free.
        let mut json = serde_json::Deserializer::from_reader(self.0.as_bytes());
        let value = de::Deserializer::deserialize_any(&mut json, visitor).map_err(|error| {
            de::Error::custom(format_args!(
                "the JSON text does not fit (line {}, column {}, {:?} error)",
                error.line(),
                error.column(),
                error.classify()
            ))
        })?;
        json.end()
            .map_err(|_| de::Error::custom("text follows the JSON value"))?;
        Ok(value)
    }
}

macro_rules! parse_number {
    ($($method:ident => $visit:ident: $ty:ty, $what:literal;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
                visitor.$visit(self.parse::<$ty>($what)?)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Text<'_> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_str(self.0)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0.trim() {
            "true" | "TRUE" | "Y" => visitor.visit_bool(true),
            "false" | "FALSE" | "N" => visitor.visit_bool(false),
            _ => Err(de::Error::custom(
                "the text is not a boolean (`true`/`false`, `Y`/`N`)",
            )),
        }
    }

    parse_number! {
        deserialize_i8 => visit_i8: i8, "an integer (i8)";
        deserialize_i16 => visit_i16: i16, "an integer (i16)";
        deserialize_i32 => visit_i32: i32, "an integer (i32)";
        deserialize_i64 => visit_i64: i64, "an integer (i64)";
        deserialize_i128 => visit_i128: i128, "an integer (i128)";
        deserialize_u8 => visit_u8: u8, "a non-negative integer (u8)";
        deserialize_u16 => visit_u16: u16, "a non-negative integer (u16)";
        deserialize_u32 => visit_u32: u32, "a non-negative integer (u32)";
        deserialize_u64 => visit_u64: u64, "a non-negative integer (u64)";
        deserialize_u128 => visit_u128: u128, "a non-negative integer (u128)";
        deserialize_f32 => visit_f32: f32, "a number (f32)";
        deserialize_f64 => visit_f64: f64, "a number (f64)";
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let mut chars = self.0.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => visitor.visit_char(c),
            _ => Err(de::Error::custom("the text is not one character")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_str(self.0)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_str(self.0)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_bytes(self.0.as_bytes())
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_bytes(self.0.as_bytes())
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        // A field that is there is `Some`, even when empty: `Option<String>`
        // tells an empty element from a missing one.
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.json(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.json(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.json(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.json(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.json(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_enum(IntoDeserializer::<DecodeError>::into_deserializer(self.0))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_str(self.0)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }
}
