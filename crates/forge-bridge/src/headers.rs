//! Header lists, and the normalisation the Fetch `Headers` class applies.
//!
//! `requestRemote` sends `[...new Request('', init).headers.entries()]` and wraps the host's
//! answer in `new Response(body, {headers})`. Both go through `Headers`: names lowercased and
//! sorted, repeated names combined with `", "`, values stripped of leading and trailing HTTP
//! whitespace, forbidden names silently dropped (checked against Chromium 156), invalid names or
//! values refused.

use serde::{ser::SerializeMap, Deserialize, Deserializer, Serialize, Serializer};

use crate::json::Json;

/// Name/value pairs in order. Serialises as a JSON object; deserialises from one whose values
/// are strings or arrays (joined with `,`, as both `invokeRemote` and `String(array)` do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// The first value whose name matches, ignoring ASCII case.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<(String, String)> {
        self.0
    }
}

impl From<Vec<(String, String)>> for Headers {
    fn from(v: Vec<(String, String)>) -> Self {
        Self(v)
    }
}

impl Serialize for Headers {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (n, v) in &self.0 {
            map.serialize_entry(n, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Values are stringified as JavaScript would, so read the JSON first, then convert.
        match Json::deserialize(d)? {
            Json::Null => Ok(Headers::new()),
            Json::Object(members) => members
                .into_iter()
                .map(|(name, value)| Ok((name, header_value(value)?)))
                .collect::<Result<_, _>>()
                .map(Headers),
            _ => Err("headers are not an object"),
        }
        .map_err(serde::de::Error::custom)
    }
}

/// A header value as JavaScript would stringify it: a string, or an array joined with `,`
/// (`[null].join(',')` is `""`).
fn header_value(v: Json) -> Result<String, &'static str> {
    Ok(match v {
        Json::String(s) => s,
        Json::Bool(b) => if b { "true" } else { "false" }.to_owned(),
        Json::Null => String::new(),
        Json::Number(n) => whole_number(&n).ok_or("a fractional header value")?,
        Json::Array(items) => {
            let mut out = String::new();
            for (i, item) in items.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&header_value(item)?);
            }
            out
        }
        Json::Object(_) => return Err("an object as a header value"),
    })
}

/// A whole number (below 2^53 in magnitude) as JavaScript's `String(n)` prints it; `None` for
/// anything else, rather than linking float parsing and formatting into the bundle for a value
/// no host sends. Works on the JSON text: `-0` is `0`, `2.0` and `2e0` are `2`.
fn whole_number(text: &str) -> Option<String> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], unsigned[i + 1..].parse::<i32>().ok()?),
        None => (unsigned, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    // digits × 10^shift
    let mut digits = String::from(int.trim_start_matches('0'));
    digits.push_str(frac);
    let mut shift = exponent.checked_sub(i32::try_from(frac.len()).ok()?)?;
    while shift < 0 && digits.ends_with('0') {
        digits.pop();
        shift += 1;
    }
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Some("0".into());
    }
    if shift < 0 || digits.len() as i64 + i64::from(shift) > 16 {
        return None;
    }
    let mut n: u64 = digits.parse().ok()?;
    for _ in 0..shift {
        n *= 10;
    }
    (n < 1 << 53).then(|| {
        let n = n.to_string();
        if negative {
            "-".to_owned() + &n
        } else {
            n
        }
    })
}

/// Which `Headers` guard applies: what a `Request` or a `Response` silently drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Guard {
    Request,
    Response,
}

impl Guard {
    fn class(self) -> &'static str {
        match self {
            Guard::Request => "Failed to construct 'Request': ",
            Guard::Response => "Failed to construct 'Response': ",
        }
    }
}

/// Forbidden request-header names (Fetch standard), lowercase.
const FORBIDDEN_REQUEST: &[&str] = &[
    "accept-charset",
    "accept-encoding",
    "access-control-request-headers",
    "access-control-request-method",
    "connection",
    "content-length",
    "cookie",
    "cookie2",
    "date",
    "dnt",
    "expect",
    "host",
    "keep-alive",
    "origin",
    "referer",
    "set-cookie",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
];

fn is_forbidden(guard: Guard, name: &str, value: &str) -> bool {
    match guard {
        Guard::Response => name == "set-cookie" || name == "set-cookie2",
        Guard::Request => {
            FORBIDDEN_REQUEST.contains(&name)
                || name.starts_with("proxy-")
                || name.starts_with("sec-")
                || (matches!(
                    name,
                    "x-http-method" | "x-http-method-override" | "x-method-override"
                ) && value.split(',').any(|m| {
                    let m = m.trim_matches(is_http_whitespace);
                    ["connect", "trace", "track"]
                        .iter()
                        .any(|f| m.eq_ignore_ascii_case(f))
                }))
        }
    }
}

fn is_http_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// What `new Headers(pairs)` under `guard` holds, as its `entries()` list it.
pub(crate) fn normalise<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    guard: Guard,
) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, value) in pairs {
        // A JS string with a code point above U+00FF is not a ByteString.
        if name
            .chars()
            .chain(value.chars())
            .any(|c| u32::from(c) > 0xFF)
        {
            return Err(format!(
                "{}Failed to read the 'headers' property from '{}Init': String contains non ISO-8859-1 code point.",
                guard.class(),
                if guard == Guard::Request { "Request" } else { "Response" }
            ));
        }
        let value = value.trim_matches(is_http_whitespace);
        if !is_token(name) {
            return Err(format!("{}Invalid name", guard.class()));
        }
        if value.contains(['\0', '\r', '\n']) {
            return Err(format!("{}Invalid value", guard.class()));
        }
        let name = name.to_ascii_lowercase();
        if is_forbidden(guard, &name, value) {
            continue;
        }
        // Kept sorted by name as it is built: a handful of headers need no sort routine in
        // the bundle.
        let at = out.partition_point(|(n, _)| *n < name);
        match out.get_mut(at) {
            Some((n, v)) if *n == name => {
                v.push_str(", ");
                v.push_str(value);
            }
            _ => out.insert(at, (name, value.to_owned())),
        }
    }
    Ok(out)
}

