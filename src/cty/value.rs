//! cty values.
//!
//! A `Value` does not carry its type: the schema supplies it when encoding and decoding. The one exception is a
//! value of the `Dynamic` type, which travels with its concrete type (`Value::Dynamic`).

use std::collections::BTreeMap;

use super::decimal::{self, Parsed};
use super::path::{AttributePath, PathStep};
use super::types::Type;

/// A cty number as it arrived or as it will be sent: msgpack carries an int when the number is an exact int64,
/// a float64 when exact, and otherwise a decimal string.
#[derive(Clone, Debug)]
pub enum Number {
    Int(i64),
    Float(f64),
    /// A decimal that fits neither of the above, kept as its exact text (for example `"1e400"`).
    Decimal(String),
}

impl Number {
    /// The value as an i64 when it is a whole number in range.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(*i),
            Number::Float(f) if f.fract() == 0.0 && *f >= i64::MIN as f64 && *f <= i64::MAX as f64 => Some(*f as i64),
            Number::Float(_) => None,
            Number::Decimal(s) => match decimal::parse(s)? {
                Parsed::Finite(d) => d.to_i64(),
                Parsed::Infinite { .. } => None,
            },
        }
    }

    /// The value as an f64 (possibly rounded for decimals).
    pub fn as_f64(&self) -> f64 {
        match self {
            Number::Int(i) => *i as f64,
            Number::Float(f) => *f,
            Number::Decimal(s) => s.parse().unwrap_or(f64::NAN),
        }
    }
}

/// Numbers compare as cty compares them, whatever their representation: whole numbers exactly, fractions by their
/// shortest decimal text. So `Int(3) == Float(3.0)`, `Decimal("0.5") == Float(0.5)`, `Decimal("0.1") == Float(0.1)`
/// (a float reads as its shortest text), but `Int(i64::MAX) != Float(2^63)`. NaN equals nothing.
impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a == b,
            (Number::Float(a), Number::Float(b)) => a == b,
            (Number::Int(i), Number::Float(f)) | (Number::Float(f), Number::Int(i)) => {
                // 2^63 is the first float above i64::MAX; `as` saturates, so compare the range first.
                f.fract() == 0.0 && *f >= i64::MIN as f64 && *f < i64::MAX as f64 && *f as i64 == *i
            }
            _ => match (self.cty_decimal(), other.cty_decimal()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }
}

impl Number {
    /// Parses number text as cty does: decimal digits with optional sign, point and exponent, or `inf`/`Inf`.
    /// Exact int64 values become `Int`, infinities `Float`, everything else `Decimal` in plain notation
    /// (`"1e3"` -> `Int(1000)`, `"0.10"` -> `Decimal("0.1")`). `None` when the text is not a number.
    pub fn parse(text: &str) -> Option<Number> {
        match decimal::parse(text)? {
            Parsed::Infinite { negative: true } => Some(Number::Float(f64::NEG_INFINITY)),
            Parsed::Infinite { negative: false } => Some(Number::Float(f64::INFINITY)),
            Parsed::Finite(d) => Some(match d.to_i64() {
                Some(i) => Number::Int(i),
                None => Number::Decimal(d.plain()),
            }),
        }
    }

    /// True when cty can hold this number: not NaN, and decimal text that parses.
    pub fn is_valid(&self) -> bool {
        match self {
            Number::Int(_) => true,
            Number::Float(f) => !f.is_nan(),
            Number::Decimal(s) => decimal::parse(s).is_some(),
        }
    }

    /// The number as cty prints it: plain notation without exponent (`"1000"`, `"0.25"`, `"-3"`); `None` for
    /// infinities and NaN, which have no such text. Fractional floats print as their shortest text (`0.1`).
    pub fn to_text(&self) -> Option<String> {
        match self {
            Number::Int(i) => Some(i.to_string()),
            Number::Float(f) if *f == 0.0 => Some("0".to_string()),
            // A whole float prints exactly: beyond 2^53 its shortest text would name a different integer.
            Number::Float(f) if f.is_finite() && f.fract() == 0.0 => Some(format!("{f:.0}")),
            // Display prints the shortest text that reads back as the same float, without an exponent.
            Number::Float(f) if f.is_finite() => Some(f.to_string()),
            Number::Float(_) => None,
            Number::Decimal(s) => match decimal::parse(s)? {
                Parsed::Finite(d) => Some(d.plain()),
                Parsed::Infinite { .. } => None,
            },
        }
    }

