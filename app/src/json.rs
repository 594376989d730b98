//! The JSON the panel itself reads and writes: a value tree, a strict parser, a compact printer,
//! and hand-written conversions ([`FromJson`], [`ToJson`]) for the types that cross the bridge.
//!
//! Why not serde_json in the bundle: every derived `Deserialize` is monomorphised into the wasm
//! for each type, and serde's error messages drag in float formatting and Unicode tables. For
//! the panel that was well over 100 KB of wasm, about half of the whole bundle. This module is a
//! few KB. The remote keeps serde (the types still derive it), and the tests below check that
//! both agree on every type the panel decodes or sends.
//!
//! Numbers stay as their JSON text: the panel only ever reads integers from them.

use std::fmt;

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

/// Invalid JSON, or JSON of another shape than expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonError(&'static str);

impl JsonError {
    const SYNTAX: JsonError = JsonError("");
    /// A value of the wrong type; the member that holds it names it (see [`Members::take`]).
    const TYPE: JsonError = JsonError("?");

    /// An error about the member or value `what`.
    pub const fn at(what: &'static str) -> Self {
        JsonError(what)
    }

    fn or_member(self, key: &'static str) -> Self {
        if self.0 == Self::TYPE.0 {
            JsonError(key)
        } else {
            self
        }
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            "" => f.write_str("invalid JSON"),
            "?" => f.write_str("a JSON value of the wrong type"),
            what => {
                f.write_str("`")?;
                f.write_str(what)?;
                f.write_str("` is missing or of the wrong type")
            }
        }
    }
}

impl std::error::Error for JsonError {}

/// How deep arrays and objects may nest (serde_json's limit too).
const MAX_DEPTH: u32 = 128;

impl Json {
    /// Parses JSON text (RFC 8259, no extensions), like `JSON.parse`.
    pub fn parse(text: &str) -> Result<Json, JsonError> {
        let mut p = Parser { text, i: 0 };
        let v = p.value(0)?;
        p.ws();
        if p.i == text.len() {
            Ok(v)
        } else {
            Err(JsonError::SYNTAX)
        }
    }

    /// Compact JSON text, as `JSON.stringify` prints it.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
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

    /// Decodes as `T`.
    pub fn decode<T: FromJson>(self) -> Result<T, JsonError> {
        T::from_json(self)
    }

    /// Decodes with serde, for types the bundle does not need to read.
    pub fn to_serde<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.to_text())
    }

    /// Any serde value as JSON.
    pub fn from_serde<T: serde::Serialize + ?Sized>(value: &T) -> Result<Json, serde_json::Error> {
        let text = serde_json::to_string(value)?;
        // serde_json prints valid JSON, within its own depth limit.
        Json::parse(&text).map_err(serde::ser::Error::custom)
    }
}