/// Extracting a string body adds this content type when none is set.
pub(crate) const TEXT_PLAIN: &str = "text/plain;charset=UTF-8";

/// Adds `content-type: text/plain;charset=UTF-8` to a normalised list that has none, keeping it
/// sorted.
pub(crate) fn default_content_type(headers: &mut Vec<(String, String)>) {
    if !headers.iter().any(|(n, _)| n == "content-type") {
        let at = headers.partition_point(|(n, _)| n.as_str() < "content-type");
        headers.insert(at, ("content-type".to_owned(), TEXT_PLAIN.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(pairs: &[(&str, &str)]) -> Result<Vec<(String, String)>, String> {
        normalise(pairs.iter().copied(), Guard::Request)
    }

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn names_are_lowercased_sorted_and_combined() {
        let out = norm(&[
            ("X-B", " spaced\t "),
            ("a", "2"),
            ("x-b", "two"),
            ("B", "1"),
        ])
        .unwrap();
        assert_eq!(
            out,
            owned(&[("a", "2"), ("b", "1"), ("x-b", "spaced, two")])
        );
    }

    #[test]
    fn forbidden_request_headers_are_dropped_silently() {
        let out = norm(&[
            ("Origin", "a"),
            ("Cookie", "c"),
            ("Content-Length", "3"),
            ("Sec-Foo", "x"),
            ("Proxy-A", "y"),
            ("X-HTTP-Method-Override", "TRACE"),
            ("X-Method-Override", "GET"),
            ("Host", "h"),
            ("Accept", "application/json"),
        ])
        .unwrap();
        assert_eq!(
            out,
            owned(&[("accept", "application/json"), ("x-method-override", "GET")])
        );
    }

    #[test]
    fn invalid_names_and_values_are_refused_like_chromium() {
        assert_eq!(
            norm(&[("a b", "x")]).unwrap_err(),
            "Failed to construct 'Request': Invalid name"
        );
        assert_eq!(
            norm(&[("", "x")]).unwrap_err(),
            "Failed to construct 'Request': Invalid name"
        );
        assert_eq!(
            norm(&[("a", "x\ny")]).unwrap_err(),
            "Failed to construct 'Request': Invalid value"
        );
        assert!(norm(&[("a", "€")])
            .unwrap_err()
            .ends_with("non ISO-8859-1 code point."));
        assert_eq!(norm(&[("a", "é")]).unwrap(), owned(&[("a", "é")]));
    }

    #[test]
    fn response_guard_drops_only_set_cookie() {
        let out = normalise(
            [("Set-Cookie", "a=b"), ("Origin", "o"), ("X-Z", "1")],
            Guard::Response,
        )
        .unwrap();
        assert_eq!(out, owned(&[("origin", "o"), ("x-z", "1")]));
    }

    #[test]
    fn the_default_content_type_is_inserted_in_order() {
        let mut h = owned(&[("accept", "x"), ("x-a", "1")]);
        default_content_type(&mut h);
        assert_eq!(
            h,
            owned(&[("accept", "x"), ("content-type", TEXT_PLAIN), ("x-a", "1")])
        );
        let mut h = owned(&[("content-type", "application/json")]);
        default_content_type(&mut h);
        assert_eq!(h, owned(&[("content-type", "application/json")]));
    }

    #[test]
    fn whole_numbers_print_like_javascript() {
        for (json, js) in [
            ("0", Some("0")),
            ("-0", Some("0")),
            ("-0.0", Some("0")),
            ("42", Some("42")),
            ("-42", Some("-42")),
            ("2.0", Some("2")),
            ("2.50e1", Some("25")),
            ("1e3", Some("1000")),
            ("1200e-2", Some("12")),
            ("0.000e5", Some("0")),
            ("9007199254740991", Some("9007199254740991")),
            ("9007199254740992", None),
            ("1e16", None),
            ("1.5", None),
            ("1e-1", None),
            ("123456789012345678901234567890", None),
        ] {
            assert_eq!(whole_number(json).as_deref(), js, "{json}");
        }
    }

    #[test]
    fn header_objects_decode_with_arrays_joined() {
        let h: Headers =
            serde_json::from_str(r#"{"A":["x","y"],"b":"z","n":5,"e":[],"f":2.0}"#).unwrap();
        assert_eq!(
            h.into_vec(),
            owned(&[("A", "x,y"), ("b", "z"), ("n", "5"), ("e", ""), ("f", "2")])
        );
        let h: Headers = serde_json::from_str(r#"{"Content-Type":"a"}"#).unwrap();
        assert_eq!(
            crate::json::from_str::<Headers>("null").unwrap(),
            Headers::new()
        );
        assert!(serde_json::from_str::<Headers>(r#"{"a":{"b":1}}"#).is_err());
        assert!(serde_json::from_str::<Headers>(r#"{"a":1.5}"#).is_err());
        assert_eq!(h.get("content-type"), Some("a"));
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            r#"{"Content-Type":"a"}"#
        );
    }
}
