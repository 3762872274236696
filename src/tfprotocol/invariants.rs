//! The protocol's promises about planned and applied values, checked once here for every resource.
//!
//! Terraform rejects a provider that breaks them with "Provider produced invalid plan" or "Provider produced
//! inconsistent result after apply", blaming nobody in particular. Checking here turns the same mistake into a
//! diagnostic that names the attribute and says it is a provider bug. Messages name paths, never values: a value
//! may be sensitive.

use crate::cty::{AttributePath, Value};
use crate::diag::{Diagnostic, Diagnostics};
use crate::schema::{Block, Nesting};

/// After plan: every configured (non-null) value is planned unchanged, and a non-computed attribute that is not
/// configured stays null. `config` and `planned` are the whole resource objects (both null for a destroy).
pub(crate) fn check_plan(block: &Block, config: &Value, planned: &Value) -> Diagnostics {
    let mut out = Vec::new();
    plan_block(block, config, planned, &AttributePath::root(), &mut out);
    Diagnostics::from(out)
}

fn plan_block(block: &Block, config: &Value, planned: &Value, path: &AttributePath, out: &mut Vec<Diagnostic>) {
    let (config_attrs, planned_attrs) = match (config, planned) {
        (Value::Null, Value::Null) => return,
        (Value::Null, _) if path.is_root() => {
            out.push(Diagnostic::provider_bug("The plan for a destroy is not null."));
            return;
        }
        (Value::Null, _) => {
            out.push(Diagnostic::provider_bug(format!("The plan sets block {path}, which is not configured.")));
            return;
        }
        (Value::Unknown(_), Value::Unknown(_)) => return,
        (Value::Unknown(_), _) => {
            out.push(Diagnostic::provider_bug(format!(
                "The plan sets {}, whose configuration is not known yet.",
                name(path)
            )));
            return;
        }
        (Value::Object(c), Value::Object(p)) => (c, p),
        _ => {
            out.push(Diagnostic::provider_bug(format!(
                "The plan for {} does not have the configured shape.",
                name(path)
            )));
            return;
        }
    };
    for attr in &block.attributes {
        let config_value = config_attrs.get(&attr.name).unwrap_or(&Value::Null);
        let planned_value = planned_attrs.get(&attr.name).unwrap_or(&Value::Null);
        let attr_path = path.push_attr(&attr.name);
        if !config_value.is_null() {
            if !planned_equal(config_value, planned_value) {
                out.push(Diagnostic::provider_bug(format!(
                    "The plan changes {attr_path}, which is set in the configuration. A configured value must be \
                     planned exactly as written."
                )));
            }
        } else if !attr.computed && !planned_value.is_null() {
            out.push(Diagnostic::provider_bug(format!(
                "The plan sets {attr_path}, which is not configured and not computed by the provider."
            )));
        }
    }
    for nested in &block.blocks {
        let config_value = config_attrs.get(&nested.name).unwrap_or(&Value::Null);
        let planned_value = planned_attrs.get(&nested.name).unwrap_or(&Value::Null);
        let block_path = path.push_attr(&nested.name);
        match (nested.nesting, config_value, planned_value) {
            (_, Value::Unknown(_), Value::Unknown(_)) => {}
            (Nesting::Single | Nesting::Group, _, _) => {
                plan_block(&nested.block, config_value, planned_value, &block_path, out)
            }
            (Nesting::List, Value::List(c), Value::List(p)) if c.len() == p.len() => {
                for (i, (c, p)) in c.iter().zip(p).enumerate() {
                    plan_block(&nested.block, c, p, &block_path.push_index(i as i64), out);
                }
            }
            // Set elements cannot be paired up once the provider filled in computed parts: check the count only.
            (Nesting::Set, Value::Set(c), Value::Set(p)) if c.len() == p.len() => {}
            (Nesting::Map, Value::Map(c), Value::Map(p)) if c.keys().eq(p.keys()) => {
                for (key, c) in c {
                    plan_block(&nested.block, c, &p[key], &block_path.push_key(key), out);
                }
            }
            (Nesting::List | Nesting::Set | Nesting::Map, Value::Null, Value::Null) => {}
            _ => out.push(Diagnostic::provider_bug(format!(
                "The plan for block {block_path} does not have the configured number of blocks."
            ))),
        }
    }
}

