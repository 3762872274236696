//! cty's msgpack encoding (`DynamicValue.msgpack`), as go-cty writes and reads it.
//!
//! - null is nil; an unknown value is extension type 0 (`d4 00 00`), or extension type 12 when it has
//!   refinements, whose payload is a map with small integer keys: 1 nullness (a bool: is it null), 2 string prefix,
//!   3 and 4 number lower and upper bound (each `[number, inclusive]`), 5 and 6 collection length bounds.
//! - numbers: an int when exactly an int64, else a float64 when exact and not an integer, else decimal text.
//! - list, set and tuple are arrays; map is a map with string keys; an object is a map with every attribute of its
//!   type, keys sorted.
//! - a value of dynamic type is a 2-element array: the type's JSON as binary, then the value; a null or wholly
//!   unknown value of dynamic type is written as a plain nil or unknown.
//!
//! When reading, any extension is an unknown value, and refinements are only read from extension 12.
//! This module must not know about schemas or the protocol.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use rmp::Marker;

use super::conform::{
    check_attached_type, check_object_keys, check_refinements, check_tuple_len, invalid_number, mismatch,
    missing_attribute, unexpected_attribute,
};
use super::decimal::{self, Parsed};
use super::error::{CtyError, ErrorKind};
use super::path::{AttributePath, PathStep};
use super::types::Type;
use super::value::{Number, Refinements, Value};

/// Extension type of an unknown value with refinements. Type 0 is a plain unknown.
const REFINED_UNKNOWN_EXT: i8 = 12;
/// Refinement payloads larger than this are refused, as go-cty does, so input cannot make us allocate much.
const MAX_REFINEMENT_LEN: usize = 1024;

const KEY_NULLNESS: i64 = 1;
const KEY_STRING_PREFIX: i64 = 2;
const KEY_NUMBER_LOWER: i64 = 3;
const KEY_NUMBER_UPPER: i64 = 4;
const KEY_LENGTH_LOWER: i64 = 5;
const KEY_LENGTH_UPPER: i64 = 6;

/// Decodes msgpack bytes holding a value of type `ty`. The whole input must be one value.
pub fn decode_msgpack(ty: &Type, bytes: &[u8]) -> Result<Value, CtyError> {
    let mut r = Reader { bytes, pos: 0 };
    let mut path = AttributePath::root();
    let v = decode(&mut r, ty, &mut path)?;
    if r.pos != bytes.len() {
        return Err(CtyError::new(
            ErrorKind::Syntax,
            AttributePath::root(),
            format!("{} trailing bytes after the value", bytes.len() - r.pos),
        ));
    }
    Ok(v)
}