struct Parser<'a> {
    text: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        let found = self.text[self.i..].starts_with(token);
        if found {
            self.i += token.len();
        }
        found
    }

    /// Whitespace, then `token`.
    fn expect(&mut self, token: &str) -> Result<(), JsonError> {
        self.ws();
        if self.eat(token) {
            Ok(())
        } else {
            Err(JsonError::SYNTAX)
        }
    }

    fn value(&mut self, depth: u32) -> Result<Json, JsonError> {
        self.ws();
        if depth > MAX_DEPTH {
            return Err(JsonError::SYNTAX);
        }
        Ok(match self.peek() {
            Some(b'n') if self.eat("null") => Json::Null,
            Some(b't') if self.eat("true") => Json::Bool(true),
            Some(b'f') if self.eat("false") => Json::Bool(false),
            Some(b'"') => Json::String(self.string()?),
            Some(b'-' | b'0'..=b'9') => Json::Number(self.number()?),
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if !self.eat("]") {
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.ws();
                        if self.eat("]") {
                            break;
                        }
                        self.expect(",")?;
                    }
                }
                Json::Array(items)
            }
            Some(b'{') => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if !self.eat("}") {
                    loop {
                        self.ws();
                        if self.peek() != Some(b'"') {
                            return Err(JsonError::SYNTAX);
                        }
                        let key = self.string()?;
                        self.expect(":")?;
                        members.push((key, self.value(depth + 1)?));
                        self.ws();
                        if self.eat("}") {
                            break;
                        }
                        self.expect(",")?;
                    }
                }
                Json::Object(members)
            }
            _ => return Err(JsonError::SYNTAX),
        })
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Result<String, JsonError> {
        let start = self.i;
        self.eat("-");
        let int_start = self.i;
        let int = self.digits();
        let ok = (int == 1 || (int > 1 && self.text.as_bytes()[int_start] != b'0'))
            && (!self.eat(".") || self.digits() > 0)
            && (!(self.eat("e") || self.eat("E")) || {
                let _ = self.eat("+") || self.eat("-");
                self.digits() > 0
            });
        if ok {
            Ok(self.text[start..self.i].to_owned())
        } else {
            Err(JsonError::SYNTAX)
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let hex = self.text.get(self.i..self.i + 4).ok_or(JsonError::SYNTAX)?;
        self.i += 4;
        // `from_str_radix` would accept a leading `+`.
        if hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            u32::from_str_radix(hex, 16).map_err(|_| JsonError::SYNTAX)
        } else {
            Err(JsonError::SYNTAX)
        }
    }

    /// A string, the opening quote next.
    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let run = self.i;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.i += 1;
            }
            // Quotes and backslashes are ASCII, so the run ends on a character boundary.
            out.push_str(&self.text[run..self.i]);
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.i += 1;
                            let mut code = self.hex4()?;
                            if (0xD800..0xDC00).contains(&code) {
                                // A high surrogate must be followed by a low one.
                                if !self.eat("\\u") {
                                    return Err(JsonError::SYNTAX);
                                }
                                let low = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return Err(JsonError::SYNTAX);
                                }
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                            }
                            out.push(char::from_u32(code).ok_or(JsonError::SYNTAX)?);
                            continue;
                        }
                        _ => return Err(JsonError::SYNTAX),
                    };
                    self.i += 1;
                    out.push(c);
                }
                // End of text, or an unescaped control character.
                _ => return Err(JsonError::SYNTAX),
            }
        }
    }
}

/// Writes `s` as a JSON string, escaped as `JSON.stringify` and serde_json do.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        } else {
            out.push_str(escape);
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
    out.push('"');
}

/// A value the panel sends.
pub trait ToJson {
    fn write_json(&self, out: &mut String);

    fn to_json_text(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }
}

impl ToJson for Json {
    fn write_json(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => b.write_json(out),
            Json::Number(n) => out.push_str(n),
            Json::String(s) => write_str(out, s),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                let mut o = ObjectWriter::new(out);
                for (k, v) in members {
                    o.member(k, v);
                }
                o.end();
            }
        }
    }
}

impl ToJson for str {
    fn write_json(&self, out: &mut String) {
        write_str(out, self)
    }
}

impl ToJson for String {
    fn write_json(&self, out: &mut String) {
        write_str(out, self)
    }
}

impl ToJson for bool {
    fn write_json(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" })
    }
}

impl ToJson for () {
    fn write_json(&self, out: &mut String) {
        out.push_str("null")
    }
}

impl<T: ToJson + ?Sized> ToJson for &T {
    fn write_json(&self, out: &mut String) {
        (**self).write_json(out)
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn write_json(&self, out: &mut String) {
        match self {
            Some(v) => v.write_json(out),
            None => out.push_str("null"),
        }
    }
}

/// Writes an object member by member: `{"a":1,"b":2}`.
pub struct ObjectWriter<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> ObjectWriter<'a> {
    pub fn new(out: &'a mut String) -> Self {
        out.push('{');
        Self { out, first: true }
    }

    pub fn member<T: ToJson + ?Sized>(&mut self, key: &str, value: &T) -> &mut Self {
        value.write_json(self.key(key));
        self
    }

    /// Starts the member `key`; its value is to be written next, into the returned text.
    pub fn key(&mut self, key: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        write_str(self.out, key);
        self.out.push(':');
        self.out
    }

    /// The member only when there is a value (serde's `skip_serializing_if = "Option::is_none"`).
    pub fn member_if<T: ToJson>(&mut self, key: &str, value: &Option<T>) -> &mut Self {
        if let Some(v) = value {
            self.member(key, v);
        }
        self
    }

    pub fn end(&mut self) {
        self.out.push('}');
    }
}

/// A value the panel reads.
pub trait FromJson: Sized {
    fn from_json(v: Json) -> Result<Self, JsonError>;

    /// What a missing object member reads as: an error, unless the type can be absent.
    fn absent() -> Option<Self> {
        None
    }
}

impl FromJson for Json {
    fn from_json(v: Json) -> Result<Self, JsonError> {
        Ok(v)
    }
}

impl FromJson for String {
    fn from_json(v: Json) -> Result<Self, JsonError> {
        match v {
            Json::String(s) => Ok(s),
            _ => Err(JsonError::TYPE),
        }
    }
}

