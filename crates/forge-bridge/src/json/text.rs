//! The JSON text reader and writer under the codec: a strict parser into [`Json`] and a string
//! escaper, both following RFC 8259 and `JSON.stringify`.

use super::{Error, Json};

/// How deep arrays and objects may nest (serde_json's limit too).
const MAX_DEPTH: u32 = 128;

/// Parses JSON text (RFC 8259, no extensions), like `JSON.parse`.
pub(super) fn parse(text: &str) -> Result<Json, Error> {
    let mut p = Parser { text, i: 0 };
    let v = p.value(0)?;
    p.ws();
    if p.i == text.len() {
        Ok(v)
    } else {
        Err(Error::syntax())
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
    fn expect(&mut self, token: &str) -> Result<(), Error> {
        self.ws();
        if self.eat(token) {
            Ok(())
        } else {
            Err(Error::syntax())
        }
    }

    fn value(&mut self, depth: u32) -> Result<Json, Error> {
        self.ws();
        if depth > MAX_DEPTH {
            return Err(Error::syntax());
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
                            return Err(Error::syntax());
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
            _ => return Err(Error::syntax()),
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
    fn number(&mut self) -> Result<String, Error> {
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
            Err(Error::syntax())
        }
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let hex = self.text.get(self.i..self.i + 4).ok_or(Error::syntax())?;
        self.i += 4;
        // `from_str_radix` would accept a leading `+`.
        if hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            u32::from_str_radix(hex, 16).map_err(|_| Error::syntax())
        } else {
            Err(Error::syntax())
        }
    }

    /// A string, the opening quote next.
    fn string(&mut self) -> Result<String, Error> {
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
                                    return Err(Error::syntax());
                                }
                                let low = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return Err(Error::syntax());
                                }
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                            }
                            out.push(char::from_u32(code).ok_or(Error::syntax())?);
                            continue;
                        }
                        _ => return Err(Error::syntax()),
                    };
                    self.i += 1;
                    out.push(c);
                }
                // End of text, or an unescaped control character.
                _ => return Err(Error::syntax()),
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
