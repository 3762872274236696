//! Does a value fit a type? Shared by both encoders and offered to callers as `Value::check_type`.
//!
//! This module must not encode or decode anything; it only walks a value beside its type.

use std::collections::BTreeMap;

use super::error::{CtyError, ErrorKind};
use super::path::{AttributePath, PathStep};
use super::types::Type;
use super::value::{Refinements, Value};

impl Value {
    /// Checks that this value fits `ty` all the way down, the same check the encoders make.
    ///
    /// Null and unknown fit every type. A value of `Type::Dynamic` must be `Value::Dynamic` (carrying its concrete
    /// type), null or unknown. Objects must have exactly the attributes of their type, tuples exactly as many
    /// elements, and refinements of unknown values must suit the type (a string prefix only on a string, and so on).
    pub fn check_type(&self, ty: &Type) -> Result<(), CtyError> {
        check(self, ty, &mut AttributePath::root())
    }
}

fn check(v: &Value, ty: &Type, path: &mut AttributePath) -> Result<(), CtyError> {
    match (ty, v) {
        (_, Value::Null) => Ok(()),
        (_, Value::Unknown(r)) => check_refinements(ty, r, path),
        (Type::Dynamic, Value::Dynamic(concrete, inner)) => {
            check_attached_type(concrete, path)?;
            check(inner, concrete, path)
        }
        (Type::Bool, Value::Bool(_)) | (Type::String, Value::String(_)) => Ok(()),
        (Type::Number, Value::Number(n)) => {
            if n.is_valid() {
                Ok(())
            } else {
                Err(invalid_number(path, n))
            }
        }
        (Type::List(e), Value::List(items)) | (Type::Set(e), Value::Set(items)) => {
            for (i, item) in items.iter().enumerate() {
                path.0.push(PathStep::Index(i as i64));
                check(item, e, path)?;
                path.0.pop();
            }
            Ok(())
        }
        (Type::Map(e), Value::Map(items)) => {
            for (key, item) in items {
                path.0.push(PathStep::Key(key.clone()));
                check(item, e, path)?;
                path.0.pop();
            }
            Ok(())
        }
        (Type::Object(attrs), Value::Object(values)) => {
            check_object_keys(attrs, values, path)?;
            for (name, attr_ty) in attrs {
                path.0.push(PathStep::Attr(name.clone()));
                check(&values[name], attr_ty, path)?;
                path.0.pop();
            }
            Ok(())
        }
        (Type::Tuple(types), Value::Tuple(items)) => {
            check_tuple_len(types, items, path)?;
            for (i, (item, item_ty)) in items.iter().zip(types).enumerate() {
                path.0.push(PathStep::Index(i as i64));
                check(item, item_ty, path)?;
                path.0.pop();
            }
            Ok(())
        }
        _ => Err(mismatch(path, ty, v)),
    }
}

/// The error for a value whose shape is not what the type asks for.
pub(super) fn mismatch(path: &AttributePath, ty: &Type, v: &Value) -> CtyError {
    let message = match ty {
        Type::Dynamic => format!("expected a value with its type attached (dynamic), got {}", v.kind_name()),
        _ => format!("expected {ty}, got {}", v.kind_name()),
    };
    CtyError::new(ErrorKind::TypeMismatch, path.clone(), message)
}

pub(super) fn invalid_number(path: &AttributePath, n: &super::value::Number) -> CtyError {
    CtyError::new(ErrorKind::InvalidNumber, path.clone(), format!("{n:?} is not a number cty can hold"))
}

/// The concrete type a `Value::Dynamic` carries cannot itself be `dynamic`: such a value would be a null or an
/// unknown, which travel without a type.
pub(super) fn check_attached_type(concrete: &Type, path: &AttributePath) -> Result<(), CtyError> {
    if *concrete == Type::Dynamic {
        return Err(CtyError::new(
            ErrorKind::TypeMismatch,
            path.clone(),
            "a dynamic value must carry a concrete type, not dynamic",
        ));
    }
    Ok(())
}

/// Objects must have exactly the attributes of their type. Unexpected ones are reported first, at their own path.
pub(super) fn check_object_keys(
    attrs: &BTreeMap<String, Type>,
    values: &BTreeMap<String, Value>,
    path: &AttributePath,
) -> Result<(), CtyError> {
    if let Some(extra) = values.keys().find(|name| !attrs.contains_key(*name)) {
        return Err(unexpected_attribute(path, extra));
    }
    if let Some(missing) = attrs.keys().find(|name| !values.contains_key(*name)) {
        return Err(missing_attribute(path, missing));
    }
    Ok(())
}

pub(super) fn unexpected_attribute(object_path: &AttributePath, name: &str) -> CtyError {
    CtyError::new(ErrorKind::UnexpectedAttribute, object_path.push_attr(name), "unsupported attribute")
}

pub(super) fn missing_attribute(object_path: &AttributePath, name: &str) -> CtyError {
    CtyError::new(ErrorKind::MissingAttribute, object_path.push_attr(name), "missing attribute")
}