/// Encodes a value of type `ty` as msgpack. Fails, with the path, when the value does not fit the type
/// (see `Value::check_type`).
pub fn encode_msgpack(ty: &Type, v: &Value) -> Result<Vec<u8>, CtyError> {
    let mut out = Vec::new();
    encode(&mut out, ty, v, &mut AttributePath::root())?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding. Writes go to a Vec, which cannot fail, so the writer results are infallible in practice.

fn encode(out: &mut Vec<u8>, ty: &Type, v: &Value, path: &mut AttributePath) -> Result<(), CtyError> {
    match (ty, v) {
        (_, Value::Null) => {
            out.push(Marker::Null.to_u8());
            Ok(())
        }
        (_, Value::Unknown(r)) => {
            check_refinements(ty, r, path)?;
            write_unknown(out, ty, r, path)
        }
        (Type::Dynamic, Value::Dynamic(concrete, inner)) => {
            check_attached_type(concrete, path)?;
            write_array_len(out, 2);
            let type_json = concrete.to_json();
            rmp::encode::write_bin(out, &type_json).expect("writing to a Vec cannot fail");
            encode(out, concrete, inner, path)
        }
        (Type::Bool, Value::Bool(b)) => {
            rmp::encode::write_bool(out, *b).expect("writing to a Vec cannot fail");
            Ok(())
        }
        (Type::Number, Value::Number(n)) => write_number(out, n, path),
        (Type::String, Value::String(s)) => {
            write_str(out, s);
            Ok(())
        }
        (Type::List(e), Value::List(items)) | (Type::Set(e), Value::Set(items)) => {
            write_array_len(out, items.len());
            for (i, item) in items.iter().enumerate() {
                path.0.push(PathStep::Index(i as i64));
                encode(out, e, item, path)?;
                path.0.pop();
            }
            Ok(())
        }
        (Type::Map(e), Value::Map(items)) => {
            write_map_len(out, items.len());
            for (key, item) in items {
                write_str(out, key);
                path.0.push(PathStep::Key(key.clone()));
                encode(out, e, item, path)?;
                path.0.pop();
            }
            Ok(())
        }
        (Type::Object(attrs), Value::Object(values)) => {
            check_object_keys(attrs, values, path)?;
            write_map_len(out, attrs.len());
            for (name, attr_ty) in attrs {
                write_str(out, name);
                path.0.push(PathStep::Attr(name.clone()));
                encode(out, attr_ty, &values[name], path)?;
                path.0.pop();
            }
            Ok(())
        }
        (Type::Tuple(types), Value::Tuple(items)) => {
            check_tuple_len(types, items, path)?;
            write_array_len(out, items.len());
            for (i, (item, item_ty)) in items.iter().zip(types).enumerate() {
                path.0.push(PathStep::Index(i as i64));
                encode(out, item_ty, item, path)?;
                path.0.pop();
            }
            Ok(())
        }
        _ => Err(mismatch(path, ty, v)),
    }
}

fn write_array_len(out: &mut Vec<u8>, len: usize) {
    rmp::encode::write_array_len(out, len as u32).expect("writing to a Vec cannot fail");
}

fn write_map_len(out: &mut Vec<u8>, len: usize) {
    rmp::encode::write_map_len(out, len as u32).expect("writing to a Vec cannot fail");
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    rmp::encode::write_str(out, s).expect("writing to a Vec cannot fail");
}

fn write_int(out: &mut Vec<u8>, i: i64) {
    // rmp picks the smallest form (unsigned forms for non-negative values), as go-cty's encoder does.
    rmp::encode::write_sint(out, i).expect("writing to a Vec cannot fail");
}

fn write_f64(out: &mut Vec<u8>, f: f64) {
    rmp::encode::write_f64(out, f).expect("writing to a Vec cannot fail");
}

/// The number in the form go-cty picks: int when exactly an int64, float64 when exact and not an integer (or
/// infinite), decimal text otherwise. So `3.0` goes as int 3, `1e20` as text, `0.1` read from text stays text.
fn write_number(out: &mut Vec<u8>, n: &Number, path: &AttributePath) -> Result<(), CtyError> {
    match n {
        Number::Int(i) => write_int(out, *i),
        Number::Float(f) if f.is_nan() => return Err(invalid_number(path, n)),
        Number::Float(f) if f.is_infinite() => write_f64(out, *f),
        Number::Float(f) if f.fract() == 0.0 => {
            // 2^63 is the first float above i64::MAX; `as` would saturate, so check the range first.
            if *f >= i64::MIN as f64 && *f < i64::MAX as f64 {
                write_int(out, *f as i64);
            } else {
                write_str(out, &format!("{f:.0}"));
            }
        }
        Number::Float(f) => write_f64(out, *f),
        Number::Decimal(text) => match decimal::parse(text) {
            None => return Err(invalid_number(path, n)),
            Some(Parsed::Infinite { negative }) => {
                write_f64(out, if negative { f64::NEG_INFINITY } else { f64::INFINITY })
            }
            Some(Parsed::Finite(d)) => match (d.to_i64(), d.is_integer()) {
                (Some(i), _) => write_int(out, i),
                (None, false) => match d.to_f64_exact() {
                    Some(f) => write_f64(out, f),
                    None => write_str(out, &d.plain()),
                },
                (None, true) => write_str(out, &d.plain()),
            },
        },
    }
    Ok(())
}

/// An unknown: extension 0 with one zero byte when nothing is known about it, else extension 12 with the
/// refinement map. Entries go in go-cty's order: nullness, then the one kind that suits the type.
fn write_unknown(out: &mut Vec<u8>, ty: &Type, r: &Refinements, path: &AttributePath) -> Result<(), CtyError> {
    let mut body = Vec::new();
    let mut entries = 0u32;
    if *ty != Type::Dynamic {
        if let Some(not_null) = r.not_null {
            entries += 1;
            write_int(&mut body, KEY_NULLNESS);
            rmp::encode::write_bool(&mut body, !not_null).expect("writing to a Vec cannot fail");
        }
        // cty does not record an empty prefix: every string has it.
        if let Some(prefix) = r.string_prefix.as_deref().filter(|p| !p.is_empty()) {
            entries += 1;
            write_int(&mut body, KEY_STRING_PREFIX);
            write_str(&mut body, prefix);
        }
        for (key, bound) in [(KEY_NUMBER_LOWER, &r.number_lower), (KEY_NUMBER_UPPER, &r.number_upper)] {
            if let Some((n, inclusive)) = bound {
                entries += 1;
                write_int(&mut body, key);
                write_array_len(&mut body, 2);
                write_number(&mut body, n, path)?;
                rmp::encode::write_bool(&mut body, *inclusive).expect("writing to a Vec cannot fail");
            }
        }
        for (key, bound) in [(KEY_LENGTH_LOWER, r.length_lower), (KEY_LENGTH_UPPER, r.length_upper)] {
            if let Some(len) = bound {
                entries += 1;
                write_int(&mut body, key);
                rmp::encode::write_uint(&mut body, len).expect("writing to a Vec cannot fail");
            }
        }
    }
    if entries == 0 {
        rmp::encode::write_ext_meta(out, 1, 0).expect("writing to a Vec cannot fail");
        out.push(0);
        return Ok(());
    }
    let mut header = Vec::new();
    rmp::encode::write_map_len(&mut header, entries).expect("writing to a Vec cannot fail");
    let len = (header.len() + body.len()) as u32;
    rmp::encode::write_ext_meta(out, len, REFINED_UNKNOWN_EXT).expect("writing to a Vec cannot fail");
    out.extend_from_slice(&header);
    out.extend_from_slice(&body);
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn eof(&self, path: &AttributePath) -> CtyError {
        CtyError::new(ErrorKind::Syntax, path.clone(), "unexpected end of msgpack input")
    }

    fn peek(&self, path: &AttributePath) -> Result<Marker, CtyError> {
        self.bytes.get(self.pos).map(|b| Marker::from_u8(*b)).ok_or_else(|| self.eof(path))
    }

    fn marker(&mut self, path: &AttributePath) -> Result<Marker, CtyError> {
        let m = self.peek(path)?;
        self.pos += 1;
        Ok(m)
    }

    fn take(&mut self, n: usize, path: &AttributePath) -> Result<&'a [u8], CtyError> {
        let end = self.pos.checked_add(n).filter(|end| *end <= self.bytes.len()).ok_or_else(|| self.eof(path))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn be<const N: usize>(&mut self, path: &AttributePath) -> Result<[u8; N], CtyError> {
        let mut buf = [0u8; N];
        buf.copy_from_slice(self.take(N, path)?);
        Ok(buf)
    }

    fn u8(&mut self, path: &AttributePath) -> Result<u8, CtyError> {
        Ok(self.be::<1>(path)?[0])
    }

    fn u16(&mut self, path: &AttributePath) -> Result<usize, CtyError> {
        Ok(u16::from_be_bytes(self.be(path)?) as usize)
    }

    fn u32(&mut self, path: &AttributePath) -> Result<usize, CtyError> {
        Ok(u32::from_be_bytes(self.be(path)?) as usize)
    }

    /// A length that claims more elements than bytes remain is malformed; checking it keeps allocation bounded.
    fn plausible(&self, len: usize, path: &AttributePath) -> Result<usize, CtyError> {
        if len > self.bytes.len() - self.pos {
            return Err(self.eof(path));
        }
        Ok(len)
    }

    /// Reads an array header; `None` when the next item is not an array.
    fn array_len(&mut self, path: &AttributePath) -> Result<Option<usize>, CtyError> {
        let len = match self.peek(path)? {
            Marker::FixArray(n) => {
                self.pos += 1;
                n as usize
            }
            Marker::Array16 => {
                self.pos += 1;
                self.u16(path)?
            }
            Marker::Array32 => {
                self.pos += 1;
                self.u32(path)?
            }
            _ => return Ok(None),
        };
        self.plausible(len, path).map(Some)
    }

    /// Reads a map header; `None` when the next item is not a map.
    fn map_len(&mut self, path: &AttributePath) -> Result<Option<usize>, CtyError> {
        let len = match self.peek(path)? {
            Marker::FixMap(n) => {
                self.pos += 1;
                n as usize
            }
            Marker::Map16 => {
                self.pos += 1;
                self.u16(path)?
            }
            Marker::Map32 => {
                self.pos += 1;
                self.u32(path)?
            }
            _ => return Ok(None),
        };
        self.plausible(len, path).map(Some)
    }

    /// Reads a str (or, when `allow_bin`, a bin) item's bytes; `None` when the next item is neither.
    fn raw_str(&mut self, allow_bin: bool, path: &AttributePath) -> Result<Option<&'a [u8]>, CtyError> {
        let len = match self.peek(path)? {
            Marker::FixStr(n) => {
                self.pos += 1;
                n as usize
            }
            Marker::Str8 => {
                self.pos += 1;
                self.u8(path)? as usize
            }
            Marker::Str16 => {
                self.pos += 1;
                self.u16(path)?
            }
            Marker::Str32 => {
                self.pos += 1;
                self.u32(path)?
            }
            Marker::Bin8 if allow_bin => {
                self.pos += 1;
                self.u8(path)? as usize
            }
            Marker::Bin16 if allow_bin => {
                self.pos += 1;
                self.u16(path)?
            }
            Marker::Bin32 if allow_bin => {
                self.pos += 1;
                self.u32(path)?
            }
            _ => return Ok(None),
        };
        self.take(len, path).map(Some)
    }

    /// Reads a string item; `None` when the next item is not a string.
    fn string(&mut self, path: &AttributePath) -> Result<Option<String>, CtyError> {
        match self.raw_str(false, path)? {
            None => Ok(None),
            Some(raw) => match std::str::from_utf8(raw) {
                Ok(s) => Ok(Some(s.to_string())),
                Err(_) => Err(CtyError::new(ErrorKind::Syntax, path.clone(), "string is not valid utf-8")),
            },
        }
    }

    /// Reads an integer item as i128 (covers every msgpack int); `None` when the next item is not an integer.
    fn int(&mut self, path: &AttributePath) -> Result<Option<i128>, CtyError> {
        let m = self.peek(path)?;
        let value = match m {
            Marker::FixPos(n) => {
                self.pos += 1;
                return Ok(Some(n as i128));
            }
            Marker::FixNeg(n) => {
                self.pos += 1;
                return Ok(Some(n as i128));
            }
            Marker::U8
            | Marker::U16
            | Marker::U32
            | Marker::U64
            | Marker::I8
            | Marker::I16
            | Marker::I32
            | Marker::I64 => {
                self.pos += 1;
                match m {
                    Marker::U8 => self.u8(path)? as i128,
                    Marker::U16 => u16::from_be_bytes(self.be(path)?) as i128,
                    Marker::U32 => u32::from_be_bytes(self.be(path)?) as i128,
                    Marker::U64 => u64::from_be_bytes(self.be(path)?) as i128,
                    Marker::I8 => i8::from_be_bytes(self.be(path)?) as i128,
                    Marker::I16 => i16::from_be_bytes(self.be(path)?) as i128,
                    Marker::I32 => i32::from_be_bytes(self.be(path)?) as i128,
                    _ => i64::from_be_bytes(self.be(path)?) as i128,
                }
            }
            _ => return Ok(None),
        };
        Ok(Some(value))
    }

    /// Reads a bool item; `None` when the next item is not a bool.
    fn bool(&mut self, path: &AttributePath) -> Result<Option<bool>, CtyError> {
        let b = match self.peek(path)? {
            Marker::True => true,
            Marker::False => false,
            _ => return Ok(None),
        };
        self.pos += 1;
        Ok(Some(b))
    }

    /// Reads an extension item: its type and payload; `None` when the next item is not an extension.
    fn ext(&mut self, path: &AttributePath) -> Result<Option<(i8, &'a [u8])>, CtyError> {
        let fixed = match self.peek(path)? {
            Marker::FixExt1 => Some(1),
            Marker::FixExt2 => Some(2),
            Marker::FixExt4 => Some(4),
            Marker::FixExt8 => Some(8),
            Marker::FixExt16 => Some(16),
            Marker::Ext8 | Marker::Ext16 | Marker::Ext32 => None,
            _ => return Ok(None),
        };
        let marker = self.marker(path)?;
        let len = match (fixed, marker) {
            (Some(len), _) => len,
            (None, Marker::Ext8) => self.u8(path)? as usize,
            (None, Marker::Ext16) => self.u16(path)?,
            (None, _) => self.u32(path)?,
        };
        let ext_type = self.u8(path)? as i8;
        self.take(len, path).map(|body| Some((ext_type, body)))
    }

    /// What the next item is, for messages: `"bool"`, `"array"`, `"nil"`.
    fn describe_next(&self) -> &'static str {
        match self.bytes.get(self.pos).map(|b| Marker::from_u8(*b)) {
            None => "end of input",
            Some(Marker::Null) => "nil",
            Some(Marker::True | Marker::False) => "bool",
            Some(
                Marker::FixPos(_)
                | Marker::FixNeg(_)
                | Marker::U8
                | Marker::U16
                | Marker::U32
                | Marker::U64
                | Marker::I8
                | Marker::I16
                | Marker::I32
                | Marker::I64
                | Marker::F32
                | Marker::F64,
            ) => "number",
            Some(Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32) => "string",
            Some(Marker::Bin8 | Marker::Bin16 | Marker::Bin32) => "binary",
            Some(Marker::FixArray(_) | Marker::Array16 | Marker::Array32) => "array",
            Some(Marker::FixMap(_) | Marker::Map16 | Marker::Map32) => "map",
            Some(
                Marker::FixExt1
                | Marker::FixExt2
                | Marker::FixExt4
                | Marker::FixExt8
                | Marker::FixExt16
                | Marker::Ext8
                | Marker::Ext16
                | Marker::Ext32,
            ) => "extension",
            Some(Marker::Reserved) => "reserved byte 0xc1",
        }
    }

    fn expected(&self, what: impl std::fmt::Display, path: &AttributePath) -> CtyError {
        CtyError::new(ErrorKind::TypeMismatch, path.clone(), format!("expected {what}, got {}", self.describe_next()))
    }

    /// Skips one item of any kind (for refinement keys we do not know). Depth-limited by the caller's payload size.
    fn skip(&mut self, path: &AttributePath, depth: usize) -> Result<(), CtyError> {
        if depth > 64 {
            return Err(CtyError::new(ErrorKind::Syntax, path.clone(), "msgpack nested too deeply"));
        }
        if self.ext(path)?.is_some() || self.raw_str(true, path)?.is_some() || self.int(path)?.is_some() {
            return Ok(());
        }
        if let Some(n) = self.array_len(path)? {
            for _ in 0..n {
                self.skip(path, depth + 1)?;
            }
            return Ok(());
        }
        if let Some(n) = self.map_len(path)? {
            for _ in 0..2 * n {
                self.skip(path, depth + 1)?;
            }
            return Ok(());
        }
        match self.marker(path)? {
            Marker::Null | Marker::True | Marker::False => Ok(()),
            Marker::F32 => self.take(4, path).map(drop),
            Marker::F64 => self.take(8, path).map(drop),
            _ => Err(CtyError::new(ErrorKind::Syntax, path.clone(), "invalid msgpack marker")),
        }
    }
}

