//! Reading serde types from a [`Json`] tree.

use std::fmt;

use serde::de::{self, value::MapAccessDeserializer, IntoDeserializer, Unexpected, Visitor};

use super::{Error, Json, HANDOFF, TREE};

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string().into())
    }

    // serde's defaults print the offending value (`Unexpected`'s Display), which would link
    // float printing and string escaping into the bundle; the kind of value is enough.
    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::custom(format_args!(
            "invalid type: {}, expected {exp}",
            kind(unexp)
        ))
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::custom(format_args!(
            "invalid value: {}, expected {exp}",
            kind(unexp)
        ))
    }

    // The defaults list every expected name; the one that was wrong is enough.
    fn unknown_variant(variant: &str, _expected: &'static [&'static str]) -> Self {
        Self::custom(format_args!("unknown variant `{variant}`"))
    }

    fn unknown_field(field: &str, _expected: &'static [&'static str]) -> Self {
        Self::custom(format_args!("unknown field `{field}`"))
    }
}

fn kind<'a>(unexp: Unexpected<'a>) -> &'a str {
    match unexp {
        Unexpected::Bool(_) => "a boolean",
        Unexpected::Unsigned(_) | Unexpected::Signed(_) | Unexpected::Float(_) => "a number",
        Unexpected::Char(_) | Unexpected::Str(_) => "a string",
        Unexpected::Bytes(_) => "bytes",
        Unexpected::Unit => "null",
        Unexpected::Option => "an option",
        Unexpected::NewtypeStruct => "a newtype",
        Unexpected::Seq => "an array",
        Unexpected::Map => "an object",
        Unexpected::Enum
        | Unexpected::UnitVariant
        | Unexpected::NewtypeVariant
        | Unexpected::TupleVariant
        | Unexpected::StructVariant => "an enum variant",
        Unexpected::Other(other) => other,
    }
}

impl<'de> IntoDeserializer<'de, Error> for Json {
    type Deserializer = Json;

    fn into_deserializer(self) -> Json {
        self
    }
}

/// A JSON integer, as serde's data model holds it.
pub(super) enum Integer {
    Unsigned(u64),
    Signed(i64),
}

/// The integer a JSON number's text spells, or `None` for a fraction, an exponent or anything
/// beyond 64 bits. One small non-generic parser instead of `str::parse` for both `u64` and
/// `i64`; the text is already valid JSON, so only digits and a leading `-` remain to check.
#[inline(never)]
pub(super) fn integer(n: &str) -> Option<Integer> {
    let (negative, digits) = match n.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, n),
    };
    let mut value: u64 = 0;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    match (negative, value) {
        (false, u) | (true, u @ 0) => Some(Integer::Unsigned(u)),
        (true, m) if m <= 1 << 63 => Some(Integer::Signed((m as i64).wrapping_neg())),
        _ => None,
    }
}

/// An integer as `u64` or `i64`; anything else is for `f32`/`f64` fields only.
fn visit_number<'de, V: Visitor<'de>>(n: &str, visitor: V) -> Result<V::Value, Error> {
    match integer(n) {
        Some(Integer::Unsigned(u)) => visitor.visit_u64(u),
        Some(Integer::Signed(i)) => visitor.visit_i64(i),
        None => Err(Error::fixed(
            "a fractional or out-of-range number where no f32/f64 was expected",
        )),
    }
}

impl Json {
    fn unexpected(&self) -> Unexpected<'_> {
        match self {
            Json::Null => Unexpected::Unit,
            Json::Bool(b) => Unexpected::Bool(*b),
            Json::Number(_) => Unexpected::Other("a number"),
            Json::String(s) => Unexpected::Str(s),
            Json::Array(_) => Unexpected::Seq,
            Json::Object(_) => Unexpected::Map,
        }
    }

    fn invalid<'de, V: Visitor<'de>>(&self, visitor: &V) -> Error {
        de::Error::invalid_type(self.unexpected(), visitor)
    }
}

fn visit_array<'de, V: Visitor<'de>>(items: Vec<Json>, visitor: V) -> Result<V::Value, Error> {
    let mut seq = Elements(items.into_iter());
    let value = visitor.visit_seq(&mut seq)?;
    seq.end()?;
    Ok(value)
}

fn visit_object<'de, V: Visitor<'de>>(
    members: Vec<(String, Json)>,
    visitor: V,
) -> Result<V::Value, Error> {
    let mut map = Members {
        members: members.into_iter(),
        value: None,
    };
    let value = visitor.visit_map(&mut map)?;
    map.end()?;
    Ok(value)
}

/// An array's items, one by one. (serde's `SeqDeserializer` does the same, but its generic
/// steps are instantiated, and inlined, into every type's reader; these stay out of line.)
struct Elements(std::vec::IntoIter<Json>);

impl Elements {
    #[inline(never)]
    fn end(self) -> Result<(), Error> {
        match self.0.len() {
            0 => Ok(()),
            _ => Err(Error::fixed("an array with more items than expected")),
        }
    }
}

