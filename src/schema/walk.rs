//! Walks a configuration value along its schema and runs each attribute's validators.

use crate::cty::{AttributePath, Value};
use crate::diag::Diagnostic;

use super::{Block, Nesting};

/// Runs every validator of `block` over `config`, and rejects values given to read-only (computed, not optional)
/// attributes, which Terraform itself lets through. Null and unknown values are skipped: a value that is not
/// known yet (it comes from another resource) is never rejected here.
pub fn validate_config(block: &Block, config: &Value) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    walk_block(block, config, &AttributePath::root(), &mut out);
    out
}

fn walk_block(block: &Block, value: &Value, path: &AttributePath, out: &mut Vec<Diagnostic>) {
    let Value::Object(attrs) = value else { return };
    for a in &block.attributes {
        let Some(v) = attrs.get(&a.name) else { continue };
        if v.is_null() || v.is_unknown() {
            continue;
        }
        let apath = path.push_attr(&a.name);
        if a.computed && !a.optional && !a.required {
            out.push(Diagnostic::attribute_error(
                apath.clone(),
                format!("{apath} is read-only"),
                format!(
                    "{apath} is set by the provider and cannot be configured. Remove it from the configuration, \
                     and read it from the resource instead."
                ),
            ));
            continue;
        }
        a.run_validators(v, &apath, out);
    }
    for b in &block.blocks {
        let Some(v) = attrs.get(&b.name) else { continue };
        let bpath = path.push_attr(&b.name);
        match (b.nesting, v) {
            (Nesting::Single | Nesting::Group, Value::Object(_)) => walk_block(&b.block, v, &bpath, out),
            (Nesting::List, Value::List(items)) => {
                for (i, item) in items.iter().enumerate() {
                    walk_block(&b.block, item, &bpath.push_index(i as i64), out);
                }
            }
            (Nesting::Set, Value::Set(items)) => {
                for item in items {
                    walk_block(&b.block, item, &bpath, out);
                }
            }
            (Nesting::Map, Value::Map(items)) => {
                for (k, item) in items {
                    walk_block(&b.block, item, &bpath.push_key(k), out);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{one_of, Attribute, NestedBlock};

    #[test]
    fn skips_unknown_and_reports_nested_paths() {
        let block = Block::new("").attribute(Attribute::string("mode").required().validator(one_of(&["a"]))).block(
            NestedBlock::new(
                "timeouts",
                Nesting::Single,
                Block::new("").attribute(Attribute::string("create").optional().validator(one_of(&["1m"]))),
            ),
        );
        let config = Value::Object(
            [
                ("mode".to_string(), Value::unknown()),
                ("timeouts".to_string(), Value::Object([("create".to_string(), Value::string("x"))].into())),
            ]
            .into(),
        );
        let d = validate_config(&block, &config);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path.as_ref().unwrap().to_string(), "timeouts.create");
    }

    #[test]
    fn a_value_for_a_read_only_attribute_is_rejected() {
        let block = Block::new("")
            .attribute(Attribute::string("arn").computed())
            .attribute(Attribute::string("name").optional().computed());
        let config = |arn: Value| {
            Value::Object([("arn".to_string(), arn), ("name".to_string(), Value::string("set by the user"))].into())
        };
        let d = validate_config(&block, &config(Value::string("arn:aws:iam::123456789012:role/x")));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].path.as_ref().unwrap().to_string(), "arn");
        assert!(d[0].summary.contains("read-only"), "{}", d[0].summary);
        // Null is the normal case; unknown may still turn out null.
        assert!(validate_config(&block, &config(Value::Null)).is_empty());
        assert!(validate_config(&block, &config(Value::unknown())).is_empty());
    }
}
