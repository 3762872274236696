//! cty's JSON encodings: values (`DynamicValue.json`, `RawState.json`) and type constraints (schema attribute
//! types, the type half of a dynamic value).
//!
//! Values follow go-cty's JSON package: objects and maps are JSON objects, lists, sets and tuples are arrays,
//! numbers are JSON numbers in plain notation (big decimals keep every digit), a value of dynamic type is
//! `{"value": ..., "type": ...}`, and unknown values cannot be written. When reading, cty's primitive conversions
//! apply (a string `"true"` for a bool, a number for a string). Output escapes strings as Go's encoding/json does,
//! so bytes match what Terraform itself writes.
//!
//! This module must not know about msgpack, schemas or the protocol.

use std::collections::BTreeMap;

use super::conform::{
    check_attached_type, check_object_keys, check_tuple_len, invalid_number, mismatch, missing_attribute,
    unexpected_attribute,
};
use super::error::{CtyError, ErrorKind};
use super::path::{AttributePath, PathStep};
use super::types::Type;
use super::value::{Number, Value};

/// Nesting deeper than this is refused, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 256;

/// How to treat an object attribute that the JSON leaves out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Missing {
    Error,
    Null,
}

/// Decodes a JSON value of type `ty`. Every attribute of an object type must be present; attributes the type does
/// not declare are errors.
pub fn decode_json(ty: &Type, bytes: &[u8]) -> Result<Value, CtyError> {
    let doc = parse_document(bytes)?;
    from_json(&doc, ty, &mut AttributePath::root(), Missing::Error)
}

/// Like `decode_json`, but an object attribute missing from the JSON decodes as null (go-cty's own behaviour).
/// Use it for `RawState` in UpgradeResourceState, where state written by an older schema may lack attributes.
/// Attributes the type does not declare are still errors, reported at their path.
pub fn decode_json_lenient(ty: &Type, bytes: &[u8]) -> Result<Value, CtyError> {
    let doc = parse_document(bytes)?;
    from_json(&doc, ty, &mut AttributePath::root(), Missing::Null)
}

/// Encodes a value of type `ty` as JSON. Fails, with the path, when the value does not fit the type, or holds an
/// unknown value or an infinity anywhere (JSON has no way to write them).
pub fn encode_json(ty: &Type, v: &Value) -> Result<Vec<u8>, CtyError> {
    let mut out = String::new();
    to_json(&mut out, ty, v, &mut AttributePath::root())?;
    Ok(out.into_bytes())
}

impl Type {
    /// Reads a type constraint in cty's JSON form: `"string"`, `["list","string"]`, `["object",{"a":"bool"}]`,
    /// `["tuple",["string","number"]]`, `"dynamic"`. The optional-attributes list that may follow an object's
    /// attributes is accepted and ignored.
    pub fn from_json(bytes: &[u8]) -> Result<Type, CtyError> {
        let doc = parse_document(bytes)?;
        type_from_json(&doc).map_err(|message| CtyError::new(ErrorKind::InvalidType, AttributePath::root(), message))
    }

