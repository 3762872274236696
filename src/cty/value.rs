//! cty values.
//!
//! A `Value` does not carry its type: the schema supplies it when encoding and decoding. The one exception is a
//! value of the `Dynamic` type, which travels with its concrete type (`Value::Dynamic`).

use std::collections::BTreeMap;

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
            Number::Decimal(s) => s.parse().ok(),
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

/// Numbers compare by value, not by representation: `Int(3) == Float(3.0)`.
impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a == b,
            (Number::Decimal(a), Number::Decimal(b)) if a == b => true,
            _ => match (self.as_i64(), other.as_i64()) {
                (Some(a), Some(b)) => a == b,
                _ => self.as_f64() == other.as_f64(),
            },
        }
    }
}

/// What Terraform already knows about a value that is not yet known (cty "refinements").
/// `Refinements::default()` means nothing is known: a plain unknown.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Refinements {
    /// `Some(true)`: the eventual value is definitely not null.
    pub not_null: Option<bool>,
    /// The eventual string value starts with this.
    pub string_prefix: Option<String>,
    /// Lower bound of an eventual number, and whether it is inclusive.
    pub number_lower: Option<(Number, bool)>,
    /// Upper bound of an eventual number, and whether it is inclusive.
    pub number_upper: Option<(Number, bool)>,
    /// Bounds of the eventual length of a collection.
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