impl FromJson for bool {
    fn from_json(v: Json) -> Result<Self, JsonError> {
        match v {
            Json::Bool(b) => Ok(b),
            _ => Err(JsonError::TYPE),
        }
    }
}

/// Integers: a number without fraction or exponent, in range (serde_json's rule as well).
macro_rules! integer_from_json {
    ($($t:ty),*) => {$(
        impl FromJson for $t {
            fn from_json(v: Json) -> Result<Self, JsonError> {
                match v {
                    Json::Number(n) => n.parse().map_err(|_| JsonError::TYPE),
                    _ => Err(JsonError::TYPE),
                }
            }
        }
        impl ToJson for $t {
            fn write_json(&self, out: &mut String) {
                out.push_str(&self.to_string())
            }
        }
    )*};
}
integer_from_json!(u16, u32, i64);

/// `null`; what a bodiless answer (`204`) reads as.
impl FromJson for () {
    fn from_json(v: Json) -> Result<Self, JsonError> {
        match v {
            Json::Null => Ok(()),
            _ => Err(JsonError::TYPE),
        }
    }
}

/// `null` or missing reads as `None`.
impl<T: FromJson> FromJson for Option<T> {
    fn from_json(v: Json) -> Result<Self, JsonError> {
        match v {
            Json::Null => Ok(None),
            v => T::from_json(v).map(Some),
        }
    }

    fn absent() -> Option<Self> {
        Some(None)
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(v: Json) -> Result<Self, JsonError> {
        match v {
            Json::Array(items) => items.into_iter().map(T::from_json).collect(),
            _ => Err(JsonError::TYPE),
        }
    }
}

/// The members of an object, taken one by one. Members nobody takes are ignored, as serde does
/// by default.
pub struct Members(Vec<(String, Json)>);

impl Members {
    /// The members of `v`, which must be an object.
    pub fn of(v: Json) -> Result<Members, JsonError> {
        match v {
            Json::Object(members) => Ok(Members(members)),
            _ => Err(JsonError::TYPE),
        }
    }

    /// A member that is present, `null` included; `None` only when it is missing.
    pub fn take_present(&mut self, key: &str) -> Option<Json> {
        let i = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.swap_remove(i).1)
    }

    /// A member as `T`; missing is an error unless `T` can be absent (`Option`).
    pub fn take<T: FromJson>(&mut self, key: &'static str) -> Result<T, JsonError> {
        match self.take_present(key) {
            Some(v) => T::from_json(v).map_err(|e| e.or_member(key)),
            None => T::absent().ok_or(JsonError(key)),
        }
    }

    /// A member as `T`, its default when missing (serde's `#[serde(default)]`).
    pub fn take_or_default<T: FromJson + Default>(
        &mut self,
        key: &'static str,
    ) -> Result<T, JsonError> {
        match self.take_present(key) {
            Some(v) => T::from_json(v).map_err(|e| e.or_member(key)),
            None => Ok(T::default()),
        }
    }
}

/// Decodes JSON text as `T`.
pub fn from_text<T: FromJson>(text: &str) -> Result<T, JsonError> {
    Json::parse(text)?.decode()
}

