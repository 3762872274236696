//! cty types. A value can only be decoded when its type is known.

use std::collections::BTreeMap;
use std::fmt;

/// A cty type.
///
/// `Object` keeps attributes sorted by name, which is also the order cty uses on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Bool,
    Number,
    String,
    /// The "any type" placeholder; values of it travel with their concrete type attached.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    Tuple(Vec<Type>),
}

impl Type {
    pub fn list(element: Type) -> Self {
        Type::List(Box::new(element))
    }
    pub fn set(element: Type) -> Self {
        Type::Set(Box::new(element))
    }
    pub fn map(element: Type) -> Self {
        Type::Map(Box::new(element))
    }
    pub fn object<I, S>(attrs: I) -> Self
    where
        I: IntoIterator<Item = (S, Type)>,
        S: Into<String>,
    {
        Type::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn tuple(elements: Vec<Type>) -> Self {
        Type::Tuple(elements)
    }

    /// True for list, set and map: the types whose unknown values may carry length refinements.
    pub fn is_collection(&self) -> bool {
        matches!(self, Type::List(_) | Type::Set(_) | Type::Map(_))
    }
}

/// Names a type the way cty does in messages: `string`, `list of string`, `map of list of number`, `object`.
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => write!(f, "bool"),
            Type::Number => write!(f, "number"),
            Type::String => write!(f, "string"),
            Type::Dynamic => write!(f, "dynamic"),
            Type::List(e) => write!(f, "list of {e}"),
            Type::Set(e) => write!(f, "set of {e}"),
            Type::Map(e) => write!(f, "map of {e}"),
            Type::Object(_) => write!(f, "object"),
            Type::Tuple(_) => write!(f, "tuple"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_reads_like_cty() {
        assert_eq!(Type::map(Type::list(Type::Number)).to_string(), "map of list of number");
        assert_eq!(Type::object([("a", Type::Bool)]).to_string(), "object");
        assert!(Type::set(Type::String).is_collection());
        assert!(!Type::tuple(vec![]).is_collection());
    }
}