    /// Writes the type constraint in cty's JSON form, byte for byte as go-cty does (attributes sorted, no spaces).
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = String::new();
        write_type(&mut out, self);
        out.into_bytes()
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Values

fn from_json(j: &Json, ty: &Type, path: &mut AttributePath, missing: Missing) -> Result<Value, CtyError> {
    if let Json::Null = j {
        return Ok(Value::Null);
    }
    let wrong = |path: &AttributePath| {
        CtyError::new(ErrorKind::TypeMismatch, path.clone(), format!("expected {ty}, got {}", j.kind_name()))
    };
    match ty {
        Type::Dynamic => {
            let Json::Object(members) = j else {
                return Err(CtyError::new(
                    ErrorKind::TypeMismatch,
                    path.clone(),
                    format!("expected a dynamic value ({{\"value\":...,\"type\":...}}), got {}", j.kind_name()),
                ));
            };
            let (mut concrete, mut body) = (None, None);
            for (key, member) in members {
                match key.as_str() {
                    "type" => {
                        let t = type_from_json(member).map_err(|message| {
                            CtyError::new(ErrorKind::InvalidType, path.clone(), format!("in dynamic value: {message}"))
                        })?;
                        concrete = Some(t);
                    }
                    "value" => body = Some(member),
                    other => {
                        return Err(CtyError::new(
                            ErrorKind::TypeMismatch,
                            path.clone(),
                            format!("invalid key {other:?} in dynamic value"),
                        ))
                    }
                }
            }
            let syntax = |what: &str| CtyError::new(ErrorKind::TypeMismatch, path.clone(), what.to_string());
            let concrete = concrete.ok_or_else(|| syntax("missing type in dynamic value"))?;
            let body = body.ok_or_else(|| syntax("missing value in dynamic value"))?;
            check_attached_type(&concrete, path)?;
            let inner = from_json(body, &concrete, path, missing)?;
            Ok(Value::Dynamic(Box::new(concrete), Box::new(inner)))
        }
        Type::Bool => match j {
            Json::Bool(b) => Ok(Value::Bool(*b)),
            // cty's string-to-bool conversion.
            Json::String(s) if s == "true" || s == "1" => Ok(Value::Bool(true)),
            Json::String(s) if s == "false" || s == "0" => Ok(Value::Bool(false)),
            _ => Err(wrong(path)),
        },
        Type::Number => match j {
            Json::Number(text) | Json::String(text) => Number::parse(text).map(Value::Number).ok_or_else(|| {
                CtyError::new(ErrorKind::InvalidNumber, path.clone(), format!("{text:?} is not a number"))
            }),
            _ => Err(wrong(path)),
        },
        Type::String => match j {
            Json::String(s) => Ok(Value::String(s.clone())),
            // cty keeps a JSON number's text as it was written, and spells bools as words.
            Json::Number(text) => Ok(Value::String(text.clone())),
            Json::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(wrong(path)),
        },
        Type::List(e) | Type::Set(e) => {
            let Json::Array(items) = j else { return Err(wrong(path)) };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.0.push(PathStep::Index(i as i64));
                out.push(from_json(item, e, path, missing)?);
                path.0.pop();
            }
            Ok(if matches!(ty, Type::List(_)) { Value::List(out) } else { Value::Set(out) })
        }
        Type::Map(e) => {
            let Json::Object(members) = j else { return Err(wrong(path)) };
            let mut out = BTreeMap::new();
            for (key, member) in members {
                path.0.push(PathStep::Key(key.clone()));
                let v = from_json(member, e, path, missing)?;
                if out.insert(key.clone(), v).is_some() {
                    return Err(CtyError::new(ErrorKind::Syntax, path.clone(), "duplicate map key"));
                }
                path.0.pop();
            }
            Ok(Value::Map(out))
        }
        Type::Object(attrs) => {
            let Json::Object(members) = j else { return Err(wrong(path)) };
            let mut out = BTreeMap::new();
            for (name, member) in members {
                let Some(attr_ty) = attrs.get(name) else { return Err(unexpected_attribute(path, name)) };
                path.0.push(PathStep::Attr(name.clone()));
                let v = from_json(member, attr_ty, path, missing)?;
                if out.insert(name.clone(), v).is_some() {
                    return Err(CtyError::new(ErrorKind::Syntax, path.clone(), "duplicate attribute"));
                }
                path.0.pop();
            }
            for name in attrs.keys() {
                if !out.contains_key(name) {
                    match missing {
                        Missing::Error => return Err(missing_attribute(path, name)),
                        Missing::Null => {
                            out.insert(name.clone(), Value::Null);
                        }
                    }
                }
            }
            Ok(Value::Object(out))
        }
        Type::Tuple(types) => {
            let Json::Array(items) = j else { return Err(wrong(path)) };
            check_tuple_len(types, items, path)?;
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, item_ty)) in items.iter().zip(types).enumerate() {
                path.0.push(PathStep::Index(i as i64));
                out.push(from_json(item, item_ty, path, missing)?);
                path.0.pop();
            }
            Ok(Value::Tuple(out))
        }
    }
}

