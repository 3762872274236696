//! Conversions between the wire (generated tfplugin6 types) and the crate's types: dynamic values, attribute
//! paths, diagnostics and schemas. Every handler converts through here and nowhere else.

use crate::cty::{self, AttributePath, PathStep, Type, Value};
use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::schema::{Attribute, Block, NestedBlock, Nesting, Schema};

use super::proto;

/// Decodes a `DynamicValue` with the type the schema expects. An absent or empty value is null (Terraform never
/// sends one for a value it means, but a hand-written client might). Errors name the attribute that failed.
pub(crate) fn decode_value(ty: &Type, value: Option<&proto::DynamicValue>, what: &str) -> Result<Value, Diagnostics> {
    let Some(value) = value else { return Ok(Value::Null) };
    let decoded = if !value.msgpack.is_empty() {
        cty::decode_msgpack(ty, &value.msgpack)
    } else if !value.json.is_empty() {
        cty::decode_json(ty, &value.json)
    } else {
        return Ok(Value::Null);
    };
    decoded.map_err(|e| decode_error(what, &e))
}

/// A decode failure as a diagnostic on the attribute where it happened.
fn decode_error(what: &str, e: &cty::CtyError) -> Diagnostics {
    let path = e.path().clone();
    let detail = if path.is_root() {
        format!("Terraform sent a {what} this provider could not read: {}.", e.message())
    } else {
        format!("Terraform sent a {what} this provider could not read at {path}: {}.", e.message())
    };
    let diag = Diagnostic::error(format!("Invalid {what}"), detail);
    Diagnostics::from(if path.is_root() { diag } else { diag.at(path) })
}

/// Encodes a value for Terraform (always msgpack). A value that does not fit its schema type is a provider bug.
pub(crate) fn encode_value(ty: &Type, value: &Value, what: &str) -> Result<proto::DynamicValue, Diagnostics> {
    match cty::encode_msgpack(ty, value) {
        Ok(msgpack) => Ok(proto::DynamicValue { msgpack, json: Vec::new() }),
        Err(e) => {
            let at = if e.path().is_root() { String::new() } else { format!(" at {}", e.path()) };
            Err(Diagnostic::provider_bug(format!(
                "The provider produced a {what} that does not match its schema{at}: {e}."
            ))
            .into())
        }
    }
}

/// The one place diagnostics become protocol messages.
pub(crate) fn diagnostics_to_proto(diagnostics: Diagnostics) -> Vec<proto::Diagnostic> {
    diagnostics
        .into_iter()
        .map(|d| proto::Diagnostic {
            severity: match d.severity {
                Severity::Error => proto::diagnostic::Severity::Error,
                Severity::Warning => proto::diagnostic::Severity::Warning,
            } as i32,
            summary: d.summary,
            detail: d.detail,
            // A root path would make Terraform underline the whole block: leave the attribute out instead.
            attribute: d.path.filter(|p| !p.is_root()).map(|p| path_to_proto(&p)),
        })
        .collect()
}

pub(crate) fn path_to_proto(path: &AttributePath) -> proto::AttributePath {
    use proto::attribute_path::step::Selector;
    let steps = path
        .0
        .iter()
        .map(|step| proto::attribute_path::Step {
            selector: Some(match step {
                PathStep::Attr(name) => Selector::AttributeName(name.clone()),
                PathStep::Key(key) => Selector::ElementKeyString(key.clone()),
                PathStep::Index(index) => Selector::ElementKeyInt(*index),
            }),
        })
        .collect();
    proto::AttributePath { steps }
}

/// Reads a path Terraform sent. Steps without a selector carry nothing and are skipped.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn path_from_proto(path: &proto::AttributePath) -> AttributePath {
    use proto::attribute_path::step::Selector;
    AttributePath(
        path.steps
            .iter()
            .filter_map(|s| s.selector.as_ref())
            .map(|s| match s {
                Selector::AttributeName(name) => PathStep::Attr(name.clone()),
                Selector::ElementKeyString(key) => PathStep::Key(key.clone()),
                Selector::ElementKeyInt(index) => PathStep::Index(*index),
            })
            .collect(),
    )
}

pub(crate) fn schema_to_proto(schema: &Schema) -> proto::Schema {
    proto::Schema { version: schema.version, block: Some(block_to_proto(&schema.block)) }
}