/// Equality for plan checks: like `Value::same_as`, but any two unknowns are equal (refinements may differ).
fn planned_equal(config: &Value, planned: &Value) -> bool {
    match (config, planned) {
        (Value::Unknown(_), Value::Unknown(_)) => true,
        (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| planned_equal(x, y))
        }
        (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, x)| b.get(k).is_some_and(|y| planned_equal(x, y)))
        }
        (Value::Set(a), Value::Set(b)) => {
            a.len() == b.len()
                && a.iter().all(|x| b.iter().any(|y| planned_equal(x, y)))
                && b.iter().all(|y| a.iter().any(|x| planned_equal(x, y)))
        }
        (Value::Dynamic(ta, a), Value::Dynamic(tb, b)) => ta == tb && planned_equal(a, b),
        _ => config.same_as(planned),
    }
}

/// After apply without errors: the object exists unless it was destroyed, and every value the plan knew is
/// unchanged. Unknown planned values may become anything.
pub(crate) fn check_apply(planned: &Value, new: &Value) -> Diagnostics {
    let mut out = Vec::new();
    match (planned.is_null(), new.is_null()) {
        (true, false) => out.push(Diagnostic::provider_bug("Apply of a destroy returned a state that is not null.")),
        (false, true) => {
            out.push(Diagnostic::provider_bug("Apply returned no state, but the plan creates or updates the object."))
        }
        (true, true) => {}
        (false, false) => apply_value(planned, new, &AttributePath::root(), &mut out),
    }
    Diagnostics::from(out)
}

fn apply_value(planned: &Value, new: &Value, path: &AttributePath, out: &mut Vec<Diagnostic>) {
    let changed = |out: &mut Vec<Diagnostic>| {
        out.push(Diagnostic::provider_bug(format!(
            "After apply, {} differs from the value the plan promised. Only values planned as unknown may change \
             during apply.",
            name(path)
        )))
    };
    match (planned, new) {
        (Value::Unknown(_), _) => {}
        (Value::Object(p), Value::Object(n)) | (Value::Map(p), Value::Map(n)) => {
            if matches!(planned, Value::Map(_)) && !p.keys().eq(n.keys()) {
                return changed(out);
            }
            for (key, p_item) in p {
                let n_item = n.get(key).unwrap_or(&Value::Null);
                let item_path =
                    if matches!(planned, Value::Object(_)) { path.push_attr(key) } else { path.push_key(key) };
                apply_value(p_item, n_item, &item_path, out);
            }
        }
        (Value::List(p), Value::List(n)) | (Value::Tuple(p), Value::Tuple(n)) => {
            if p.len() != n.len() {
                return changed(out);
            }
            for (i, (p_item, n_item)) in p.iter().zip(n).enumerate() {
                apply_value(p_item, n_item, &path.push_index(i as i64), out);
            }
        }
        // A set with unknown elements may collapse or grow when they become known: only a fully known set is held
        // to its plan.
        (Value::Set(_), _) if !planned.is_wholly_known() => {
            if !matches!(new, Value::Set(_)) {
                changed(out);
            }
        }
        (Value::Dynamic(pt, p), Value::Dynamic(nt, n)) if pt == nt => apply_value(p, n, path, out),
        _ => {
            if !planned.same_as(new) {
                changed(out);
            }
        }
    }
}

/// Replaces every unknown inside `value` with null and returns the paths where it did. Terraform refuses a state
/// with unknowns in it; a null keeps the state loadable while the diagnostic explains what went wrong.
pub(crate) fn take_unknowns(value: Value) -> (Value, Vec<AttributePath>) {
    let mut found = Vec::new();
    let value = strip_unknowns(value, &AttributePath::root(), &mut found);
    (value, found)
}