fn to_json(out: &mut String, ty: &Type, v: &Value, path: &mut AttributePath) -> Result<(), CtyError> {
    match (ty, v) {
        (_, Value::Unknown(_)) => Err(CtyError::new(
            ErrorKind::UnknownValue,
            path.clone(),
            "value is not known, so it cannot be written as json",
        )),
        (_, Value::Null) => {
            out.push_str("null");
            Ok(())
        }
        (Type::Dynamic, Value::Dynamic(concrete, inner)) => {
            check_attached_type(concrete, path)?;
            out.push_str("{\"value\":");
            to_json(out, concrete, inner, path)?;
            out.push_str(",\"type\":");
            write_type(out, concrete);
            out.push('}');
            Ok(())
        }
        (Type::Bool, Value::Bool(b)) => {
            out.push_str(if *b { "true" } else { "false" });
            Ok(())
        }
        (Type::Number, Value::Number(n)) => match n.to_text() {
            Some(text) => {
                out.push_str(&text);
                Ok(())
            }
            None if n.is_valid() => {
                Err(CtyError::new(ErrorKind::InvalidNumber, path.clone(), "cannot write infinity as json"))
            }
            None => Err(invalid_number(path, n)),
        },
        (Type::String, Value::String(s)) => {
            write_string(out, s);
            Ok(())
        }
        (Type::List(e), Value::List(items)) | (Type::Set(e), Value::Set(items)) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                path.0.push(PathStep::Index(i as i64));
                to_json(out, e, item, path)?;
                path.0.pop();
            }
            out.push(']');
            Ok(())
        }
        (Type::Map(e), Value::Map(items)) => {
            out.push('{');
            for (i, (key, item)) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                path.0.push(PathStep::Key(key.clone()));
                to_json(out, e, item, path)?;
                path.0.pop();
            }
            out.push('}');
            Ok(())
        }
        (Type::Object(attrs), Value::Object(values)) => {
            check_object_keys(attrs, values, path)?;
            out.push('{');
            for (i, (name, attr_ty)) in attrs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, name);
                out.push(':');
                path.0.push(PathStep::Attr(name.clone()));
                to_json(out, attr_ty, &values[name], path)?;
                path.0.pop();
            }
            out.push('}');
            Ok(())
        }
        (Type::Tuple(types), Value::Tuple(items)) => {
            check_tuple_len(types, items, path)?;
            out.push('[');
            for (i, (item, item_ty)) in items.iter().zip(types).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                path.0.push(PathStep::Index(i as i64));
                to_json(out, item_ty, item, path)?;
                path.0.pop();
            }
            out.push(']');
            Ok(())
        }
        _ => Err(mismatch(path, ty, v)),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Types

fn type_from_json(j: &Json) -> Result<Type, String> {
    match j {
        Json::String(name) => match name.as_str() {
            "bool" => Ok(Type::Bool),
            "number" => Ok(Type::Number),
            "string" => Ok(Type::String),
            "dynamic" => Ok(Type::Dynamic),
            other => Err(format!("invalid primitive type name {other:?}")),
        },
        Json::Array(parts) => {
            let Some(Json::String(kind)) = parts.first() else {
                return Err("invalid complex type: the first element must name the kind".to_string());
            };
            let expect_len = |n: usize| {
                if parts.len() == n {
                    Ok(())
                } else {
                    Err(format!("invalid {kind} type: expected {n} elements, got {}", parts.len()))
                }
            };
            match kind.as_str() {
                "list" | "set" | "map" => {
                    expect_len(2)?;
                    let element = Box::new(type_from_json(&parts[1])?);
                    Ok(match kind.as_str() {
                        "list" => Type::List(element),
                        "set" => Type::Set(element),
                        _ => Type::Map(element),
                    })
                }
                "object" => {
                    if parts.len() != 2 && parts.len() != 3 {
                        return Err(format!("invalid object type: expected 2 or 3 elements, got {}", parts.len()));
                    }
                    let Json::Object(members) = &parts[1] else {
                        return Err("invalid object type: attributes must be a json object".to_string());
                    };
                    let mut attrs = BTreeMap::new();
                    for (name, member) in members {
                        if attrs.insert(name.clone(), type_from_json(member)?).is_some() {
                            return Err(format!("invalid object type: duplicate attribute {name:?}"));
                        }
                    }
                    // The third element lists optional attributes (type constraints in modules). Values on the
                    // wire always have every attribute, so it changes nothing here; only its shape is checked.
                    if let Some(optional) = parts.get(2) {
                        let names_ok = match optional {
                            Json::Array(names) => {
                                names.iter().all(|n| matches!(n, Json::String(s) if attrs.contains_key(s)))
                            }
                            _ => false,
                        };
                        if !names_ok {
                            return Err(
                                "invalid object type: optional attributes must be a list of its attribute names"
                                    .to_string(),
                            );
                        }
                    }
                    Ok(Type::Object(attrs))
                }
                "tuple" => {
                    expect_len(2)?;
                    let Json::Array(elements) = &parts[1] else {
                        return Err("invalid tuple type: element types must be a json array".to_string());
                    };
                    Ok(Type::Tuple(elements.iter().map(type_from_json).collect::<Result<_, _>>()?))
                }
                other => Err(format!("invalid complex type kind {other:?}")),
            }
        }
        other => Err(format!("invalid type description: got {}", other.kind_name())),
    }
}

