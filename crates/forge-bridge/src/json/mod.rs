//! The panel's JSON codec: a small serde data format, so every wire type is described once, by
//! its serde derives, and the wasm bundle still links no serde_json.
//!
//! ```
//! # use serde::{Deserialize, Serialize};
//! #[derive(Serialize, Deserialize, PartialEq, Debug)]
//! struct Task { id: String, done: bool }
//!
//! let text = forge_bridge::json::to_string(&Task { id: "t1".into(), done: true }).unwrap();
//! assert_eq!(text, r#"{"id":"t1","done":true}"#);
//! assert_eq!(forge_bridge::json::from_str::<Task>(&text).unwrap().id, "t1");
//! ```
//!
//! Why not serde_json in the bundle: with it, the panel's wasm grew by about 33 KB gzip (to
//! 127 KB for the main resource, against a 100 KB ceiling). Most of that is number handling
//! that a panel never needs: float parsing tables, float printing, and serde's error messages,
//! which print the offending value (floats and escaped strings included). This codec
//! - parses into a [`Json`] tree that keeps numbers as their JSON text, and deserializes from
//!   the tree (`de`), so an integer field costs an integer parse and nothing more;
//! - prints straight to text (`ser`), compact, in field order, as `JSON.stringify` does;
//! - reports errors by kind ("invalid type: a string, expected u16"), never by value.
//!
//! The remote uses serde_json on the same types; the tests in `app` and the server's contract
//! test check that the two agree on every type the panel reads or sends.
//!
//! One limit, by design: a fractional number is read only into a field that asks for `f32` or
//! `f64` (or into [`Json`], which keeps its text). Self-describing reads (`deserialize_any`,
//! as internally tagged and untagged enums use) see integers only, so that float parsing is
//! linked only into a bundle whose types have float fields.

mod de;
mod ser;
mod text;

use std::{borrow::Cow, fmt};

use serde::{de::DeserializeOwned, Serialize};

pub(crate) use ser::RawJson;
pub use text::write_str;

/// A JSON value. Objects keep their members in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Json {
    Null,
    Bool(bool),
    /// A number, as its (valid) JSON text.
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// Invalid JSON, or JSON of another shape than the type expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(Cow<'static, str>);

impl Error {
    pub(crate) const fn syntax() -> Self {
        Error(Cow::Borrowed("invalid JSON"))
    }

    const fn fixed(message: &'static str) -> Self {
        Error(Cow::Borrowed(message))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// Decodes JSON text as `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    from_value(Json::parse(text)?)
}

/// Decodes a parsed value as `T`.
pub fn from_value<T: DeserializeOwned>(value: Json) -> Result<T, Error> {
    T::deserialize(value)
}

/// Compact JSON text of `value`, members in field order (as `JSON.stringify` prints).
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    let mut out = String::new();
    value.serialize(&mut ser::Writer {
        out: &mut out,
        raw: false,
    })?;
    Ok(out)
}

/// `value` as a [`Json`] tree.
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Json, Error> {
    Json::parse(&to_string(value)?)
}

impl Json {
    /// Parses JSON text (RFC 8259, no extensions), like `JSON.parse`.
    pub fn parse(text: &str) -> Result<Json, Error> {
        text::parse(text)
    }

    /// Compact JSON text, as `JSON.stringify` prints it; numbers keep their text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out);
        out
    }

    fn write_text(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => out.push_str(n),
            Json::String(s) => write_str(out, s),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_text(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(out, k);
                    out.push(':');
                    v.write_text(out);
                }
                out.push('}');
            }
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// The newtype name under which [`Json`]'s `Deserialize` asks for a value. This codec already
/// holds the value as a [`Json`], so it hands the subtree over whole (see [`HANDOFF`]): numbers
/// stay exactly as written, and no reader of `Json` is compiled for this codec at all. Any other
/// deserializer sees an ordinary newtype and reads the value member by member.
const TREE: &str = "$forge_bridge::json::Json";

std::thread_local! {
    /// The subtree in transit: set by this codec's `deserialize_newtype_struct(TREE, …)` just
    /// before it calls `visit_unit` on `Json`'s visitor, which takes it at once. For any other
    /// deserializer it is empty, and `visit_unit` is plain `null`.
    static HANDOFF: std::cell::Cell<Option<Json>> = const { std::cell::Cell::new(None) };
}

impl Serialize for Json {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeMap, SerializeSeq};
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Number(n) => match de::integer(n) {
                Some(de::Integer::Unsigned(u)) => s.serialize_u64(u),
                Some(de::Integer::Signed(i)) => s.serialize_i64(i),
                None => s.serialize_f64(n.parse().map_err(S::Error::custom)?),
            },
            Json::String(v) => s.serialize_str(v),
            Json::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(members) => {
                let mut map = s.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// Members keep their order (serde_json's `Value` would sort them).
impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{MapAccess, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_newtype_struct<D: serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Json, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(HANDOFF.take().unwrap_or(Json::Null))
            }
            fn visit_none<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
                serde::Deserialize::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Number(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Number(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Json, E> {
                if v.is_finite() {
                    Ok(Json::Number(v.to_string()))
                } else {
                    Err(E::custom("a non-finite number"))
                }
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::String(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Json, E> {
                Ok(Json::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Json::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(Json::Object(members))
            }
        }
        d.deserialize_newtype_struct(TREE, V)
    }
}

#[cfg(test)]
mod tests;