    /// The decimal cty compares: whole floats exactly, fractional floats by their shortest text.
    fn cty_decimal(&self) -> Option<Parsed> {
        match (self.to_text(), self) {
            (Some(text), _) => decimal::parse(&text),
            (None, Number::Float(f)) if f.is_infinite() => Some(Parsed::Infinite { negative: *f < 0.0 }),
            // Decimal text spelling an infinity; anything else here (NaN, malformed text) compares unequal.
            (None, Number::Decimal(text)) => decimal::parse(text),
            (None, _) => None,
        }
    }
}

/// What Terraform already knows about a value that is not yet known (cty "refinements").
/// `Refinements::default()` means nothing is known: a plain unknown.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Refinements {
    /// `Some(true)`: the eventual value is definitely not null. `Some(false)` ("definitely null") is sent as cty
    /// would, but cty reads it as a known null, so it decodes back as `Value::Null`.
    pub not_null: Option<bool>,
    /// The eventual string value starts with this (only on strings; an empty prefix says nothing and is not sent).
    pub string_prefix: Option<String>,
    /// Lower bound of an eventual number, and whether it is inclusive (only on numbers).
    pub number_lower: Option<(Number, bool)>,
    /// Upper bound of an eventual number, and whether it is inclusive.
    pub number_upper: Option<(Number, bool)>,
    /// Bounds of the eventual length of a collection (only on lists, sets and maps).
    pub length_lower: Option<u64>,
    pub length_upper: Option<u64>,
}

impl Refinements {
    pub fn is_empty(&self) -> bool {
        *self == Refinements::default()
    }
}

/// A cty value.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    #[default]
    Null,
    /// Not known until apply (or until another resource is applied).
    Unknown(Refinements),
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    /// Set elements, kept in the order they arrived; equality of sets is not order-sensitive (see `same_as`).
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    /// A value of the `Dynamic` type: the concrete type travels with it.
    Dynamic(Box<Type>, Box<Value>),
}

impl Value {
    /// A plain unknown, with no refinements.
    pub fn unknown() -> Self {
        Value::Unknown(Refinements::default())
    }

    pub fn string(s: impl Into<String>) -> Self {
        Value::String(s.into())
    }

    pub fn int(i: i64) -> Self {
        Value::Number(Number::Int(i))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }

    /// True when neither this value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(items) | Value::Object(items) => items.values().all(Value::is_wholly_known),
            Value::Dynamic(_, inner) => inner.is_wholly_known(),
            _ => true,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// An attribute of an object value; `None` when this is not an object or has no such attribute.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(attrs) => attrs.get(name),
            _ => None,
        }
    }

    /// An object of the given object type with every attribute null (what a resource looks like before any
    /// attribute is set). For any other type, `Value::Null`.
    pub fn null_object(ty: &Type) -> Value {
        match ty {
            Type::Object(attrs) => Value::Object(attrs.keys().map(|name| (name.clone(), Value::Null)).collect()),
            _ => Value::Null,
        }
    }

    /// Paths to every unknown value inside this value, in value order; the root path when the value itself is
    /// unknown. Set elements are addressed by their position, as sets have no keys.
    pub fn unknown_paths(&self) -> Vec<AttributePath> {
        let mut found = Vec::new();
        self.collect_unknown_paths(&mut AttributePath::root(), &mut found);
        found
    }

    fn collect_unknown_paths(&self, path: &mut AttributePath, found: &mut Vec<AttributePath>) {
        match self {
            Value::Unknown(_) => found.push(path.clone()),
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.0.push(PathStep::Index(i as i64));
                    item.collect_unknown_paths(path, found);
                    path.0.pop();
                }
            }
            Value::Map(items) => {
                for (key, item) in items {
                    path.0.push(PathStep::Key(key.clone()));
                    item.collect_unknown_paths(path, found);
                    path.0.pop();
                }
            }
            Value::Object(attrs) => {
                for (name, item) in attrs {
                    path.0.push(PathStep::Attr(name.clone()));
                    item.collect_unknown_paths(path, found);
                    path.0.pop();
                }
            }
            Value::Dynamic(_, inner) => inner.collect_unknown_paths(path, found),
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
        }
    }

    /// A short name of what this value is, for error messages: `"string"`, `"list"`, `"null"`.
    pub(super) fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown(_) => "unknown",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
            Value::Tuple(_) => "tuple",
            Value::Dynamic(..) => "dynamic value",
        }
    }

    /// Semantic equality: like `==`, but sets compare without regard to element order.
    pub fn same_as(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Set(a), Value::Set(b)) => {
                a.len() == b.len()
                    && a.iter().all(|x| b.iter().any(|y| x.same_as(y)))
                    && b.iter().all(|y| a.iter().any(|x| x.same_as(y)))
            }
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_as(y))
            }
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, x)| b.get(k).is_some_and(|y| x.same_as(y)))
            }
            (Value::Dynamic(ta, a), Value::Dynamic(tb, b)) => ta == tb && a.same_as(b),
            _ => self == other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_exactly_across_representations() {
        assert_eq!(Number::Decimal("0.5".into()), Number::Float(0.5));
        // As in cty, a fractional float equals the decimal of its shortest text.
        assert_eq!(Number::Decimal("0.1".into()), Number::Float(0.1));
        assert_ne!(Number::Decimal("0.1000000000000000055511151231257827".into()), Number::Float(0.1));
        // Whole numbers compare exactly: 1e300 as a float is not ten to the 300th.
        assert_ne!(Number::Decimal("1e300".into()), Number::Float(1e300));
        assert_eq!(Number::Decimal(format!("{:.0}", 1e300)), Number::Float(1e300));
        assert_eq!(Number::Decimal("100000000000000000000".into()), Number::Float(1e20));
        assert_ne!(Number::Decimal("100000000000000000001".into()), Number::Decimal("100000000000000000000".into()));
        // i64::MAX rounds to 2^63 as a float; they are different numbers.
        assert_ne!(Number::Int(i64::MAX), Number::Float(i64::MAX as f64));
        assert_ne!(Number::Float(f64::NAN), Number::Float(f64::NAN));
        assert_eq!(Number::Decimal("-Inf".into()), Number::Float(f64::NEG_INFINITY));
        assert_eq!(Number::Decimal("7.0".into()).as_i64(), Some(7));
    }

    #[test]
    fn number_parse_prefers_int_then_plain_decimal() {
        assert_eq!(Number::parse("1e3"), Some(Number::Int(1000)));
        assert!(matches!(Number::parse("0.10"), Some(Number::Decimal(s)) if s == "0.1"));
        assert!(matches!(Number::parse("1e20"), Some(Number::Decimal(s)) if s == "100000000000000000000"));
        assert!(matches!(Number::parse("-inf"), Some(Number::Float(f)) if f == f64::NEG_INFINITY));
        assert_eq!(Number::parse("ten"), None);
        assert_eq!(Number::Float(1e21).to_text().as_deref(), Some("1000000000000000000000"));
        assert_eq!(Number::Float(2.5e-7).to_text().as_deref(), Some("0.00000025"));
        assert_eq!(Number::Decimal("1.50e2".into()).to_text().as_deref(), Some("150"));
        assert_eq!(Number::Float(f64::INFINITY).to_text(), None);
    }

    #[test]
    fn null_object_has_every_attribute() {
        let ty = Type::object([("a", Type::String), ("b", Type::list(Type::Bool))]);
        let v = Value::null_object(&ty);
        assert_eq!(v.get("a"), Some(&Value::Null));
        assert_eq!(v.get("b"), Some(&Value::Null));
        assert_eq!(Value::null_object(&Type::String), Value::Null);
    }

    #[test]
    fn unknown_paths_name_every_unknown() {
        let v = Value::Object(
            [
                ("a".to_string(), Value::List(vec![Value::int(1), Value::unknown()])),
                ("m".to_string(), Value::Map([("k".to_string(), Value::unknown())].into())),
                ("s".to_string(), Value::string("known")),
            ]
            .into(),
        );
        let paths: Vec<String> = v.unknown_paths().iter().map(ToString::to_string).collect();
        assert_eq!(paths, ["a[1]", "m[\"k\"]"]);
        assert_eq!(Value::unknown().unknown_paths(), vec![AttributePath::root()]);
        assert!(Value::string("x").unknown_paths().is_empty());
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(Number::Int(3), Number::Float(3.0));
        assert_ne!(Number::Int(3), Number::Float(3.5));
        assert_eq!(Number::Decimal("7".into()), Number::Int(7));
    }

    #[test]
    fn sets_compare_without_order() {
        let a = Value::Set(vec![Value::string("x"), Value::string("y")]);
        let b = Value::Set(vec![Value::string("y"), Value::string("x")]);
        assert!(a.same_as(&b));
        assert!(!a.same_as(&Value::Set(vec![Value::string("x")])));
    }

    #[test]
    fn wholly_known_looks_inside() {
        let v = Value::Object([("a".to_string(), Value::List(vec![Value::unknown()]))].into());
        assert!(!v.is_wholly_known());
        assert!(Value::Null.is_wholly_known());
    }
}