fn block_to_proto(block: &Block) -> proto::schema::Block {
    proto::schema::Block {
        version: 0,
        attributes: block.attributes.iter().map(attribute_to_proto).collect(),
        block_types: block.blocks.iter().map(nested_block_to_proto).collect(),
        description: block.description.clone(),
        description_kind: proto::StringKind::Markdown as i32,
        deprecated: block.deprecated,
        deprecation_message: String::new(),
        computed: false,
    }
}

fn attribute_to_proto(attribute: &Attribute) -> proto::schema::Attribute {
    proto::schema::Attribute {
        name: attribute.name.clone(),
        r#type: attribute.ty.to_json(),
        nested_type: None,
        description: attribute.description.clone(),
        required: attribute.required,
        optional: attribute.optional,
        computed: attribute.computed,
        sensitive: attribute.sensitive,
        description_kind: proto::StringKind::Markdown as i32,
        deprecated: attribute.deprecated,
        write_only: false,
        deprecation_message: String::new(),
    }
}

fn nested_block_to_proto(nested: &NestedBlock) -> proto::schema::NestedBlock {
    use proto::schema::nested_block::NestingMode;
    let nesting = match nested.nesting {
        Nesting::Single => NestingMode::Single,
        Nesting::Group => NestingMode::Group,
        Nesting::List => NestingMode::List,
        Nesting::Set => NestingMode::Set,
        Nesting::Map => NestingMode::Map,
    };
    // Terraform rejects a single (or group) block unless min and max match: 0/0 for an optional block, 1/1 for a
    // required one. A `max_items(1)` on a single block says nothing more than the nesting, so it is dropped.
    let (min_items, max_items) = match nested.nesting {
        Nesting::Single | Nesting::Group if nested.min_items >= 1 => (1, 1),
        Nesting::Single | Nesting::Group => (0, 0),
        _ => (nested.min_items, nested.max_items),
    };
    proto::schema::NestedBlock {
        type_name: nested.name.clone(),
        block: Some(block_to_proto(&nested.block)),
        nesting: nesting as i32,
        min_items,
        max_items,
    }
}