fn strip_unknowns(value: Value, path: &AttributePath, found: &mut Vec<AttributePath>) -> Value {
    match value {
        Value::Unknown(_) => {
            found.push(path.clone());
            Value::Null
        }
        Value::Object(items) => Value::Object(
            items.into_iter().map(|(k, v)| (k.clone(), strip_unknowns(v, &path.push_attr(&k), found))).collect(),
        ),
        Value::Map(items) => Value::Map(
            items.into_iter().map(|(k, v)| (k.clone(), strip_unknowns(v, &path.push_key(&k), found))).collect(),
        ),
        Value::List(items) => Value::List(strip_each(items, path, found)),
        Value::Tuple(items) => Value::Tuple(strip_each(items, path, found)),
        Value::Set(items) => Value::Set(items.into_iter().map(|v| strip_unknowns(v, path, found)).collect()),
        Value::Dynamic(ty, inner) => Value::Dynamic(ty, Box::new(strip_unknowns(*inner, path, found))),
        other => other,
    }
}

fn strip_each(items: Vec<Value>, path: &AttributePath, found: &mut Vec<AttributePath>) -> Vec<Value> {
    items.into_iter().enumerate().map(|(i, v)| strip_unknowns(v, &path.push_index(i as i64), found)).collect()
}

/// A provider-bug diagnostic for unknowns left in a state `what` ("new state after apply").
pub(crate) fn unknowns_bug(what: &str, paths: &[AttributePath]) -> Diagnostic {
    let mut names: Vec<String> = paths.iter().take(5).map(name).collect();
    if paths.len() > 5 {
        names.push(format!("and {} more", paths.len() - 5));
    }
    Diagnostic::provider_bug(format!(
        "The {what} still contains unknown values ({}). They were stored as null.",
        names.join(", ")
    ))
}

