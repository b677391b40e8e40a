//! A serde serializer that writes a flat struct or map as query pairs.
//!
//! Each field becomes one `key=value` pair, in serialization order, through
//! [`Target::push_query_pair`] (which percent-encodes both sides). Values
//! must be scalars: strings, characters, integers, floats, booleans, unit
//! enum variants (written as their name) or newtypes around those. `None`
//! and `()` leave the field out; `Some(x)` is written as `x`. Anything with
//! structure (sequences, maps, structs, bytes, enum variants with data) has
//! no single query-string form and is rejected with a [`BuildError::Query`]
//! naming the field; a list field marked with [`comma_separated`] is
//! written as one comma-separated value.

use std::fmt::{self, Display};

use serde::Serialize;
use serde::ser::{self, Impossible};

use super::{BuildError, Target};

/// Serializes `params` (a struct or a map) into `target`'s query string.
pub(super) fn append<T: Serialize + ?Sized>(
    target: &mut Target,
    params: &T,
) -> Result<(), BuildError> {
    params
        .serialize(Params { target })
        .map_err(|error| BuildError::Query {
            name: error.name,
            reason: error.reason,
        })
}

/// A list that [`comma_separated`] can write: a `Vec`, a slice, or an
/// optional `Vec` (`None` leaves the parameter out).
pub trait QueryList {
    /// The element type: anything that writes as one query value (a
    /// string, a number, a boolean, a unit enum variant).
    type Item: Serialize;

    /// The elements, or `None` when there is no list at all.
    fn items(&self) -> Option<&[Self::Item]>;
}

impl<T: Serialize> QueryList for [T] {
    type Item = T;
    fn items(&self) -> Option<&[T]> {
        Some(self)
    }
}

impl<T: Serialize> QueryList for Vec<T> {
    type Item = T;
    fn items(&self) -> Option<&[T]> {
        Some(self)
    }
}

impl<L: QueryList + ?Sized> QueryList for &L {
    type Item = L::Item;
    fn items(&self) -> Option<&[L::Item]> {
        (**self).items()
    }
}

impl<T: Serialize> QueryList for Option<Vec<T>> {
    type Item = T;
    fn items(&self) -> Option<&[T]> {
        self.as_deref()
    }
}

/// Writes a list query parameter as one comma-separated value
/// (`?types=A%2CB`: the comma is percent-encoded like any other character): the
/// form Swagger 2.0 gives an array query parameter unless it says otherwise
/// (`collectionFormat: csv`), which is how the WeChat Pay spec declares
/// them. For a query field of an endpoint:
///
/// ```
/// # use serde::Serialize;
/// #[derive(Serialize)]
/// #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
/// enum Ability { BaseAbility, RealEstateAbility }
///
/// #[derive(Serialize)]
/// struct Query {
///     #[serde(serialize_with = "wxpay_core::target::comma_separated")]
///     abilities: Vec<Ability>,
/// }
///
/// let mut target = wxpay_core::target::Target::new();
/// target.push_literal("/v3/example");
/// let query = Query { abilities: vec![Ability::BaseAbility, Ability::RealEstateAbility] };
/// target.push_query(&query).unwrap();
/// assert_eq!(target.as_str(), "/v3/example?abilities=BASE_ABILITY%2CREAL_ESTATE_ABILITY");
/// ```
///
/// An empty list, or `None`, leaves the parameter out. An element that is
/// not a single value, that is empty or `None`, or that holds a comma
/// itself (which would read back as two elements) is refused with a
/// [`BuildError::Query`] naming the parameter.
pub fn comma_separated<L, S>(list: &L, serializer: S) -> Result<S::Ok, S::Error>
where
    L: QueryList + ?Sized,
    S: ser::Serializer,
{
    let items = match list.items() {
        Some(items) if !items.is_empty() => items,
        _ => return serializer.serialize_none(),
    };
    let mut joined = String::new();
    for (index, item) in items.iter().enumerate() {
        let text = match item.serialize(Scalar) {
            Ok(Some(text)) if text.is_empty() => {
                return Err(ser::Error::custom(format!("list element {index} is empty")));
            }
            Ok(Some(text)) => text,
            Ok(None) => {
                return Err(ser::Error::custom(format!(
                    "list element {index} is `None` or `()`; leave it out of the list"
                )));
            }
            Err(error) => {
                return Err(ser::Error::custom(format!(
                    "list element {index}: {}",
                    error.reason
                )));
            }
        };
        if text.contains(',') {
            return Err(ser::Error::custom(format!(
                "list element {index} contains `,`, which separates the elements; \
                 it would read back as two"
            )));
        }
        if index > 0 {
            joined.push(',');
        }
        joined.push_str(&text);
    }
    serializer.serialize_str(&joined)
}