fn write_type(out: &mut String, ty: &Type) {
    match ty {
        Type::Bool => out.push_str("\"bool\""),
        Type::Number => out.push_str("\"number\""),
        Type::String => out.push_str("\"string\""),
        Type::Dynamic => out.push_str("\"dynamic\""),
        Type::List(e) | Type::Set(e) | Type::Map(e) => {
            out.push_str(match ty {
                Type::List(_) => "[\"list\",",
                Type::Set(_) => "[\"set\",",
                _ => "[\"map\",",
            });
            write_type(out, e);
            out.push(']');
        }
        Type::Object(attrs) => {
            out.push_str("[\"object\",{");
            for (i, (name, attr_ty)) in attrs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, name);
                out.push(':');
                write_type(out, attr_ty);
            }
            out.push_str("}]");
        }
        Type::Tuple(types) => {
            out.push_str("[\"tuple\",[");
            for (i, t) in types.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_type(out, t);
            }
            out.push_str("]]");
        }
    }
}

/// Writes a JSON string escaped as Go's encoding/json does by default: the short escapes, `\u00XX` for other
/// control characters, and `<`, `>`, `&`, U+2028, U+2029 as `\uXXXX` (Go's HTML-safe default).
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}') => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

// ---------------------------------------------------------------------------------------------------------------
// A small JSON reader that keeps number text exactly as written (serde_json would round big decimals) and keeps
// object members in order, duplicates included, so the decoder can report them.

#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn kind_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "bool",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }
}

