//! The codec against serde_json, the remote's JSON: same text out, same values in.

use super::*;
use serde::Deserialize;
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
        // serde_json rewrites some numbers (`-0` as `-0.0`, `1E+2` as `100.0`); numbers keep
        // their text here, as JavaScript would print them.
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
        assert_eq!(Json::parse(bad), Err(Error::syntax()), "{bad:?}");
        assert!(serde_json::from_str::<Value>(bad).is_err(), "{bad:?}");
    }
    let deep = "[".repeat(200) + &"]".repeat(200);
    assert!(Json::parse(&deep).is_err());
}

#[test]
fn strings_escape_like_serde_json() {
    let s = "quote \" backslash \\ slash / nl \n cr \r tab \t bs \u{8} ff \u{c} nul \u{0} us \u{1f} del \u{7f} é 😀";
    assert_eq!(to_string(s).unwrap(), serde_json::to_string(s).unwrap());
    let mut out = String::new();
    write_str(&mut out, s);
    assert_eq!(Json::parse(&out).unwrap(), Json::String(s.to_owned()));
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sample {
    id: String,
    is_done: bool,
    count: u32,
    delta: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    maybe: Option<u16>,
    #[serde(default)]
    tags: Vec<String>,
    kind: Kind,
    shape: Shape,
    pair: (u8, String),
    score: f64,
    #[serde(rename = "type")]
    kind_name: String,
    newtype: Id,
    unit: (),
    map: std::collections::BTreeMap<String, u8>,
    numbered: std::collections::BTreeMap<u32, bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Id(String);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    OneThing,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Shape {
    Point,
    Circle(u32),
    Rect { w: u32, h: u32 },
    Pair(u8, u8),
}

fn sample(shape: Shape) -> Sample {
    Sample {
        id: "t \"1\" é".into(),
        is_done: true,
        count: u32::MAX,
        delta: i64::MIN,
        owner: None,
        maybe: Some(7),
        tags: vec!["a".into(), "b".into()],
        kind: Kind::OneThing,
        shape,
        pair: (255, "x".into()),
        score: 0.25,
        kind_name: "task".into(),
        newtype: Id("n".into()),
        unit: (),
        map: [("z".to_owned(), 1), ("a".to_owned(), 2)].into(),
        numbered: [(3, true), (10, false)].into(),
    }
}

#[test]
fn typed_values_read_and_write_as_serde_json_does() {
    for shape in [
        Shape::Point,
        Shape::Circle(3),
        Shape::Rect { w: 1, h: 2 },
        Shape::Pair(1, 2),
    ] {
        let v = sample(shape);
        let ours = to_string(&v).unwrap();
        assert_eq!(ours, serde_json::to_string(&v).unwrap());
        assert_eq!(from_str::<Sample>(&ours).unwrap(), v);
        assert_eq!(to_value(&v).unwrap().to_text(), ours);
    }
}

#[test]
fn reads_follow_serde_defaults() {
    #[derive(Debug, PartialEq, Deserialize)]
    struct Lenient {
        a: Option<String>,
        #[serde(default)]
        b: String,
    }
    // Unknown members are ignored; missing options read as `None`; `null` is `None`.
    assert_eq!(
        from_str::<Lenient>(r#"{"x":{"deep":[1.5,2e9]},"a":null}"#).unwrap(),
        Lenient {
            a: None,
            b: String::new()
        }
    );

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Strict {
        a: u8,
    }
    assert!(from_str::<Strict>(r#"{"a":1,"b":2}"#).is_err());
    assert!(serde_json::from_str::<Strict>(r#"{"a":1,"b":2}"#).is_err());

    assert_eq!(from_str::<u32>("4294967295"), Ok(u32::MAX));
    for bad in ["4294967296", "-1", "1.0", "1e2", "\"1\"", "null"] {
        assert!(from_str::<u32>(bad).is_err(), "{bad}");
        assert!(serde_json::from_str::<u32>(bad).is_err(), "{bad}");
    }
    assert_eq!(from_str::<i64>("-42"), Ok(-42));
    assert_eq!(from_str::<i64>("-9223372036854775808"), Ok(i64::MIN));
    assert!(from_str::<i64>("-9223372036854775809").is_err());
    assert_eq!(from_str::<u64>("18446744073709551615"), Ok(u64::MAX));
    assert!(from_str::<u64>("18446744073709551616").is_err());
    assert_eq!(from_str::<i64>("-0"), Ok(0));
    assert_eq!(from_str::<u8>("-0"), Ok(0));
    assert_eq!(from_str::<f64>("-2.5e3"), Ok(-2500.0));
    assert_eq!(from_str::<f32>("1"), Ok(1.0));
    assert_eq!(from_str::<Vec<bool>>("[true,false]"), Ok(vec![true, false]));
    assert_eq!(from_str::<()>("null"), Ok(()));
    assert!(from_str::<(u8, u8)>("[1,2,3]").is_err());
    assert!(from_str::<Kind>(r#""nope""#).is_err());
}

#[test]
fn errors_say_what_was_wrong_without_the_value() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct T {
        title: String,
        n: u16,
    }
    assert_eq!(
        from_str::<T>(r#"{"n":1}"#).unwrap_err().to_string(),
        "missing field `title`"
    );
    assert_eq!(
        from_str::<T>(r#"{"title":"secret","n":"x"}"#)
            .unwrap_err()
            .to_string(),
        "invalid type: a string, expected u16"
    );
    assert_eq!(
        from_str::<T>(r#"{"title":"a","n":70000}"#)
            .unwrap_err()
            .to_string(),
        "invalid value: a number, expected u16"
    );
    assert_eq!(Error::syntax().to_string(), "invalid JSON");
    assert!(from_str::<T>("{").is_err());
}

#[test]
fn self_describing_reads_see_integers_only() {
    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(tag = "type")]
    enum Tagged {
        A { n: u32 },
        F { x: f64 },
    }
    assert_eq!(
        from_str::<Tagged>(r#"{"type":"A","n":5}"#).unwrap(),
        Tagged::A { n: 5 }
    );
    // The documented limit: a fraction inside a buffered (tagged) value.
    assert!(from_str::<Tagged>(r#"{"type":"F","x":0.5}"#).is_err());
    assert_eq!(
        serde_json::from_str::<Tagged>(r#"{"type":"F","x":0.5}"#).unwrap(),
        Tagged::F { x: 0.5 }
    );
}

#[test]
fn json_values_keep_numbers_and_order() {
    let text = r#"{"z":1,"a":[2.5,-3,1E+2],"m":{"y":null,"b":"x"}}"#;
    // Read by this codec, by serde_json, or by the parser: the same tree, numbers as written
    // by this codec and the parser.
    let parsed = Json::parse(text).unwrap();
    assert_eq!(from_str::<Json>(text).unwrap(), parsed);
    // Through `Serialize`, as with any serializer, a number is an integer or an f64.
    assert_eq!(
        to_string(&parsed).unwrap(),
        r#"{"z":1,"a":[2.5,-3,100],"m":{"y":null,"b":"x"}}"#
    );
    let nested: Vec<Json> = from_str(r#"[{"n":0.1},7]"#).unwrap();
    assert_eq!(nested[0].to_text(), r#"{"n":0.1}"#);
    // serde_json reads floats as f64, so only its shortest form survives.
    let via_serde_json: Json = serde_json::from_str(text).unwrap();
    assert_eq!(
        via_serde_json.to_text(),
        r#"{"z":1,"a":[2.5,-3,100],"m":{"y":null,"b":"x"}}"#
    );
    let v = json!({"a": [1, 2.5, "x", null, {"b": false}]});
    let j: Json = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(serde_json::to_value(&j).unwrap(), v);
    // Into another self-describing type, fractions are the documented limit.
    assert!(from_value::<Value>(j).is_err());
    let ints = json!({"a": [1, -2, "x", null, {"b": false}]});
    assert_eq!(from_value::<Value>(to_value(&ints).unwrap()).unwrap(), ints);
}

#[test]
fn maps_need_string_or_integer_keys() {
    let bad: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
    assert!(to_string(&bad).is_err());
    assert!(serde_json::to_string(&bad).is_err());
    assert_eq!(to_string(&f64::NAN).unwrap(), "null");
}