/// Why a value could not be written; becomes [`BuildError::Query`].
#[derive(Debug)]
struct QueryError {
    /// The key being written, or empty while none is known yet.
    name: String,
    reason: String,
}

impl QueryError {
    fn new(reason: impl Into<String>) -> Self {
        QueryError {
            name: String::new(),
            reason: reason.into(),
        }
    }

    /// A value whose shape has no query-string form.
    fn structured(what: &str) -> Self {
        QueryError::new(format!(
            "{what} has no query-string form; send it in the body or format it as a string"
        ))
    }

    /// Names the key this error happened under, unless a key is known already.
    fn at(mut self, key: &str) -> Self {
        if self.name.is_empty() {
            self.name = key.to_owned();
        }
        self
    }
}

impl Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "`{}`: {}", self.name, self.reason)
        }
    }
}

impl std::error::Error for QueryError {}

impl ser::Error for QueryError {
    fn custom<T: Display>(msg: T) -> Self {
        QueryError::new(msg.to_string())
    }
}

/// The top level: accepts a struct or a map (or an `Option` / newtype of one).
struct Params<'t> {
    target: &'t mut Target,
}

/// Rejects a top-level value that is not a struct or a map.
fn not_params(what: &str) -> QueryError {
    QueryError::new(format!(
        "the query parameters must be a struct or a map with named fields, not {what}"
    ))
}