impl<'de> de::SeqAccess<'de> for Elements {
    type Error = Error;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.0.next() {
            Some(item) => seed.deserialize(item).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// An object's members, key then value.
struct Members {
    members: std::vec::IntoIter<(String, Json)>,
    value: Option<Json>,
}

impl Members {
    #[inline(never)]
    fn next_key(&mut self) -> Option<Key> {
        let (key, value) = self.members.next()?;
        self.value = Some(value);
        Some(Key(key))
    }

    #[inline(never)]
    fn take_value(&mut self) -> Json {
        self.value.take().unwrap_or(Json::Null)
    }

    #[inline(never)]
    fn end(self) -> Result<(), Error> {
        match self.members.len() {
            0 => Ok(()),
            _ => Err(Error::fixed("an object with more members than expected")),
        }
    }
}

impl<'de> de::MapAccess<'de> for Members {
    type Error = Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.next_key() {
            Some(key) => seed.deserialize(key).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(self.take_value())
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.members.len())
    }
}

/// Each typed read accepts only its own kind of value and calls only the visitor method for
/// it, so a type's other visitor methods (serde's defaults: an error each) are never
/// instantiated. Only `deserialize_any` dispatches on whatever the value is.
macro_rules! typed {
    ($($method:ident: $pattern:pat => $visit:expr;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            #[allow(clippy::redundant_closure_call)]
            match self {
                $pattern => ($visit)(visitor),
                other => Err(other.invalid(&visitor)),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Json {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Json::Null => visitor.visit_unit(),
            Json::Bool(b) => visitor.visit_bool(b),
            Json::Number(n) => visit_number(&n, visitor),
            Json::String(s) => visitor.visit_string(s),
            Json::Array(items) => visit_array(items, visitor),
            Json::Object(members) => visit_object(members, visitor),
        }
    }

    typed! {
        deserialize_bool: Json::Bool(b) => |v: V| v.visit_bool(b);
        deserialize_i8: Json::Number(n) => |v| visit_number(&n, v);
        deserialize_i16: Json::Number(n) => |v| visit_number(&n, v);
        deserialize_i32: Json::Number(n) => |v| visit_number(&n, v);
        deserialize_i64: Json::Number(n) => |v| visit_number(&n, v);
        deserialize_u8: Json::Number(n) => |v| visit_number(&n, v);
        deserialize_u16: Json::Number(n) => |v| visit_number(&n, v);
        deserialize_u32: Json::Number(n) => |v| visit_number(&n, v);
        deserialize_u64: Json::Number(n) => |v| visit_number(&n, v);
        deserialize_char: Json::String(s) => |v: V| v.visit_string(s);
        deserialize_str: Json::String(s) => |v: V| v.visit_string(s);
        deserialize_string: Json::String(s) => |v: V| v.visit_string(s);
        deserialize_identifier: Json::String(s) => |v: V| v.visit_string(s);
        deserialize_unit: Json::Null => |v: V| v.visit_unit();
        deserialize_seq: Json::Array(items) => |v| visit_array(items, v);
        deserialize_map: Json::Object(members) => |v| visit_object(members, v);
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Json::Number(n) => match n.parse() {
                Ok(f) => visitor.visit_f64(f),
                Err(_) => Err(Error::syntax()),
            },
            other => Err(other.invalid(&visitor)),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Json::Null => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name == TREE {
            // `Json` itself: hand the subtree over whole (see `HANDOFF`).
            HANDOFF.set(Some(self));
            visitor.visit_unit()
        } else {
            visitor.visit_newtype_struct(self)
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    /// Objects only (serde_json also takes a struct's fields as an array; no JSON we read
    /// does, and refusing it keeps each struct's array reader out of the bundle).
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    /// Externally tagged, as serde_json reads enums: `"Unit"` or `{"Variant": value}`.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self {
            Json::String(s) => visitor.visit_enum(s.into_deserializer()),
            Json::Object(members) if members.len() == 1 => {
                visitor.visit_enum(MapAccessDeserializer::new(Members {
                    members: members.into_iter(),
                    value: None,
                }))
            }
            _ => Err(Error::fixed(
                "an enum is a string or an object with one member",
            )),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        i128 u128 bytes byte_buf
    }
}

/// An object key. Keys are strings, but a map keyed by integers reads them back from their
/// text, as serde_json does (the writer quotes integer keys).
struct Key(String);

impl<'de> IntoDeserializer<'de, Error> for Key {
    type Deserializer = Key;

    fn into_deserializer(self) -> Key {
        self
    }
}

macro_rules! integer_keys {
    ($($method:ident => $visit:ident : $t:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self.0.parse::<$t>() {
                Ok(n) => visitor.$visit(n),
                Err(_) => self.deserialize_any(visitor),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Key {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_string(self.0)
    }

    /// A struct's field name: compared, never kept.
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_str(&self.0)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(self.0.into_deserializer())
    }

    integer_keys!(
        deserialize_u8 => visit_u64: u64, deserialize_u16 => visit_u64: u64,
        deserialize_u32 => visit_u64: u64, deserialize_u64 => visit_u64: u64,
        deserialize_i8 => visit_i64: i64, deserialize_i16 => visit_i64: i64,
        deserialize_i32 => visit_i64: i64, deserialize_i64 => visit_i64: i64
    );

    serde::forward_to_deserialize_any! {
        bool i128 u128 f32 f64 char str string bytes byte_buf option unit unit_struct
        newtype_struct seq tuple tuple_struct map struct ignored_any
    }
}