/// Shapes stored JSON state like the current schema type before decoding: attributes the schema no longer has
/// are dropped and attributes it gained are null. Values of the wrong kind are left for the decoder to report.
pub(crate) fn conform_json(ty: &Type, value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match (ty, value) {
        (Type::Object(attrs), J::Object(mut given)) => {
            let mut out = serde_json::Map::new();
            for (name, attr_ty) in attrs {
                let v = given.remove(name).unwrap_or(J::Null);
                out.insert(name.clone(), conform_json(attr_ty, v));
            }
            J::Object(out)
        }
        (Type::List(elem) | Type::Set(elem), J::Array(items)) => {
            J::Array(items.into_iter().map(|v| conform_json(elem, v)).collect())
        }
        (Type::Map(elem), J::Object(items)) => {
            J::Object(items.into_iter().map(|(k, v)| (k, conform_json(elem, v))).collect())
        }
        (Type::Tuple(elems), J::Array(items)) if elems.len() == items.len() => {
            J::Array(elems.iter().zip(items).map(|(t, v)| conform_json(t, v)).collect())
        }
        (_, other) => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Attribute;

    #[test]
    fn diagnostics_keep_severity_and_path_steps() {
        let path = AttributePath::attr("inline_policies").push_key("s3").push_attr("x").push_index(2);
        let d = Diagnostics::from(vec![
            Diagnostic::attribute_error(path.clone(), "Bad", "detail"),
            Diagnostic::warning("Careful", "more"),
            Diagnostic::error("Root", "no path").at(AttributePath::root()),
        ]);
        let out = diagnostics_to_proto(d);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].severity, proto::diagnostic::Severity::Error as i32);
        assert_eq!(out[0].summary, "Bad");
        let attr = out[0].attribute.as_ref().unwrap();
        use proto::attribute_path::step::Selector;
        let steps: Vec<_> = attr.steps.iter().map(|s| s.selector.clone().unwrap()).collect();
        assert_eq!(
            steps,
            vec![
                Selector::AttributeName("inline_policies".into()),
                Selector::ElementKeyString("s3".into()),
                Selector::AttributeName("x".into()),
                Selector::ElementKeyInt(2),
            ]
        );
        assert_eq!(path_from_proto(attr), path);
        assert_eq!(out[1].severity, proto::diagnostic::Severity::Warning as i32);
        assert!(out[1].attribute.is_none());
        assert!(out[2].attribute.is_none(), "a root path is sent as no path");
    }

    #[test]
    fn schema_carries_types_flags_and_nesting() {
        let schema = Schema::new(
            2,
            Block::new("The **resource**.")
                .attribute(Attribute::string("name").required().description("A `name`."))
                .attribute(Attribute::new("tags", Type::map(Type::String)).optional().computed())
                .attribute(Attribute::string("token").computed().sensitive())
                .block(
                    NestedBlock::new(
                        "timeouts",
                        Nesting::Single,
                        Block::new("Timeouts.").attribute(Attribute::string("create").optional()),
                    )
                    .max_items(1),
                ),
        );
        let p = schema_to_proto(&schema);
        assert_eq!(p.version, 2);
        let block = p.block.unwrap();
        assert_eq!(block.description, "The **resource**.");
        assert_eq!(block.description_kind, proto::StringKind::Markdown as i32);
        let name = &block.attributes[0];
        assert_eq!((name.name.as_str(), name.required, name.optional), ("name", true, false));
        assert_eq!(name.description_kind, proto::StringKind::Markdown as i32);
        assert_eq!(Type::from_json(&name.r#type).unwrap(), Type::String);
        let tags = &block.attributes[1];
        assert_eq!(Type::from_json(&tags.r#type).unwrap(), Type::map(Type::String));
        assert!(tags.optional && tags.computed && !tags.required);
        assert!(block.attributes[2].sensitive);
        let timeouts = &block.block_types[0];
        assert_eq!(timeouts.type_name, "timeouts");
        assert_eq!(timeouts.nesting, proto::schema::nested_block::NestingMode::Single as i32);
        assert_eq!((timeouts.min_items, timeouts.max_items), (0, 0), "Terraform requires min == max for single");
        assert_eq!(timeouts.block.as_ref().unwrap().attributes[0].name, "create");
    }

    #[test]
    fn conform_json_drops_removed_and_nulls_added_attributes() {
        let ty = Type::object([
            ("id", Type::String),
            ("tags", Type::map(Type::String)),
            ("timeouts", Type::object([("create", Type::String)])),
            ("rules", Type::list(Type::object([("a", Type::String), ("b", Type::Bool)]))),
        ]);
        let stored = serde_json::json!({
            "id": "x",
            "legacy_flag": true,
            "tags": {"k": "v"},
            "rules": [{"a": "1", "gone": 3}],
        });
        let out = conform_json(&ty, stored);
        assert_eq!(
            out,
            serde_json::json!({
                "id": "x",
                "tags": {"k": "v"},
                "timeouts": null,
                "rules": [{"a": "1", "b": null}],
            })
        );
    }

    #[test]
    fn decode_errors_name_the_attribute() {
        let ty = Type::object([("name", Type::String), ("count", Type::Number)]);
        // {"count": "not a number", "name": "x"} as JSON: count has the wrong type.
        let dv = proto::DynamicValue { msgpack: Vec::new(), json: br#"{"count":true,"name":"x"}"#.to_vec() };
        let err = decode_value(&ty, Some(&dv), "configuration").unwrap_err();
        let d = &err.0[0];
        assert_eq!(d.path, Some(AttributePath::attr("count")), "{d:?}");
        assert!(d.summary.contains("configuration"));
    }

    #[test]
    fn absent_or_empty_values_are_null() {
        let ty = Type::object([("name", Type::String)]);
        assert_eq!(decode_value(&ty, None, "state").unwrap(), Value::Null);
        assert_eq!(decode_value(&ty, Some(&proto::DynamicValue::default()), "state").unwrap(), Value::Null);
    }

    #[test]
    fn values_round_trip_through_msgpack() {
        let ty = Type::object([("name", Type::String), ("tags", Type::map(Type::String))]);
        let v = Value::Object(
            [
                ("name".to_string(), Value::string("a")),
                ("tags".to_string(), Value::Map([("k".to_string(), Value::unknown())].into())),
            ]
            .into(),
        );
        let dv = encode_value(&ty, &v, "state").unwrap();
        assert!(dv.json.is_empty());
        assert_eq!(decode_value(&ty, Some(&dv), "state").unwrap(), v);
    }

    #[test]
    fn a_value_that_does_not_fit_its_type_is_a_provider_bug() {
        let ty = Type::object([("name", Type::String)]);
        let v = Value::Object([("name".to_string(), Value::Bool(true))].into());
        let err = encode_value(&ty, &v, "planned state").unwrap_err();
        assert!(err.0[0].summary.contains("Provider bug"), "{:?}", err.0[0]);
    }
}