fn parse_document(bytes: &[u8]) -> Result<Json, CtyError> {
    let mut parser = Parser { bytes, pos: 0 };
    let doc = parser.value(0)?;
    parser.skip_whitespace();
    if parser.pos != bytes.len() {
        return Err(parser.error("trailing data after the json value"));
    }
    Ok(doc)
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> CtyError {
        CtyError::new(ErrorKind::Syntax, AttributePath::root(), format!("invalid json at byte {}: {what}", self.pos))
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, CtyError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("unexpected character"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, CtyError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.skip_whitespace();
        match self.bytes.get(self.pos) {
            None => Err(self.error("unexpected end of input")),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'"') => self.string().map(Json::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_whitespace();
                if self.bytes.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.skip_whitespace();
                    match self.bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return Err(self.error("expected ',' or ']'")),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut members = Vec::new();
                self.skip_whitespace();
                if self.bytes.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    return Ok(Json::Object(members));
                }
                loop {
                    self.skip_whitespace();
                    if self.bytes.get(self.pos) != Some(&b'"') {
                        return Err(self.error("expected an object key"));
                    }
                    let key = self.string()?;
                    self.skip_whitespace();
                    if self.bytes.get(self.pos) != Some(&b':') {
                        return Err(self.error("expected ':'"));
                    }
                    self.pos += 1;
                    members.push((key, self.value(depth + 1)?));
                    self.skip_whitespace();
                    match self.bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Json::Object(members));
                        }
                        _ => return Err(self.error("expected ',' or '}'")),
                    }
                }
            }
            Some(_) => Err(self.error("unexpected character")),
        }
    }

    /// A JSON number, checked against the JSON grammar and kept as text.
    fn number(&mut self) -> Result<Json, CtyError> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let from = p.pos;
            while p.bytes.get(p.pos).is_some_and(u8::is_ascii_digit) {
                p.pos += 1;
            }
            p.pos - from
        };
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        let int_len = digits(self);
        if int_len == 0 || (int_len > 1 && self.bytes[int_start] == b'0') {
            return Err(self.error("invalid number"));
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return Err(self.error("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.error("invalid number"));
            }
        }
        // The grammar above admits only ASCII, so this slice is valid UTF-8.
        Ok(Json::Number(String::from_utf8_lossy(&self.bytes[start..self.pos]).into_owned()))
    }

    fn string(&mut self) -> Result<String, CtyError> {
        self.pos += 1; // the opening quote
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            let run = std::str::from_utf8(&self.bytes[run_start..self.pos])
                .map_err(|_| self.error("string is not valid utf-8"))?;
            out.push_str(run);
            match self.bytes.get(self.pos) {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escape = *self.bytes.get(self.pos).ok_or_else(|| self.error("unterminated string"))?;
                    self.pos += 1;
                    match escape {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let first = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&first) && self.bytes[self.pos..].starts_with(b"\\u") {
                                let save = self.pos;
                                self.pos += 2;
                                let second = self.hex4()?;
                                if (0xDC00..0xE000).contains(&second) {
                                    char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
                                } else {
                                    self.pos = save;
                                    None
                                }
                            } else {
                                char::from_u32(first)
                            };
                            // Like Go, a lone surrogate becomes the replacement character.
                            out.push(c.unwrap_or('\u{FFFD}'));
                        }
                        _ => return Err(self.error("invalid escape")),
                    }
                }
                Some(_) => return Err(self.error("control character in string")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, CtyError> {
        let hex = self.bytes.get(self.pos..self.pos + 4).ok_or_else(|| self.error("short \\u escape"))?;
        let text = std::str::from_utf8(hex).map_err(|_| self.error("invalid \\u escape"))?;
        let n = u32::from_str_radix(text, 16).map_err(|_| self.error("invalid \\u escape"))?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.error("invalid \\u escape"));
        }
        self.pos += 4;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{arb_type_and_known_value, arb_type_kind_mismatch};
    use super::*;
    use proptest::prelude::*;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    fn json(ty: &Type, v: &Value) -> String {
        String::from_utf8(encode_json(ty, v).unwrap()).unwrap()
    }

    // Golden texts: each is what go-cty's json.Marshal writes for the same value and type (compared with go-cty
    // 1.12.1's output), except that set elements keep the order held where go-cty sorts them.

    #[test]
    fn primitives() {
        assert_eq!(json(&Type::Bool, &Value::Bool(true)), "true");
        assert_eq!(json(&Type::String, &Value::Null), "null");
        assert_eq!(json(&Type::Number, &Value::int(-42)), "-42");
        // Numbers print in plain notation (big.Float Text 'f'), never with an exponent.
        assert_eq!(json(&Type::Number, &Value::Number(Number::Float(1e21))), "1000000000000000000000");
        assert_eq!(json(&Type::Number, &Value::Number(Number::Float(0.1))), "0.1");
        let big = "123456789012345678901234567890.000000000000000000001";
        assert_eq!(json(&Type::Number, &Value::Number(Number::Decimal(big.into()))), big);
        assert_eq!(json(&Type::Number, &Value::Number(Number::Decimal("1.5e3".into()))), "1500");
    }

    #[test]
    fn strings_escape_like_go() {
        let s = "a\"b\\c\n\t<tag>&\u{1}\u{2028}é";
        assert_eq!(json(&Type::String, &Value::string(s)), r#""a\"b\\c\n\t\u003ctag\u003e\u0026\u0001\u2028é""#);
        assert_eq!(
            decode_json(&Type::String, json(&Type::String, &Value::string(s)).as_bytes()).unwrap(),
            Value::string(s)
        );
    }

    #[test]
    fn collections_and_objects() {
        let ty =
            Type::object([("name", Type::String), ("tags", Type::map(Type::String)), ("ids", Type::set(Type::Number))]);
        let v = obj(&[
            ("name", Value::string("x")),
            ("tags", Value::Map([("b".into(), Value::string("2")), ("a".into(), Value::string("1"))].into())),
            ("ids", Value::Set(vec![Value::int(3), Value::int(1)])),
        ]);
        // Attributes and map keys come out sorted; set elements in the order held (go-cty would write [1,3]).
        assert_eq!(json(&ty, &v), r#"{"ids":[3,1],"name":"x","tags":{"a":"1","b":"2"}}"#);
        assert!(decode_json(&ty, json(&ty, &v).as_bytes()).unwrap().same_as(&v));
        let tuple = Type::tuple(vec![Type::String, Type::list(Type::Bool)]);
        let v = Value::Tuple(vec![Value::string("a"), Value::List(vec![Value::Bool(false)])]);
        assert_eq!(json(&tuple, &v), r#"["a",[false]]"#);
    }

    #[test]
    fn dynamic_values_carry_their_type() {
        let v = Value::Dynamic(Box::new(Type::list(Type::String)), Box::new(Value::List(vec![Value::string("a")])));
        assert_eq!(json(&Type::Dynamic, &v), r#"{"value":["a"],"type":["list","string"]}"#);
        assert_eq!(decode_json(&Type::Dynamic, br#"{"type":["list","string"],"value":["a"]}"#).unwrap(), v);
        assert_eq!(json(&Type::Dynamic, &Value::Null), "null");
        assert_eq!(decode_json(&Type::Dynamic, b"null").unwrap(), Value::Null);
        let typed_null = Value::Dynamic(Box::new(Type::String), Box::new(Value::Null));
        assert_eq!(json(&Type::Dynamic, &typed_null), r#"{"value":null,"type":"string"}"#);
        assert!(decode_json(&Type::Dynamic, br#"{"value":1}"#).is_err());
        assert!(decode_json(&Type::Dynamic, br#"{"value":1,"type":"number","x":1}"#).is_err());
    }

    #[test]
    fn unknown_and_infinity_cannot_be_written() {
        let ty = Type::object([("a", Type::list(Type::String))]);
        let err = encode_json(&ty, &obj(&[("a", Value::List(vec![Value::unknown()]))])).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnknownValue);
        assert_eq!(err.path().to_string(), "a[0]");
        let err = encode_json(&Type::Number, &Value::Number(Number::Float(f64::INFINITY))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidNumber);
    }

    #[test]
    fn big_decimals_keep_every_digit() {
        let text = "3.1415926535897932384626433832795028841971693993751";
        let v = decode_json(&Type::Number, text.as_bytes()).unwrap();
        assert_eq!(v, Value::Number(Number::Decimal(text.into())));
        assert_eq!(json(&Type::Number, &v), text);
        // Trailing fraction zeros are not digits worth keeping; cty prints without them too.
        assert_eq!(json(&Type::Number, &decode_json(&Type::Number, b"2.50").unwrap()), "2.5");
        assert_eq!(decode_json(&Type::Number, b"12").unwrap(), Value::int(12));
        assert_eq!(decode_json(&Type::Number, b"1E2").unwrap(), Value::int(100));
    }

    #[test]
    fn primitive_conversions_match_cty() {
        assert_eq!(decode_json(&Type::Bool, br#""true""#).unwrap(), Value::Bool(true));
        assert_eq!(decode_json(&Type::Bool, br#""0""#).unwrap(), Value::Bool(false));
        assert!(decode_json(&Type::Bool, br#""True""#).is_err());
        assert_eq!(decode_json(&Type::Number, br#""42""#).unwrap(), Value::int(42));
        assert_eq!(decode_json(&Type::String, b"1.50").unwrap(), Value::string("1.50"));
        assert_eq!(decode_json(&Type::String, b"false").unwrap(), Value::string("false"));
        let err = decode_json(&Type::Number, br#""ten""#).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidNumber);
    }

    #[test]
    fn strict_and_lenient_objects() {
        let ty = Type::object([("a", Type::String), ("t", Type::object([("create", Type::String)]))]);
        let err = decode_json(&ty, br#"{"a":"x","t":{}}"#).unwrap_err();
        assert_eq!(err.to_string(), "at t.create: missing attribute");
        let v = decode_json_lenient(&ty, br#"{"t":{}}"#).unwrap();
        assert_eq!(v, obj(&[("a", Value::Null), ("t", obj(&[("create", Value::Null)]))]));
        let err = decode_json_lenient(&ty, br#"{"t":{"delete":"1m"}}"#).unwrap_err();
        assert_eq!(
            (err.kind(), err.to_string()),
            (ErrorKind::UnexpectedAttribute, "at t.delete: unsupported attribute".into())
        );
        let err = decode_json(&ty, br#"{"a":"x","a":"y","t":null}"#).unwrap_err();
        assert_eq!(err.path(), &AttributePath::attr("a"));
    }

    #[test]
    fn mismatches_name_the_path() {
        let ty = Type::object([("tags", Type::map(Type::list(Type::Number)))]);
        let err = decode_json(&ty, br#"{"tags":{"k":[1,true]}}"#).unwrap_err();
        assert_eq!(err.to_string(), "at tags[\"k\"][1]: expected number, got bool");
        let err = decode_json(&Type::tuple(vec![Type::Bool]), b"[true,false]").unwrap_err();
        assert_eq!(err.message(), "expected a tuple of 1 elements, got 2");
        let err =
            encode_json(&ty, &obj(&[("tags", Value::Map([("k".into(), Value::string("x"))].into()))])).unwrap_err();
        assert_eq!(err.to_string(), "at tags[\"k\"]: expected list of number, got string");
    }

    #[test]
    fn syntax_errors() {
        for bad in [&b""[..], b"{", b"[1,]", b"01", b"1.", b"\"\\x\"", b"nul", b"1 2", b"\"a\nb\"", b"{\"a\" 1}", b"-"]
        {
            let err = decode_json(&Type::Dynamic, bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Syntax, "{:?}", String::from_utf8_lossy(bad));
        }
        let deep = "[".repeat(300) + &"]".repeat(300);
        assert_eq!(decode_json(&Type::list(Type::Dynamic), deep.as_bytes()).unwrap_err().kind(), ErrorKind::Syntax);
        // Escaped surrogate pairs join; a lone surrogate becomes U+FFFD.
        assert_eq!(decode_json(&Type::String, br#""\ud83d\ude00""#).unwrap(), Value::string("\u{1F600}"));
        assert_eq!(decode_json(&Type::String, br#""\ud83dx""#).unwrap(), Value::string("\u{FFFD}x"));
    }

    #[test]
    fn type_json_round_trips_golden_forms() {
        let cases: Vec<(&str, Type)> = vec![
            (r#""string""#, Type::String),
            (r#""dynamic""#, Type::Dynamic),
            (r#"["list","string"]"#, Type::list(Type::String)),
            (r#"["set",["map","bool"]]"#, Type::set(Type::map(Type::Bool))),
            (
                r#"["object",{"a":"string","b":["list","number"]}]"#,
                Type::object([("b", Type::list(Type::Number)), ("a", Type::String)]),
            ),
            (r#"["object",{}]"#, Type::object(Vec::<(String, Type)>::new())),
            (r#"["tuple",["string","number"]]"#, Type::tuple(vec![Type::String, Type::Number])),
            (r#"["tuple",[]]"#, Type::tuple(vec![])),
        ];
        for (text, ty) in cases {
            assert_eq!(String::from_utf8(ty.to_json()).unwrap(), text);
            assert_eq!(Type::from_json(text.as_bytes()).unwrap(), ty);
        }
    }

    #[test]
    fn type_json_accepts_optional_attributes_and_rejects_garbage() {
        let ty = Type::from_json(br#" ["object", {"a": "string", "b": "number"}, ["b"]] "#).unwrap();
        assert_eq!(ty, Type::object([("a", Type::String), ("b", Type::Number)]));
        for bad in [
            &br#""str""#[..],
            br#"["list"]"#,
            br#"["list","string","x"]"#,
            br#"["object",{"a":"string"},["zzz"]]"#,
            br#"["object",["a"]]"#,
            br#"["tuple","string"]"#,
            br#"["frob","string"]"#,
            b"42",
        ] {
            let err = Type::from_json(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidType, "{}", String::from_utf8_lossy(bad));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn known_values_round_trip((ty, v) in arb_type_and_known_value()) {
            let bytes = encode_json(&ty, &v).unwrap();
            let back = decode_json(&ty, &bytes).unwrap();
            prop_assert!(back.same_as(&v), "{} -> {:?}", String::from_utf8_lossy(&bytes), back);
            prop_assert!(decode_json_lenient(&ty, &bytes).unwrap().same_as(&v));
        }

        #[test]
        fn type_json_round_trips((ty, _v) in arb_type_and_known_value()) {
            prop_assert_eq!(Type::from_json(&ty.to_json()).unwrap(), ty);
        }

        #[test]
        fn wrong_types_are_refused((ty, v, other) in arb_type_kind_mismatch(false)) {
            let err = encode_json(&other, &v).unwrap_err();
            prop_assert!(err.path().is_root());
            // One level down, the error names the element.
            let err = encode_json(&Type::list(other), &Value::List(vec![Value::Null, v])).unwrap_err();
            prop_assert_eq!(err.path().clone(), AttributePath::root().push_index(1));
            let _ = ty;
        }
    }
}