fn name(path: &AttributePath) -> String {
    if path.is_root() {
        "the object".to_string()
    } else {
        path.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cty::Type;
    use crate::schema::{Attribute, NestedBlock};

    fn obj(items: &[(&str, Value)]) -> Value {
        Value::Object(items.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    fn block() -> Block {
        Block::new("")
            .attribute(Attribute::string("name").required())
            .attribute(Attribute::string("note").optional())
            .attribute(Attribute::string("arn").computed())
            .attribute(Attribute::new("tags", Type::map(Type::String)).optional().computed())
            .block(NestedBlock::new(
                "rule",
                Nesting::List,
                Block::new("")
                    .attribute(Attribute::string("effect").required())
                    .attribute(Attribute::string("id").computed()),
            ))
    }

    fn rule(effect: &str, id: Value) -> Value {
        obj(&[("effect", Value::string(effect)), ("id", id)])
    }

    fn config() -> Value {
        obj(&[
            ("name", Value::string("a")),
            ("note", Value::Null),
            ("arn", Value::Null),
            ("tags", Value::Null),
            ("rule", Value::List(vec![rule("allow", Value::Null)])),
        ])
    }

    fn good_plan() -> Value {
        obj(&[
            ("name", Value::string("a")),
            ("note", Value::Null),
            ("arn", Value::unknown()),
            ("tags", Value::Map(Default::default())),
            ("rule", Value::List(vec![rule("allow", Value::unknown())])),
        ])
    }

    fn paths(d: &Diagnostics) -> Vec<String> {
        d.iter().map(|d| d.detail.clone()).collect()
    }

    #[test]
    fn plan_cases() {
        struct Case {
            name: &'static str,
            planned: Value,
            expect: Option<&'static str>,
        }
        let mut changed_name = good_plan();
        if let Value::Object(m) = &mut changed_name {
            m.insert("name".into(), Value::string("b"));
        }
        let mut set_note = good_plan();
        if let Value::Object(m) = &mut set_note {
            m.insert("note".into(), Value::string("invented"));
        }
        let mut changed_rule = good_plan();
        if let Value::Object(m) = &mut changed_rule {
            m.insert("rule".into(), Value::List(vec![rule("deny", Value::unknown())]));
        }
        let mut extra_rule = good_plan();
        if let Value::Object(m) = &mut extra_rule {
            m.insert("rule".into(), Value::List(vec![rule("allow", Value::Null), rule("allow", Value::Null)]));
        }
        let cases = [
            Case { name: "computed values may be unknown or filled in", planned: good_plan(), expect: None },
            Case { name: "configured value changed", planned: changed_name, expect: Some("The plan changes name") },
            Case { name: "non-computed value invented", planned: set_note, expect: Some("The plan sets note") },
            Case { name: "nested configured value changed", planned: changed_rule, expect: Some("rule[0].effect") },
            Case { name: "block count changed", planned: extra_rule, expect: Some("block rule") },
        ];
        for case in cases {
            let d = check_plan(&block(), &config(), &case.planned);
            match case.expect {
                None => assert!(d.is_empty(), "{}: {:?}", case.name, paths(&d)),
                Some(text) => {
                    assert!(d.has_errors(), "{}: expected an error", case.name);
                    assert!(paths(&d).iter().any(|p| p.contains(text)), "{}: {:?}", case.name, paths(&d));
                    assert_eq!(d.0[0].summary, "Provider bug", "{}", case.name);
                }
            }
        }
    }

    #[test]
    fn plan_of_unknown_config_must_stay_unknown() {
        let mut config = config();
        if let Value::Object(m) = &mut config {
            m.insert("name".into(), Value::unknown());
        }
        assert!(check_plan(&block(), &config, &good_plan()).has_errors());
        let mut planned = good_plan();
        if let Value::Object(m) = &mut planned {
            m.insert("name".into(), Value::unknown());
        }
        assert!(check_plan(&block(), &config, &planned).is_empty());
    }

    #[test]
    fn destroy_plan_must_be_null() {
        assert!(check_plan(&block(), &Value::Null, &Value::Null).is_empty());
        assert!(check_plan(&block(), &Value::Null, &good_plan()).has_errors());
    }

    #[test]
    fn apply_cases() {
        let planned = good_plan();
        let applied = obj(&[
            ("name", Value::string("a")),
            ("note", Value::Null),
            ("arn", Value::string("arn:aws:iam::1:role/a")),
            ("tags", Value::Map(Default::default())),
            ("rule", Value::List(vec![rule("allow", Value::string("r1"))])),
        ]);
        assert!(check_apply(&planned, &applied).is_empty());

        let mut drifted = applied.clone();
        if let Value::Object(m) = &mut drifted {
            m.insert("tags".into(), Value::Map([("k".to_string(), Value::string("v"))].into()));
        }
        let d = check_apply(&planned, &drifted);
        assert!(paths(&d)[0].contains("tags"), "{:?}", paths(&d));

        let mut nested = applied.clone();
        if let Value::Object(m) = &mut nested {
            m.insert("rule".into(), Value::List(vec![rule("deny", Value::string("r1"))]));
        }
        assert!(paths(&check_apply(&planned, &nested))[0].contains("rule[0].effect"));

        assert!(check_apply(&planned, &Value::Null).has_errors(), "state must exist after create/update");
        assert!(check_apply(&Value::Null, &applied).has_errors(), "destroy must return null");
        assert!(check_apply(&Value::Null, &Value::Null).is_empty());
    }

    #[test]
    fn sets_with_unknowns_may_change_known_sets_may_not() {
        let partly = Value::Set(vec![Value::string("a"), Value::unknown()]);
        assert!(check_apply(&partly, &Value::Set(vec![Value::string("a")])).is_empty());
        let known = Value::Set(vec![Value::string("a"), Value::string("b")]);
        assert!(check_apply(&known, &Value::Set(vec![Value::string("b"), Value::string("a")])).is_empty());
        assert!(check_apply(&known, &Value::Set(vec![Value::string("a")])).has_errors());
    }

    #[test]
    fn unknowns_are_found_and_nulled() {
        let v = obj(&[
            ("a", Value::unknown()),
            ("m", Value::Map([("k".to_string(), Value::unknown())].into())),
            ("l", Value::List(vec![Value::string("x"), Value::unknown()])),
        ]);
        let (clean, found) = take_unknowns(v);
        assert!(clean.is_wholly_known());
        let names: Vec<String> = found.iter().map(|p| p.to_string()).collect();
        assert_eq!(names, vec!["a", "l[1]", "m[\"k\"]"]);
        assert_eq!(clean.get("a"), Some(&Value::Null));
        let d = unknowns_bug("new state after apply", &found);
        assert!(d.detail.contains("a, l[1], m[\"k\"]"), "{}", d.detail);
    }
}