impl serde::Serialize for Json {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Number(n) => n
                .parse::<serde_json::Number>()
                .map_err(serde::ser::Error::custom)?
                .serialize(s),
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
        use serde::de::{Error, MapAccess, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
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
            fn visit_f64<E: Error>(self, v: f64) -> Result<Json, E> {
                serde_json::Number::from_f64(v)
                    .map(|n| Json::Number(n.to_string()))
                    .ok_or_else(|| E::custom("a non-finite number"))
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
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn round_trip(text: &str) -> String {
        Json::parse(text).unwrap().to_text()
    }

    #[test]
    fn parses_and_prints_like_serde_json() {
        for text in [
            r#"{"a":[1,-2,0.5,true,false,null],"b":{"c":"d"},"e":[],"f":{}}"#,
            r#""esc \" \\ / \b \f \n \r \t \u0001 \u00e9 \ud83d\ude00 é""#,
            "0.25",
            r#"[[[["deep"]]]]"#,
            "-0",
            "-2.5e3",
            "1E+2",
        ] {
            let ours = round_trip(text);
            let value = serde_json::from_str::<Value>(text).unwrap();
            assert_eq!(
                serde_json::from_str::<Value>(&ours).unwrap(),
                value,
                "{text}"
            );
            // serde_json rewrites some numbers (`-0` as `-0.0`, `1E+2` as `100.0`); numbers
            // keep their text here, as JavaScript would print them.
            if !matches!(text, "-0" | "-2.5e3" | "1E+2") {
                assert_eq!(ours, serde_json::to_string(&value).unwrap(), "{text}");
            }
        }
        assert_eq!(round_trip(" { \"a\" : [ 1 , 2 ] } \n"), r#"{"a":[1,2]}"#);
    }

    #[test]
    fn refuses_what_json_parse_refuses() {
        for bad in [
            "",
            " ",
            "nul",
            "tru",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "+1",
            "[1,]",
            "{\"a\":1,}",
            "[1 2]",
            "{\"a\" 1}",
            "{a:1}",
            "'a'",
            "\"a",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\u+123\"",
            "\"\\ud800\"",
            "\"\\ud800\\u0041\"",
            "\"tab\there\"",
            "[1]]",
            "{} {}",
            "NaN",
        ] {
            assert_eq!(Json::parse(bad), Err(JsonError::SYNTAX), "{bad:?}");
            assert!(serde_json::from_str::<Value>(bad).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(Json::parse(&deep).is_err());
    }

    #[test]
    fn strings_escape_like_serde_json() {
        let s = "quote \" backslash \\ slash / nl \n cr \r tab \t bs \u{8} ff \u{c} nul \u{0} us \u{1f} del \u{7f} é 😀";
        let mut out = String::new();
        write_str(&mut out, s);
        assert_eq!(out, serde_json::to_string(s).unwrap());
        assert_eq!(Json::parse(&out).unwrap(), Json::String(s.to_owned()));
    }

    #[test]
    fn members_decode_like_serde_defaults() {
        let mut m =
            Members::of(Json::parse(r#"{"s":"x","n":7,"o":null,"b":true}"#).unwrap()).unwrap();
        assert_eq!(m.take::<String>("s"), Ok("x".to_owned()));
        assert_eq!(m.take::<u16>("n"), Ok(7));
        assert_eq!(m.take::<Option<String>>("o"), Ok(None));
        assert_eq!(m.take::<Option<String>>("missing"), Ok(None));
        assert_eq!(m.take::<String>("missing"), Err(JsonError::at("missing")));
        assert_eq!(m.take_or_default::<String>("missing"), Ok(String::new()));
        assert_eq!(m.take::<String>("b"), Err(JsonError::at("b")));
        assert!(Members::of(Json::Null).is_err());

        assert_eq!(from_text::<u32>("4294967295"), Ok(u32::MAX));
        assert!(from_text::<u32>("4294967296").is_err());
        assert!(from_text::<u32>("-1").is_err());
        assert!(from_text::<u32>("1.0").is_err());
        assert!(from_text::<u32>("1e2").is_err());
        assert_eq!(from_text::<i64>("-42"), Ok(-42));
        assert_eq!(
            from_text::<Vec<bool>>("[true,false]"),
            Ok(vec![true, false])
        );
        assert_eq!(from_text::<()>("null"), Ok(()));
    }

    #[test]
    fn errors_name_the_member() {
        assert_eq!(JsonError::SYNTAX.to_string(), "invalid JSON");
        assert_eq!(
            JsonError::at("title").to_string(),
            "`title` is missing or of the wrong type"
        );
    }

    #[test]
    fn serde_adapters_round_trip() {
        let v = json!({"a": [1, 2.5, "x", null, {"b": false}]});
        let j = Json::from_serde(&v).unwrap();
        assert_eq!(j.to_text(), v.to_string());
        assert_eq!(j.to_serde::<Value>().unwrap(), v);
        assert_eq!(serde_json::to_value(&j).unwrap(), v);
        assert_eq!(serde_json::from_value::<Json>(v.clone()).unwrap(), j);
        let ordered = r#"{"z":1,"a":[2.5,-3],"m":{"y":null,"b":"x"}}"#;
        assert_eq!(
            serde_json::from_str::<Json>(ordered).unwrap(),
            Json::parse(ordered).unwrap()
        );
    }

    #[test]
    fn objects_are_written_member_by_member() {
        let mut out = String::new();
        ObjectWriter::new(&mut out)
            .member("a", "x")
            .member_if("skipped", &None::<bool>)
            .member_if("b", &Some(1u32))
            .member("c", &Json::Array(vec![Json::Null]))
            .end();
        assert_eq!(out, r#"{"a":"x","b":1,"c":[null]}"#);
    }
}
