//! proptest strategies for the codec tests: random types (depth-limited) and random values of those types.
//!
//! Test-only. Values are built to be exactly representable by the codecs, the way cty itself would hold them:
//! refinements only where cty allows them, no empty string prefix (cty does not record one), no refinements on
//! unknowns of dynamic type, and a `Value::Dynamic` never carries the type `dynamic` itself.

use proptest::prelude::*;

use super::types::Type;
use super::value::{Number, Refinements, Value};

/// How deep dynamic values may nest inside each other.
const DYNAMIC_BUDGET: u32 = 2;

pub(super) fn arb_type() -> BoxedStrategy<Type> {
    arb_type_of_depth(3)
}

fn arb_type_of_depth(depth: u32) -> BoxedStrategy<Type> {
    let leaf = prop_oneof![Just(Type::Bool), Just(Type::Number), Just(Type::String), Just(Type::Dynamic)];
    leaf.prop_recursive(depth, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::btree_map("[a-z_]{1,6}", inner.clone(), 0..4).prop_map(Type::Object),
            prop::collection::vec(inner, 0..4).prop_map(Type::Tuple),
        ]
    })
    .boxed()
}

/// A type with a value of it that may hold nulls and unknowns (with refinements) at any depth.
pub(super) fn arb_type_and_value() -> impl Strategy<Value = (Type, Value)> {
    arb_type().prop_flat_map(|ty| arb_value(&ty, true, DYNAMIC_BUDGET).prop_map(move |v| (ty.clone(), v)))
}

/// A type with a wholly known value of it (nulls allowed), as JSON can carry.
pub(super) fn arb_type_and_known_value() -> impl Strategy<Value = (Type, Value)> {
    arb_type().prop_flat_map(|ty| arb_value(&ty, false, DYNAMIC_BUDGET).prop_map(move |v| (ty.clone(), v)))
}

/// A type, a non-null known value of it (its insides may hold nulls, and unknowns when `unknowns`), and another
/// type of a different kind, which the value cannot fit.
pub(super) fn arb_type_kind_mismatch(unknowns: bool) -> impl Strategy<Value = (Type, Value, Type)> {
    (arb_type(), arb_type())
        .prop_filter("types of the same kind", |(a, b)| std::mem::discriminant(a) != std::mem::discriminant(b))
        .prop_flat_map(move |(ty, other)| {
            arb_concrete_value(&ty, unknowns, DYNAMIC_BUDGET).prop_map(move |v| (ty.clone(), v, other.clone()))
        })
}

/// A value of `ty`: null, sometimes unknown, or a concrete value.
pub(super) fn arb_value(ty: &Type, unknowns: bool, budget: u32) -> BoxedStrategy<Value> {
    let concrete = arb_concrete_value(ty, unknowns, budget);
    if unknowns {
        prop_oneof![1 => Just(Value::Null), 1 => arb_unknown(ty), 5 => concrete].boxed()
    } else {
        prop_oneof![1 => Just(Value::Null), 5 => concrete].boxed()
    }
}

/// A value of `ty` that is neither null nor unknown at the top (its elements may be).
fn arb_concrete_value(ty: &Type, unknowns: bool, budget: u32) -> BoxedStrategy<Value> {
    match ty {
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Number => arb_number(unknowns).prop_map(Value::Number).boxed(),
        Type::String => any::<String>().prop_map(Value::String).boxed(),
        Type::List(e) => prop::collection::vec(arb_value(e, unknowns, budget), 0..4).prop_map(Value::List).boxed(),
        Type::Set(e) => prop::collection::vec(arb_value(e, unknowns, budget), 0..4).prop_map(Value::Set).boxed(),
        Type::Map(e) => {
            prop::collection::btree_map(".{0,6}", arb_value(e, unknowns, budget), 0..4).prop_map(Value::Map).boxed()
        }
        Type::Object(attrs) => {
            let names: Vec<String> = attrs.keys().cloned().collect();
            let values: Vec<BoxedStrategy<Value>> = attrs.values().map(|t| arb_value(t, unknowns, budget)).collect();
            values.prop_map(move |vs| Value::Object(names.iter().cloned().zip(vs).collect())).boxed()
        }
        Type::Tuple(types) => {
            let values: Vec<BoxedStrategy<Value>> = types.iter().map(|t| arb_value(t, unknowns, budget)).collect();
            values.prop_map(Value::Tuple).boxed()
        }
        Type::Dynamic if budget == 0 => Just(Value::Dynamic(Box::new(Type::Bool), Box::new(Value::Bool(true)))).boxed(),
        Type::Dynamic => arb_type_of_depth(2)
            .prop_filter("a dynamic value carries a concrete type", |t| *t != Type::Dynamic)
            .prop_flat_map(move |t| {
                arb_value(&t, unknowns, budget - 1).prop_map(move |v| Value::Dynamic(Box::new(t.clone()), Box::new(v)))
            })
            .boxed(),
    }
}

/// Numbers in every representation. Infinity only where the format can carry it (msgpack, which is also where
/// unknowns are allowed).
fn arb_number(with_infinity: bool) -> BoxedStrategy<Number> {
    let finite = prop_oneof![
        any::<i64>().prop_map(Number::Int),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Number::Float),
        (-1e6f64..1e6).prop_map(Number::Float),
        // Decimals beyond float precision, big integers beyond i64, and short ones that are exact floats.
        "-?[1-9][0-9]{0,25}\\.[0-9]{0,25}[1-9]".prop_map(Number::Decimal),
        "-?[1-9][0-9]{19,40}".prop_map(Number::Decimal),
        "-?[0-9]{1,3}\\.(5|25|125)".prop_map(Number::Decimal),
    ];
    if with_infinity {
        prop_oneof![10 => finite, 1 => Just(Number::Float(f64::INFINITY)), 1 => Just(Number::Float(f64::NEG_INFINITY))]
            .boxed()
    } else {
        finite.boxed()
    }
}

/// An unknown value with refinements that suit the type, as cty would produce.
fn arb_unknown(ty: &Type) -> BoxedStrategy<Value> {
    let not_null = prop::option::of(Just(true));
    match ty {
        Type::Dynamic => Just(Value::unknown()).boxed(),
        Type::String => (not_null, prop::option::of(".{1,8}"))
            .prop_map(|(not_null, string_prefix)| {
                Value::Unknown(Refinements { not_null, string_prefix, ..Default::default() })
            })
            .boxed(),
        Type::Number => {
            let bound = || prop::option::of((arb_number(false), any::<bool>()));
            (not_null, bound(), bound())
                .prop_map(|(not_null, number_lower, number_upper)| {
                    Value::Unknown(Refinements { not_null, number_lower, number_upper, ..Default::default() })
                })
                .boxed()
        }
        Type::List(_) | Type::Set(_) | Type::Map(_) => {
            (not_null, prop::option::of(0u64..5), prop::option::of(5u64..1000))
                .prop_map(|(not_null, length_lower, length_upper)| {
                    Value::Unknown(Refinements { not_null, length_lower, length_upper, ..Default::default() })
                })
                .boxed()
        }
        _ => not_null.prop_map(|not_null| Value::Unknown(Refinements { not_null, ..Default::default() })).boxed(),
    }
}