pub(super) fn check_tuple_len<T>(types: &[Type], items: &[T], path: &AttributePath) -> Result<(), CtyError> {
    if types.len() != items.len() {
        return Err(CtyError::new(
            ErrorKind::TypeMismatch,
            path.clone(),
            format!("expected a tuple of {} elements, got {}", types.len(), items.len()),
        ));
    }
    Ok(())
}

/// Refinements must suit the type of the unknown value they describe, as cty requires. Unknowns of dynamic type
/// cannot be refined in cty; refinements on them are ignored by the encoders, so they pass here too.
pub(super) fn check_refinements(ty: &Type, r: &Refinements, path: &AttributePath) -> Result<(), CtyError> {
    if *ty == Type::Dynamic {
        return Ok(());
    }
    let wrong = |what: &str, needs: &str| {
        CtyError::new(
            ErrorKind::InvalidRefinement,
            path.clone(),
            format!("a {what} refinement needs {needs}, not an unknown {ty}"),
        )
    };
    if r.string_prefix.is_some() && *ty != Type::String {
        return Err(wrong("string prefix", "a string"));
    }
    if (r.number_lower.is_some() || r.number_upper.is_some()) && *ty != Type::Number {
        return Err(wrong("number bound", "a number"));
    }
    if (r.length_lower.is_some() || r.length_upper.is_some()) && !ty.is_collection() {
        return Err(wrong("length bound", "a list, set or map"));
    }
    for (bound, _) in r.number_lower.iter().chain(r.number_upper.iter()) {
        if !bound.is_valid() {
            return Err(invalid_number(path, bound));
        }
    }
    if let (Some(lower), Some(upper)) = (r.length_lower, r.length_upper) {
        if lower > upper {
            return Err(CtyError::new(
                ErrorKind::InvalidRefinement,
                path.clone(),
                format!("length lower bound {lower} is above upper bound {upper}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::value::Number;
    use super::*;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn a_nested_mismatch_names_its_path() {
        let ty = Type::object([("timeouts", Type::object([("create", Type::String)]))]);
        let v = obj(&[("timeouts", obj(&[("create", Value::Bool(true))]))]);
        assert_eq!(v.check_type(&ty).unwrap_err().to_string(), "at timeouts.create: expected string, got bool");
    }

    #[test]
    fn objects_need_exactly_their_attributes() {
        let ty = Type::object([("a", Type::String), ("b", Type::String)]);
        let err = obj(&[("a", Value::Null)]).check_type(&ty).unwrap_err();
        assert_eq!((err.kind(), err.to_string()), (ErrorKind::MissingAttribute, "at b: missing attribute".into()));
        let err = obj(&[("a", Value::Null), ("b", Value::Null), ("c", Value::Null)]).check_type(&ty).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedAttribute);
        assert_eq!(err.path(), &AttributePath::attr("c"));
    }

    #[test]
    fn null_and_unknown_fit_anything() {
        for ty in [Type::Bool, Type::Dynamic, Type::object([("a", Type::Number)]), Type::tuple(vec![Type::Bool])] {
            assert!(Value::Null.check_type(&ty).is_ok());
            assert!(Value::unknown().check_type(&ty).is_ok());
        }
    }

    #[test]
    fn dynamic_needs_an_attached_type() {
        assert!(Value::string("x").check_type(&Type::Dynamic).is_err());
        let v = Value::Dynamic(Box::new(Type::String), Box::new(Value::string("x")));
        assert!(v.check_type(&Type::Dynamic).is_ok());
        assert!(v.check_type(&Type::String).is_err());
        let v = Value::Dynamic(Box::new(Type::Number), Box::new(Value::string("x")));
        assert_eq!(v.check_type(&Type::Dynamic).unwrap_err().message(), "expected number, got string");
    }

    #[test]
    fn refinements_must_suit_the_type() {
        let prefix = Value::Unknown(Refinements { string_prefix: Some("arn:".into()), ..Default::default() });
        assert!(prefix.check_type(&Type::String).is_ok());
        let err = prefix.check_type(&Type::list(Type::String)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRefinement);
        let len = Value::Unknown(Refinements { length_lower: Some(3), length_upper: Some(1), ..Default::default() });
        assert!(len.check_type(&Type::set(Type::String)).is_err());
        let bound = Value::Unknown(Refinements { number_lower: Some((Number::Int(0), true)), ..Default::default() });
        assert!(bound.check_type(&Type::Number).is_ok());
        assert!(bound.check_type(&Type::String).is_err());
    }

    #[test]
    fn nan_is_not_a_number() {
        assert_eq!(
            Value::Number(Number::Float(f64::NAN)).check_type(&Type::Number).unwrap_err().kind(),
            ErrorKind::InvalidNumber
        );
    }

    #[test]
    fn tuple_length_is_checked() {
        let err = Value::Tuple(vec![Value::Null]).check_type(&Type::tuple(vec![Type::Bool, Type::Bool])).unwrap_err();
        assert_eq!(err.message(), "expected a tuple of 2 elements, got 1");
    }
}