fn decode(r: &mut Reader, ty: &Type, path: &mut AttributePath) -> Result<Value, CtyError> {
    if let Some((ext_type, body)) = r.ext(path)? {
        return decode_unknown(ty, ext_type, body, path);
    }
    if r.peek(path)? == Marker::Null {
        r.pos += 1;
        return Ok(Value::Null);
    }
    match ty {
        Type::Dynamic => {
            if r.array_len(path)? != Some(2) {
                return Err(CtyError::new(
                    ErrorKind::TypeMismatch,
                    path.clone(),
                    "a value of dynamic type must be a 2-element array [type json, value]",
                ));
            }
            let type_json = r.raw_str(true, path)?.ok_or_else(|| r.expected("the type's json as binary", path))?;
            let concrete = Type::from_json(type_json).map_err(|e| {
                CtyError::new(ErrorKind::InvalidType, path.clone(), format!("in dynamic value: {}", e.message()))
            })?;
            check_attached_type(&concrete, path)?;
            let inner = decode(r, &concrete, path)?;
            Ok(Value::Dynamic(Box::new(concrete), Box::new(inner)))
        }
        Type::Bool => r.bool(path)?.map(Value::Bool).ok_or_else(|| r.expected(ty, path)),
        Type::Number => decode_number(r, path).map(Value::Number),
        Type::String => r.string(path)?.map(Value::String).ok_or_else(|| r.expected(ty, path)),
        Type::List(e) | Type::Set(e) => {
            let len = r.array_len(path)?.ok_or_else(|| r.expected(ty, path))?;
            let mut items = Vec::with_capacity(len);
            for i in 0..len {
                path.0.push(PathStep::Index(i as i64));
                items.push(decode(r, e, path)?);
                path.0.pop();
            }
            Ok(if matches!(ty, Type::List(_)) { Value::List(items) } else { Value::Set(items) })
        }
        Type::Map(e) => {
            let len = r.map_len(path)?.ok_or_else(|| r.expected(ty, path))?;
            let mut items = BTreeMap::new();
            for _ in 0..len {
                let key = r.string(path)?.ok_or_else(|| r.expected("a string map key", path))?;
                // The key lends itself to the path while its value decodes (no copy per element).
                path.0.push(PathStep::Key(key));
                let v = decode(r, e, path)?;
                let Some(PathStep::Key(key)) = path.0.pop() else { unreachable!("the step pushed above") };
                match items.entry(key) {
                    Entry::Vacant(slot) => {
                        slot.insert(v);
                    }
                    Entry::Occupied(slot) => {
                        return Err(CtyError::new(ErrorKind::Syntax, path.push_key(slot.key()), "duplicate map key"))
                    }
                }
            }
            Ok(Value::Map(items))
        }
        Type::Object(attrs) => {
            let len = r.map_len(path)?.ok_or_else(|| r.expected(ty, path))?;
            let mut values = BTreeMap::new();
            for _ in 0..len {
                let name = r.string(path)?.ok_or_else(|| r.expected("a string attribute name", path))?;
                let Some(attr_ty) = attrs.get(&name) else { return Err(unexpected_attribute(path, &name)) };
                // The name lends itself to the path while its value decodes (no copy per attribute).
                path.0.push(PathStep::Attr(name));
                let v = decode(r, attr_ty, path)?;
                let Some(PathStep::Attr(name)) = path.0.pop() else { unreachable!("the step pushed above") };
                match values.entry(name) {
                    Entry::Vacant(slot) => {
                        slot.insert(v);
                    }
                    Entry::Occupied(slot) => {
                        return Err(CtyError::new(ErrorKind::Syntax, path.push_attr(slot.key()), "duplicate attribute"))
                    }
                }
            }
            if let Some(missing) = attrs.keys().find(|name| !values.contains_key(*name)) {
                return Err(missing_attribute(path, missing));
            }
            Ok(Value::Object(values))
        }
        Type::Tuple(types) => {
            let len = r.array_len(path)?.ok_or_else(|| r.expected(ty, path))?;
            if len != types.len() {
                return Err(CtyError::new(
                    ErrorKind::TypeMismatch,
                    path.clone(),
                    format!("expected a tuple of {} elements, got {len}", types.len()),
                ));
            }
            let mut items = Vec::with_capacity(len);
            for (i, item_ty) in types.iter().enumerate() {
                path.0.push(PathStep::Index(i as i64));
                items.push(decode(r, item_ty, path)?);
                path.0.pop();
            }
            Ok(Value::Tuple(items))
        }
    }
}