impl<'t> ser::Serializer for Params<'t> {
    type Ok = ();
    type Error = QueryError;
    type SerializeSeq = Impossible<(), QueryError>;
    type SerializeTuple = Impossible<(), QueryError>;
    type SerializeTupleStruct = Impossible<(), QueryError>;
    type SerializeTupleVariant = Impossible<(), QueryError>;
    type SerializeMap = Pairs<'t>;
    type SerializeStruct = Pairs<'t>;
    type SerializeStructVariant = Impossible<(), QueryError>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Pairs<'t>, QueryError> {
        Ok(Pairs::new(self.target))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Pairs<'t>, QueryError> {
        Ok(Pairs::new(self.target))
    }

    fn serialize_none(self) -> Result<(), QueryError> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), QueryError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), QueryError> {
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), QueryError> {
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), QueryError> {
        value.serialize(self)
    }

    fn serialize_bool(self, _: bool) -> Result<(), QueryError> {
        Err(not_params("a boolean"))
    }
    fn serialize_i8(self, _: i8) -> Result<(), QueryError> {
        Err(not_params("a number"))
    }
    fn serialize_i16(self, _: i16) -> Result<(), QueryError> {
        Err(not_params("a number"))
    }
    fn serialize_i32(self, _: i32) -> Result<(), QueryError> {
        Err(not_params("a number"))
    }
    fn serialize_i64(self, _: i64) -> Result<(), QueryError> {
        Err(not_params("a number"))
    }
    fn serialize_i128(self, _: i128) -> Result<(), QueryError> {
        Err(not_params("a number"))
    }
    fn serialize_u8(self, _: u8) -> Result<(), QueryError> {
        Err(not_params("a number"))
    }
    fn serialize_u16(self, _: u16) -> Result<(), QueryError> {
        Err(not_params("a number"))
    }
    fn serialize_u32(self, _: u32) -> Result<(), QueryError> {
        Err(not_params("a number"))
    }
    fn serialize_u64(self, _: u64) -> Result<(), QueryError> {
        Err(not_params("a number"))
    }
    fn serialize_u128(self, _: u128) -> Result<(), QueryError> {
        Err(not_params("a number"))
    }
    fn serialize_f32(self, _: f32) -> Result<(), QueryError> {
        Err(not_params("a number"))
    }
    fn serialize_f64(self, _: f64) -> Result<(), QueryError> {
        Err(not_params("a number"))
    }
    fn serialize_char(self, _: char) -> Result<(), QueryError> {
        Err(not_params("a character"))
    }
    fn serialize_str(self, _: &str) -> Result<(), QueryError> {
        Err(not_params("a string"))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), QueryError> {
        Err(not_params("bytes"))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), QueryError> {
        Err(not_params("an enum variant"))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), QueryError> {
        Err(not_params("an enum variant"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, QueryError> {
        Err(not_params("a sequence"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, QueryError> {
        Err(not_params("a tuple"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, QueryError> {
        Err(not_params("a tuple struct"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, QueryError> {
        Err(not_params("an enum variant"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, QueryError> {
        Err(not_params("an enum variant"))
    }
}

/// Writes the fields of a struct, or the entries of a map, as pairs.
struct Pairs<'t> {
    target: &'t mut Target,
    /// A map key waiting for its value.
    key: Option<String>,
}

impl<'t> Pairs<'t> {
    fn new(target: &'t mut Target) -> Self {
        Pairs { target, key: None }
    }

    fn pair<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), QueryError> {
        if let Some(text) = value.serialize(Scalar).map_err(|e| e.at(key))? {
            self.target.push_query_pair(key, &text);
        }
        Ok(())
    }
}

impl ser::SerializeStruct for Pairs<'_> {
    type Ok = ();
    type Error = QueryError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), QueryError> {
        self.pair(key, value)
    }

    fn end(self) -> Result<(), QueryError> {
        Ok(())
    }
}

impl ser::SerializeMap for Pairs<'_> {
    type Ok = ();
    type Error = QueryError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), QueryError> {
        match key.serialize(Scalar)? {
            Some(key) => {
                self.key = Some(key);
                Ok(())
            }
            None => Err(QueryError::new(
                "a map key is empty (`None` or `()`); keys must be strings or numbers",
            )),
        }
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), QueryError> {
        match self.key.take() {
            Some(key) => self.pair(&key, value),
            None => Err(QueryError::new("a map value was serialized before its key")),
        }
    }

    fn end(self) -> Result<(), QueryError> {
        Ok(())
    }
}

/// `value` as one text value, as a query parameter would carry it (also
/// used for the text fields of an upload form): `None` for `None` and `()`,
/// or why a structured value has no such form.
pub(crate) fn scalar_text<T: Serialize + ?Sized>(value: &T) -> Result<Option<String>, String> {
    value.serialize(Scalar).map_err(|error| error.reason)
}

/// Turns one value into its query-string text; `None` means "leave it out".
struct Scalar;

type Text = Option<String>;

fn text(value: impl ToString) -> Result<Text, QueryError> {
    Ok(Some(value.to_string()))
}

impl ser::Serializer for Scalar {
    type Ok = Text;
    type Error = QueryError;
    type SerializeSeq = Impossible<Text, QueryError>;
    type SerializeTuple = Impossible<Text, QueryError>;
    type SerializeTupleStruct = Impossible<Text, QueryError>;
    type SerializeTupleVariant = Impossible<Text, QueryError>;
    type SerializeMap = Impossible<Text, QueryError>;
    type SerializeStruct = Impossible<Text, QueryError>;
    type SerializeStructVariant = Impossible<Text, QueryError>;

    fn serialize_bool(self, v: bool) -> Result<Text, QueryError> {
        text(v)
    }
    fn serialize_i8(self, v: i8) -> Result<Text, QueryError> {
        text(v)
    }
    fn serialize_i16(self, v: i16) -> Result<Text, QueryError> {
        text(v)
    }
    fn serialize_i32(self, v: i32) -> Result<Text, QueryError> {
        text(v)
    }
    fn serialize_i64(self, v: i64) -> Result<Text, QueryError> {
        text(v)
    }
    fn serialize_i128(self, v: i128) -> Result<Text, QueryError> {
        text(v)
    }
    fn serialize_u8(self, v: u8) -> Result<Text, QueryError> {
        text(v)
    }
    fn serialize_u16(self, v: u16) -> Result<Text, QueryError> {
        text(v)
    }
    fn serialize_u32(self, v: u32) -> Result<Text, QueryError> {
        text(v)
    }
    fn serialize_u64(self, v: u64) -> Result<Text, QueryError> {
        text(v)
    }
    fn serialize_u128(self, v: u128) -> Result<Text, QueryError> {
        text(v)
    }
    fn serialize_f32(self, v: f32) -> Result<Text, QueryError> {
        text(v)
    }
    fn serialize_f64(self, v: f64) -> Result<Text, QueryError> {
        text(v)
    }
    fn serialize_char(self, v: char) -> Result<Text, QueryError> {
        text(v)
    }
    fn serialize_str(self, v: &str) -> Result<Text, QueryError> {
        text(v)
    }

    fn serialize_none(self) -> Result<Text, QueryError> {
        Ok(None)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Text, QueryError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Text, QueryError> {
        Ok(None)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Text, QueryError> {
        Ok(None)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Text, QueryError> {
        text(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Text, QueryError> {
        value.serialize(self)
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<Text, QueryError> {
        Err(QueryError::structured("a byte string"))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Text, QueryError> {
        Err(QueryError::structured("an enum variant with data"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, QueryError> {
        Err(QueryError::new(
            "a sequence has no single query-string form; send it in the body or format it as \
             a string, or mark the field \
             `#[serde(serialize_with = \"wxpay::target::comma_separated\")]` to send it as one \
             comma-separated value",
        ))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, QueryError> {
        Err(QueryError::structured("a tuple"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, QueryError> {
        Err(QueryError::structured("a tuple struct"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, QueryError> {
        Err(QueryError::structured("an enum variant with data"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, QueryError> {
        Err(QueryError::structured("a nested map"))
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, QueryError> {
        Err(QueryError::structured("a nested struct"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, QueryError> {
        Err(QueryError::structured("an enum variant with data"))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::{Serialize, Serializer};

    use super::*;

    fn render<T: Serialize + ?Sized>(params: &T) -> Result<String, BuildError> {
        let mut target = Target::new();
        target.push_literal("/p");
        target.push_query(params)?;
        Ok(target.into_string())
    }

    #[test]
    fn lists_are_written_comma_separated() {
        #[derive(Serialize)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        enum Kind {
            BaseAbility,
            RealEstateAbility,
        }
        #[derive(Serialize)]
        struct Params<'a> {
            #[serde(serialize_with = "comma_separated")]
            kinds: Vec<Kind>,
            #[serde(serialize_with = "comma_separated")]
            numbers: &'a [u32],
            #[serde(serialize_with = "comma_separated")]
            absent: Option<Vec<String>>,
            #[serde(serialize_with = "comma_separated")]
            empty: Vec<String>,
            #[serde(serialize_with = "comma_separated")]
            one: Option<Vec<String>>,
        }
        let params = Params {
            kinds: vec![Kind::BaseAbility, Kind::RealEstateAbility],
            numbers: &[1, 20],
            absent: None,
            empty: Vec::new(),
            one: Some(vec!["a b".into()]),
        };
        assert_eq!(
            render(&params).unwrap(),
            "/p?kinds=BASE_ABILITY%2CREAL_ESTATE_ABILITY&numbers=1%2C20&one=a%20b"
        );
    }

    #[test]
    fn list_elements_that_would_not_read_back_are_refused() {
        #[derive(Serialize)]
        struct Params {
            #[serde(serialize_with = "comma_separated")]
            list: Vec<Option<String>>,
        }
        let list = |items: &[Option<&str>]| Params {
            list: items.iter().map(|item| item.map(str::to_owned)).collect(),
        };
        let (name, reason) = rejection(&list(&[Some("a"), Some("b,c")]));
        assert_eq!(name, "list");
        assert!(reason.contains("element 1 contains `,`"), "{reason}");
        let (name, reason) = rejection(&list(&[Some("a"), None]));
        assert_eq!(name, "list");
        assert!(reason.contains("element 1 is `None`"), "{reason}");
        let (_, reason) = rejection(&list(&[Some("")]));
        assert!(reason.contains("element 0 is empty"), "{reason}");

        #[derive(Serialize)]
        struct Nested {
            #[serde(serialize_with = "comma_separated")]
            list: Vec<Vec<u8>>,
        }
        let (name, reason) = rejection(&Nested {
            list: vec![vec![1]],
        });
        assert_eq!(name, "list");
        assert!(reason.contains("element 0: a sequence"), "{reason}");
    }

    fn rejection<T: Serialize + ?Sized>(params: &T) -> (String, String) {
        match render(params) {
            Err(BuildError::Query { name, reason }) => (name, reason),
            other => panic!("expected a query error, got {other:?}"),
        }
    }

    #[derive(Serialize)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    enum State {
        Used,
        NotUsed,
    }

    #[derive(Serialize)]
    struct Mchid(&'static str);

    #[test]
    fn scalars_in_field_order() {
        #[derive(Serialize)]
        struct Q {
            z: &'static str,
            a: u32,
            neg: i64,
            big: u128,
            ratio: f64,
            on: bool,
            letter: char,
            state: State,
            mchid: Mchid,
        }
        let q = Q {
            z: "last-first",
            a: 7,
            neg: -3,
            big: 340_282_366_920_938_463_463_374_607_431_768_211_455,
            ratio: 0.5,
            on: true,
            letter: 'x',
            state: State::NotUsed,
            mchid: Mchid("1900009191"),
        };
        assert_eq!(
            render(&q).unwrap(),
            "/p?z=last-first&a=7&neg=-3&big=340282366920938463463374607431768211455\
             &ratio=0.5&on=true&letter=x&state=NOT_USED&mchid=1900009191"
        );
        let _ = State::Used;
    }

    #[test]
    fn none_and_unit_are_left_out_some_is_unwrapped() {
        #[derive(Serialize)]
        struct Q {
            a: Option<u32>,
            b: Option<&'static str>,
            c: (),
            d: Option<Option<u8>>,
            e: Option<Option<u8>>,
        }
        let q = Q {
            a: None,
            b: Some("kept"),
            c: (),
            d: Some(None),
            e: Some(Some(1)),
        };
        assert_eq!(render(&q).unwrap(), "/p?b=kept&e=1");
    }

    #[test]
    fn nothing_to_send_adds_no_question_mark() {
        #[derive(Serialize)]
        struct Q {
            a: Option<u32>,
        }
        assert_eq!(render(&Q { a: None }).unwrap(), "/p");
        assert_eq!(render(&None::<Q>).unwrap(), "/p");
        assert_eq!(render(&()).unwrap(), "/p");
    }

    #[test]
    fn keys_and_values_are_percent_encoded() {
        #[derive(Serialize)]
        struct Q {
            #[serde(rename = "a&b=c")]
            key: &'static str,
            text: &'static str,
            chinese: &'static str,
        }
        let q = Q {
            key: "x=y&z",
            text: "a b+c/d~-._",
            chinese: "微信",
        };
        assert_eq!(
            render(&q).unwrap(),
            "/p?a%26b%3Dc=x%3Dy%26z&text=a%20b%2Bc%2Fd~-._&chinese=%E5%BE%AE%E4%BF%A1"
        );
    }

    #[test]
    fn maps_keep_their_iteration_order() {
        let mut map = BTreeMap::new();
        map.insert("b", "2");
        map.insert("a", "1");
        assert_eq!(render(&map).unwrap(), "/p?a=1&b=2");

        let mut numbered = BTreeMap::new();
        numbered.insert(2u8, Some(true));
        numbered.insert(1u8, None);
        assert_eq!(render(&numbered).unwrap(), "/p?2=true");
    }

    #[test]
    fn flattened_fields_are_written_in_place() {
        #[derive(Serialize)]
        struct Page {
            offset: u32,
            limit: u32,
        }
        #[derive(Serialize)]
        struct Q {
            first: &'static str,
            #[serde(flatten)]
            page: Page,
            last: Option<&'static str>,
        }
        let q = Q {
            first: "f",
            page: Page {
                offset: 10,
                limit: 20,
            },
            last: Some("l"),
        };
        assert_eq!(render(&q).unwrap(), "/p?first=f&offset=10&limit=20&last=l");
    }

    #[test]
    fn appends_after_an_existing_query() {
        #[derive(Serialize)]
        struct Q {
            b: u8,
        }
        let mut target = Target::new();
        target.push_literal("/p");
        target.push_query_pair("a", "1");
        target.push_query(&Q { b: 2 }).unwrap();
        assert_eq!(target.as_str(), "/p?a=1&b=2");
    }

    #[test]
    fn structured_values_are_rejected_with_their_name() {
        #[derive(Serialize)]
        struct Inner {
            x: u8,
        }
        #[derive(Serialize)]
        enum Shape {
            Circle(u8),
            Rect { w: u8 },
            Pair(u8, u8),
        }
        #[derive(Serialize)]
        struct Q<T> {
            ok: u8,
            bad: T,
        }
        fn check<T: Serialize>(bad: T, what: &str) {
            let (name, reason) = rejection(&Q { ok: 1, bad });
            assert_eq!(name, "bad");
            assert!(reason.starts_with(what), "{reason}");
            assert!(
                reason.contains("send it in the body or format it as a string"),
                "{reason}"
            );
        }

        check(vec![1, 2], "a sequence");
        check((1, 2), "a tuple");
        check(Inner { x: 1 }, "a nested struct");
        check(BTreeMap::from([("k", 1)]), "a nested map");
        check(Shape::Circle(1), "an enum variant with data");
        check(Shape::Rect { w: 1 }, "an enum variant with data");
        check(Shape::Pair(1, 2), "an enum variant with data");
        check(Bytes, "a byte string");
    }

    struct Bytes;

    impl Serialize for Bytes {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(b"raw")
        }
    }

    #[test]
    fn the_whole_value_must_be_a_struct_or_map() {
        for (name, reason) in [rejection("text"), rejection(&7u8), rejection(&[1, 2])] {
            assert_eq!(name, "");
            assert!(reason.contains("must be a struct or a map"), "{reason}");
        }
    }

    #[test]
    fn map_keys_must_be_scalars() {
        let map = BTreeMap::from([(vec![1], "v")]);
        let (_, reason) = rejection(&map);
        assert!(reason.starts_with("a sequence"), "{reason}");

        let map = BTreeMap::from([(None::<u8>, "v")]);
        let (_, reason) = rejection(&map);
        assert!(reason.contains("map key is empty"), "{reason}");
    }

    #[test]
    fn custom_errors_name_the_field() {
        struct Broken;
        impl Serialize for Broken {
            fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("no text form"))
            }
        }
        #[derive(Serialize)]
        struct Q {
            broken: Broken,
        }
        let (name, reason) = rejection(&Q { broken: Broken });
        assert_eq!((name.as_str(), reason.as_str()), ("broken", "no text form"));

        let error = render(&Q { broken: Broken }).unwrap_err();
        assert!(error.to_string().contains("`broken`"), "{error}");
    }
}