/// Reads a number in any of the three forms: int, float, or decimal text.
fn decode_number(r: &mut Reader, path: &AttributePath) -> Result<Number, CtyError> {
    if let Some(i) = r.int(path)? {
        return Ok(match i64::try_from(i) {
            Ok(i) => Number::Int(i),
            // A uint64 above i64::MAX.
            Err(_) => Number::Decimal(i.to_string()),
        });
    }
    match r.peek(path)? {
        Marker::F32 | Marker::F64 => {
            let m = r.marker(path)?;
            let f = match m {
                Marker::F32 => f32::from_be_bytes(r.be(path)?) as f64,
                _ => f64::from_be_bytes(r.be(path)?),
            };
            if f.is_nan() {
                return Err(CtyError::new(ErrorKind::InvalidNumber, path.clone(), "NaN is not a number cty can hold"));
            }
            Ok(Number::Float(f))
        }
        _ => {
            let text = r.string(path)?.ok_or_else(|| r.expected("number", path))?;
            Number::parse(&text).ok_or_else(|| {
                CtyError::new(ErrorKind::InvalidNumber, path.clone(), format!("{text:?} is not a number"))
            })
        }
    }
}

/// An extension item is an unknown value. Refinements are read only from extension 12 with a real payload; a
/// refined nullness of "is null" makes the value a known null, as in cty.
fn decode_unknown(ty: &Type, ext_type: i8, body: &[u8], path: &AttributePath) -> Result<Value, CtyError> {
    if ext_type != REFINED_UNKNOWN_EXT || body.len() <= 1 || *ty == Type::Dynamic {
        return Ok(Value::unknown());
    }
    let bad = |what: &str| CtyError::new(ErrorKind::InvalidRefinement, path.clone(), what.to_string());
    if body.len() > MAX_REFINEMENT_LEN {
        return Err(bad("unknown value refinements are too large"));
    }
    let mut r = Reader { bytes: body, pos: 0 };
    let entries = r.map_len(path)?.ok_or_else(|| bad("refinements must be a msgpack map"))?;
    let mut refinements = Refinements::default();
    let mut is_null = false;
    for _ in 0..entries {
        let key = r.int(path)?.ok_or_else(|| bad("refinement keys must be integers"))?;
        match i64::try_from(key).unwrap_or(-1) {
            KEY_NULLNESS => {
                let null = r.bool(path)?.ok_or_else(|| bad("the nullness refinement must be a bool"))?;
                is_null = null;
                refinements.not_null = Some(!null);
            }
            KEY_STRING_PREFIX => {
                if *ty != Type::String {
                    return Err(bad(&format!("string prefix refinement on an unknown {ty}")));
                }
                let prefix = r.string(path)?.ok_or_else(|| bad("the string prefix refinement must be a string"))?;
                refinements.string_prefix = Some(prefix);
            }
            key @ (KEY_NUMBER_LOWER | KEY_NUMBER_UPPER) => {
                if *ty != Type::Number {
                    return Err(bad(&format!("number bound refinement on an unknown {ty}")));
                }
                let shape = || bad("a number bound refinement must be [number, bool]");
                if r.array_len(path)? != Some(2) {
                    return Err(shape());
                }
                let n = decode_number(&mut r, path).map_err(|_| shape())?;
                let inclusive = r.bool(path)?.ok_or_else(shape)?;
                if key == KEY_NUMBER_LOWER {
                    refinements.number_lower = Some((n, inclusive));
                } else {
                    refinements.number_upper = Some((n, inclusive));
                }
            }
            key @ (KEY_LENGTH_LOWER | KEY_LENGTH_UPPER) => {
                if !ty.is_collection() {
                    return Err(bad(&format!("length bound refinement on an unknown {ty}")));
                }
                let len = r.int(path)?.and_then(|n| u64::try_from(n).ok());
                let len = len.ok_or_else(|| bad("a length bound refinement must be a non-negative integer"))?;
                if key == KEY_LENGTH_LOWER {
                    refinements.length_lower = Some(len);
                } else {
                    refinements.length_upper = Some(len);
                }
            }
            // Keys from a newer cty: skip the value, keep the rest.
            _ => r.skip(path, 0)?,
        }
    }
    // Bytes after the map are ignored, as go-cty does, to leave room for later additions.
    if is_null {
        return Ok(Value::Null);
    }
    Ok(Value::Unknown(refinements))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{arb_type, arb_type_and_value, arb_type_kind_mismatch};
    use super::*;
    use proptest::prelude::*;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    /// Encodes to exactly `expected` (hex) and decodes back to the same value.
    #[track_caller]
    fn golden(ty: &Type, v: &Value, expected: &str) {
        let bytes = encode_msgpack(ty, v).unwrap();
        assert_eq!(hex::encode(&bytes), expected.replace(' ', ""), "encoding {v:?}");
        let back = decode_msgpack(ty, &bytes).unwrap();
        assert!(back.same_as(v), "decoded {back:?}, expected {v:?}");
    }

    // Golden vectors. Each comment names the go-cty behaviour the bytes follow. The vectors without refinements were
    // also compared with the output of go-cty 1.12.1's Marshal; refinements (extension 12) and "whole numbers
    // beyond int64 go as text" arrived in later go-cty releases and follow their documented encoding.

    #[test]
    fn null_is_nil() {
        // Marshal writes EncodeNil for any null, whatever the type.
        golden(&Type::String, &Value::Null, "c0");
        golden(&Type::object([("a", Type::Bool)]), &Value::Null, "c0");
    }

    #[test]
    fn unknown_is_fixext1_type_0() {
        // A wholly unknown value is the fixext1 of type 0 with a single zero byte (unknownValBytes).
        golden(&Type::String, &Value::unknown(), "d4 00 00");
        golden(&Type::list(Type::Number), &Value::unknown(), "d4 00 00");
    }

    #[test]
    fn refined_unknowns_use_extension_12() {
        let refined = |r: Refinements| Value::Unknown(r);
        // Key 1 holds "is null": false for a value refined as not null. 3-byte payload -> ext8.
        golden(&Type::Bool, &refined(Refinements { not_null: Some(true), ..Default::default() }), "c7 03 0c 81 01 c2");
        // Key 2: string prefix. A 4-byte payload uses fixext4.
        golden(
            &Type::String,
            &refined(Refinements { string_prefix: Some("x".into()), ..Default::default() }),
            "d6 0c 81 02 a1 78",
        );
        // Nullness first, then the prefix.
        golden(
            &Type::String,
            &refined(Refinements { not_null: Some(true), string_prefix: Some("ab".into()), ..Default::default() }),
            "c7 07 0c 82 01 c2 02 a2 61 62",
        );
        // Keys 3 and 4: number bounds as [number, inclusive]; ints stay compact, floats are float64.
        golden(
            &Type::Number,
            &refined(Refinements {
                number_lower: Some((Number::Int(0), true)),
                number_upper: Some((Number::Float(1.5), false)),
                ..Default::default()
            }),
            "c7 11 0c 82 03 92 00 c3 04 92 cb 3ff8000000000000 c2",
        );
        // Keys 5 and 6: collection length bounds as plain integers.
        golden(
            &Type::set(Type::String),
            &refined(Refinements { length_lower: Some(1), length_upper: Some(200), ..Default::default() }),
            "c7 06 0c 82 05 01 06 cc c8",
        );
        // Nothing to say -> the plain unknown, not an empty ext 12.
        let empty_prefix = refined(Refinements { string_prefix: Some(String::new()), ..Default::default() });
        assert_eq!(hex::encode(encode_msgpack(&Type::String, &empty_prefix).unwrap()), "d40000");
    }

    #[test]
    fn decoding_refinements_follows_cty() {
        // Any extension type is an unknown value; only type 12 carries refinements.
        assert_eq!(decode_msgpack(&Type::String, &unhex("d4 05 00")).unwrap(), Value::unknown());
        assert_eq!(decode_msgpack(&Type::String, &unhex("d6 07 81 02 a1 78")).unwrap(), Value::unknown());
        // An ext 12 of length 0 or 1 is a plain unknown.
        assert_eq!(decode_msgpack(&Type::String, &unhex("d4 0c 00")).unwrap(), Value::unknown());
        // Nullness "is null" collapses to a known null.
        assert_eq!(decode_msgpack(&Type::String, &unhex("c7 03 0c 81 01 c3")).unwrap(), Value::Null);
        // Unknown keys are skipped; known ones still apply.
        let v = decode_msgpack(&Type::String, &unhex("c7 08 0c 82 09 92 01 02 02 a1 78")).unwrap();
        assert_eq!(v, Value::Unknown(Refinements { string_prefix: Some("x".into()), ..Default::default() }));
        // Refinements on a dynamic unknown are ignored.
        assert_eq!(decode_msgpack(&Type::Dynamic, &unhex("c7 03 0c 81 01 c2")).unwrap(), Value::unknown());
        // A refinement that does not suit the type is an error.
        let err = decode_msgpack(&Type::Number, &unhex("d6 0c 81 02 a1 78")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRefinement);
        let err = decode_msgpack(&Type::String, &unhex("c7 03 0c 81 05 01")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRefinement);
    }

    #[test]
    fn primitives() {
        golden(&Type::Bool, &Value::Bool(true), "c3");
        golden(&Type::Bool, &Value::Bool(false), "c2");
        golden(&Type::String, &Value::string("hello"), "a5 68656c6c6f");
        golden(&Type::String, &Value::string("x".repeat(40)), &format!("d9 28 {}", "78".repeat(40)));
    }

    #[test]
    fn numbers_take_go_cty_forms() {
        // Exact int64 -> the smallest msgpack int (unsigned forms for non-negative values).
        golden(&Type::Number, &Value::int(1), "01");
        golden(&Type::Number, &Value::int(-1), "ff");
        golden(&Type::Number, &Value::int(200), "cc c8");
        golden(&Type::Number, &Value::int(-200), "d1 ff38");
        golden(&Type::Number, &Value::int(3600), "cd 0e10");
        golden(&Type::Number, &Value::int(i64::MIN), "d3 8000000000000000");
        // A whole float is still sent as an int.
        golden(&Type::Number, &Value::Number(Number::Float(43200.0)), "cd a8c0");
        // A fractional float that is exact goes as float64.
        golden(&Type::Number, &Value::Number(Number::Float(1.5)), "cb 3ff8000000000000");
        golden(&Type::Number, &Value::Number(Number::Decimal("0.25".into())), "cb 3fd0000000000000");
        golden(&Type::Number, &Value::Number(Number::Float(f64::INFINITY)), "cb 7ff0000000000000");
        // Not exact as int64 or float64 -> decimal text in plain notation (big.Float Text 'f').
        golden(&Type::Number, &Value::Number(Number::Decimal("0.1".into())), "a3 302e31");
        golden(&Type::Number, &Value::Number(Number::Float(1e20)), "b5 313030303030303030303030303030303030303030");
        golden(
            &Type::Number,
            &Value::Number(Number::Decimal("18446744073709551616".into())),
            "b4 3138343436373434303733373039353531363136",
        );
        // Reading accepts uint64 beyond int64, float32 and decimal text with an exponent.
        let big = decode_msgpack(&Type::Number, &unhex("cf ffffffffffffffff")).unwrap();
        assert_eq!(big, Value::Number(Number::Decimal("18446744073709551615".into())));
        assert_eq!(decode_msgpack(&Type::Number, &unhex("ca 3fc00000")).unwrap(), Value::Number(Number::Float(1.5)));
        assert_eq!(decode_msgpack(&Type::Number, &unhex("a3 316533")).unwrap(), Value::int(1000));
        assert_eq!(decode_msgpack(&Type::Number, &unhex("a3 616263")).unwrap_err().kind(), ErrorKind::InvalidNumber);
        assert_eq!(
            decode_msgpack(&Type::Number, &unhex("cb 7ff8000000000000")).unwrap_err().kind(),
            ErrorKind::InvalidNumber
        );
    }

    #[test]
    fn collections() {
        let strings = Value::List(vec![Value::string("a"), Value::Null, Value::unknown()]);
        golden(&Type::list(Type::String), &strings, "93 a1 61 c0 d4 00 00");
        // Set elements go out in the order held; go-cty sorts them, Terraform compares sets without order.
        golden(&Type::set(Type::Number), &Value::Set(vec![Value::int(1), Value::int(2)]), "92 01 02");
        golden(&Type::list(Type::String), &Value::List(vec![]), "90");
        let map = Value::Map([("b".into(), Value::Bool(true)), ("a".into(), Value::Bool(false))].into());
        // Map keys come out sorted (cty iterates maps in key order).
        golden(&Type::map(Type::Bool), &map, "82 a1 61 c2 a1 62 c3");
        let tuple = Value::Tuple(vec![Value::string("a"), Value::int(1)]);
        golden(&Type::tuple(vec![Type::String, Type::Number]), &tuple, "92 a1 61 01");
    }

    #[test]
    fn objects_are_maps_with_sorted_attributes() {
        let ty = Type::object([("name", Type::String), ("age", Type::Number)]);
        golden(&ty, &obj(&[("name", Value::string("x")), ("age", Value::int(3))]), "82 a3 616765 03 a4 6e616d65 a1 78");
        let nested = Type::object([("timeouts", Type::object([("create", Type::String)])), ("id", Type::String)]);
        let v = obj(&[("id", Value::unknown()), ("timeouts", obj(&[("create", Value::string("5m"))]))]);
        golden(&nested, &v, "82 a2 6964 d4 00 00 a8 74696d656f757473 81 a6 637265617465 a2 356d");
        golden(
            &nested,
            &obj(&[("id", Value::Null), ("timeouts", Value::Null)]),
            "82 a2 6964 c0 a8 74696d656f757473 c0",
        );
    }

    #[test]
    fn dynamic_values() {
        // A known value of dynamic type is [type json as bin, value].
        let v = Value::Dynamic(Box::new(Type::String), Box::new(Value::string("hi")));
        golden(&Type::Dynamic, &v, "92 c4 08 22737472696e6722 a2 6869");
        // A null or unknown value of dynamic type itself carries no type.
        golden(&Type::Dynamic, &Value::Null, "c0");
        golden(&Type::Dynamic, &Value::unknown(), "d4 00 00");
        // A null with a concrete type keeps the wrapper.
        let typed_null = Value::Dynamic(Box::new(Type::String), Box::new(Value::Null));
        golden(&Type::Dynamic, &typed_null, "92 c4 08 22737472696e6722 c0");
        // A typed unknown inside: the wrapper is kept and the inner unknown may be refined.
        let typed_unknown = Value::Dynamic(
            Box::new(Type::String),
            Box::new(Value::Unknown(Refinements { not_null: Some(true), ..Default::default() })),
        );
        golden(&Type::Dynamic, &typed_unknown, "92 c4 08 22737472696e6722 c7 03 0c 81 01 c2");
        let list = Value::Dynamic(Box::new(Type::list(Type::Bool)), Box::new(Value::List(vec![Value::Bool(true)])));
        golden(&Type::Dynamic, &list, "92 c4 0f 5b226c697374222c22626f6f6c225d 91 c3");
        // Type json sent as a str instead of bin is read too.
        let v2 = decode_msgpack(&Type::Dynamic, &unhex("92 a8 22737472696e6722 a2 6869")).unwrap();
        assert_eq!(v2, v);
        // Refinements cannot be attached to a dynamic unknown in cty; they are dropped.
        let refined = Value::Unknown(Refinements { not_null: Some(true), ..Default::default() });
        assert_eq!(hex::encode(encode_msgpack(&Type::Dynamic, &refined).unwrap()), "d40000");
    }

    #[test]
    fn encoding_errors_carry_the_path() {
        let ty = Type::object([("timeouts", Type::object([("create", Type::String)]))]);
        let err = encode_msgpack(&ty, &obj(&[("timeouts", obj(&[("create", Value::Bool(true))]))])).unwrap_err();
        assert_eq!(err.to_string(), "at timeouts.create: expected string, got bool");
        let err = encode_msgpack(&ty, &obj(&[("timeouts", obj(&[]))])).unwrap_err();
        assert_eq!(
            (err.kind(), err.to_string()),
            (ErrorKind::MissingAttribute, "at timeouts.create: missing attribute".into())
        );
        let err = encode_msgpack(&ty, &obj(&[("timeouts", Value::Null), ("extra", Value::Null)])).unwrap_err();
        assert_eq!(
            (err.kind(), err.to_string()),
            (ErrorKind::UnexpectedAttribute, "at extra: unsupported attribute".into())
        );
        let tags = Type::map(Type::list(Type::String));
        let err =
            encode_msgpack(&tags, &Value::Map([("k".into(), Value::List(vec![Value::int(1)]))].into())).unwrap_err();
        assert_eq!(err.to_string(), "at [\"k\"][0]: expected string, got number");
        let err = encode_msgpack(&Type::Dynamic, &Value::string("x")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TypeMismatch);
        let bad_refinement = Value::Unknown(Refinements { length_lower: Some(1), ..Default::default() });
        assert_eq!(encode_msgpack(&Type::String, &bad_refinement).unwrap_err().kind(), ErrorKind::InvalidRefinement);
        let nan = Value::Number(Number::Float(f64::NAN));
        assert_eq!(encode_msgpack(&Type::Number, &nan).unwrap_err().kind(), ErrorKind::InvalidNumber);
    }

    #[test]
    fn decoding_errors_carry_the_path() {
        let ty = Type::object([("a", Type::list(Type::Bool)), ("b", Type::String)]);
        // {"a": [true, "x"], "b": nil}
        let err = decode_msgpack(&ty, &unhex("82 a1 61 92 c3 a1 78 a1 62 c0")).unwrap_err();
        assert_eq!(err.to_string(), "at a[1]: expected bool, got string");
        // {"a": nil}: b is missing.
        let err = decode_msgpack(&ty, &unhex("81 a1 61 c0")).unwrap_err();
        assert_eq!((err.kind(), err.to_string()), (ErrorKind::MissingAttribute, "at b: missing attribute".into()));
        // {"a": nil, "b": nil, "c": nil}: c is unexpected.
        let err = decode_msgpack(&ty, &unhex("83 a1 61 c0 a1 62 c0 a1 63 c0")).unwrap_err();
        assert_eq!((err.kind(), err.path().to_string()), (ErrorKind::UnexpectedAttribute, "c".into()));
        // Tuple of the wrong length.
        let err = decode_msgpack(&Type::tuple(vec![Type::Bool]), &unhex("92 c3 c3")).unwrap_err();
        assert_eq!(err.message(), "expected a tuple of 1 elements, got 2");
        // Truncated input, trailing input, absurd lengths, invalid dynamic type json.
        assert_eq!(decode_msgpack(&Type::String, &unhex("a5 6869")).unwrap_err().kind(), ErrorKind::Syntax);
        assert_eq!(decode_msgpack(&Type::String, &[]).unwrap_err().kind(), ErrorKind::Syntax);
        assert_eq!(decode_msgpack(&Type::Bool, &unhex("c3 c3")).unwrap_err().kind(), ErrorKind::Syntax);
        assert_eq!(
            decode_msgpack(&Type::list(Type::Bool), &unhex("dd ffffffff c3")).unwrap_err().kind(),
            ErrorKind::Syntax
        );
        let err = decode_msgpack(&Type::Dynamic, &unhex("92 c4 03 227822 c3")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidType);
        let err = decode_msgpack(&Type::map(Type::Bool), &unhex("82 a1 61 c3 a1 61 c2")).unwrap_err();
        assert_eq!(err.path().to_string(), "[\"a\"]");
        // {"b": nil, "b": nil}: a duplicate attribute, at its own path.
        let err = decode_msgpack(&ty, &unhex("82 a1 62 c0 a1 62 c0")).unwrap_err();
        assert_eq!((err.kind(), err.to_string()), (ErrorKind::Syntax, "at b: duplicate attribute".into()));
        // An error after a sibling decoded keeps only its own steps: {"b": nil, "a": [1]}.
        let err = decode_msgpack(&ty, &unhex("82 a1 62 c0 a1 61 91 01")).unwrap_err();
        assert_eq!(err.to_string(), "at a[0]: expected bool, got number");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn values_round_trip((ty, v) in arb_type_and_value()) {
            let bytes = encode_msgpack(&ty, &v).unwrap();
            let back = decode_msgpack(&ty, &bytes).unwrap();
            prop_assert!(back.same_as(&v), "{} -> {:?}", hex::encode(&bytes), back);
            prop_assert!(v.check_type(&ty).is_ok());
            // Encoding is deterministic: decoding and encoding again gives the same bytes.
            prop_assert_eq!(encode_msgpack(&ty, &back).unwrap(), bytes);
        }

        #[test]
        fn wrong_types_are_refused((ty, v, other) in arb_type_kind_mismatch(true)) {
            prop_assert!(v.check_type(&ty).is_ok());
            let err = encode_msgpack(&other, &v).unwrap_err();
            prop_assert!(err.path().is_root());
            prop_assert!(v.check_type(&other).is_err());
            let err = encode_msgpack(&Type::list(other), &Value::List(vec![Value::Null, v])).unwrap_err();
            prop_assert_eq!(err.path().clone(), AttributePath::root().push_index(1));
        }

        #[test]
        fn arbitrary_bytes_never_panic(ty in arb_type(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_msgpack(&ty, &bytes);
        }
    }
}
