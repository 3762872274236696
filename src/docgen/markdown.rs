//! Schema -> markdown: the "Argument Reference" and "Attribute Reference" sections of a registry page.
//!
//! Layout (the docs test parses it, so change both together):
//! - `## Argument Reference`: one item per configurable attribute and per nested block of the root block, then a
//!   `### <name> block` section per nested block listing that block's attributes.
//! - `## Attribute Reference`: one item per computed-only attribute.
//! - An item is `* `name` - (Labels) description validator-sentences`, on one line.

use crate::cty::Type;
use crate::schema::{Attribute, Block, NestedBlock, Nesting, PlanModifier, Schema};

pub const ARGUMENTS_HEADING: &str = "## Argument Reference";
pub const ATTRIBUTES_HEADING: &str = "## Attribute Reference";

/// `String`, `Number`, `Bool`, `Set of string`, `Map of string`, ...
pub fn type_label(ty: &Type) -> String {
    let s = ty.to_string();
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => s,
    }
}

fn attribute_labels(a: &Attribute) -> String {
    let mut labels = Vec::new();
    if a.required {
        labels.push("Required".to_string());
    }
    if a.optional {
        labels.push("Optional".to_string());
    }
    if a.computed {
        labels.push("Computed".to_string());
    }
    labels.push(type_label(&a.ty));
    if a.sensitive {
        labels.push("Sensitive".to_string());
    }
    if a.has_modifier(PlanModifier::RequiresReplace) {
        labels.push("Forces replacement".to_string());
    }
    if a.deprecated {
        labels.push("Deprecated".to_string());
    }
    labels.join(", ")
}

/// The description followed by each validator's sentence.
fn attribute_text(a: &Attribute) -> String {
    let mut parts = vec![a.description.trim().to_string()];
    parts.extend(a.validators.iter().map(|v| v.description()));
    parts.retain(|p| !p.is_empty());
    parts.join(" ")
}

fn attribute_item(a: &Attribute) -> String {
    format!("* `{}` - ({}) {}\n", a.name, attribute_labels(a), attribute_text(a))
}

/// The anchor GitHub gives the `### <name> block` heading (lowercase; underscores kept, spaces become hyphens).
fn block_anchor(name: &str) -> String {
    format!("{}-block", name.to_lowercase())
}

fn block_item(b: &NestedBlock) -> String {
    let required = if b.min_items > 0 { "Required" } else { "Optional" };
    let count = match (b.nesting, b.max_items) {
        (Nesting::Single | Nesting::Group, _) | (_, 1) => "at most one".to_string(),
        (Nesting::Map, _) => "map of blocks".to_string(),
        (_, 0) => "any number".to_string(),
        (_, n) => format!("at most {n}"),
    };
    format!(
        "* `{}` - ({required}, Block, {count}) {} See [below](#{}).\n",
        b.name,
        b.block.description.trim(),
        block_anchor(&b.name)
    )
}

fn is_argument(a: &Attribute) -> bool {
    a.required || a.optional
}

/// The `## Argument Reference` section of `schema`: root arguments, then one section per nested block.
pub fn argument_reference(schema: &Schema) -> String {
    let mut out = format!("{ARGUMENTS_HEADING}\n\n");
    let root = &schema.block;
    out.push_str("The following arguments are supported:\n\n");
    for a in root.attributes.iter().filter(|a| is_argument(a)) {
        out.push_str(&attribute_item(a));
    }
    for b in &root.blocks {
        out.push_str(&block_item(b));
    }
    for b in &root.blocks {
        out.push_str(&nested_block_section(b));
    }
    out
}

fn nested_block_section(b: &NestedBlock) -> String {
    let mut out = format!("\n### {} block\n\n", b.name);
    out.push_str(&format!("The `{}` block supports:\n\n", b.name));
    for a in &b.block.attributes {
        out.push_str(&attribute_item(a));
    }
    if !b.block.blocks.is_empty() {
        for inner in &b.block.blocks {
            out.push_str(&block_item(inner));
        }
        for inner in &b.block.blocks {
            out.push_str(&nested_block_section(inner));
        }
    }
    out
}

/// The `## Attribute Reference` section: computed-only attributes of the root block.
pub fn attribute_reference(schema: &Schema) -> String {
    let mut out = format!("{ATTRIBUTES_HEADING}\n\n");
    out.push_str("In addition to the arguments above, the following attributes are exported:\n\n");
    for a in schema.block.attributes.iter().filter(|a| !is_argument(a)) {
        out.push_str(&attribute_item(a));
    }
    out
}

/// The root block's description, for an intro paragraph.
pub fn description(block: &Block) -> String {
    format!("{}\n", block.description.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{one_of, NestedBlock};

    fn schema() -> Schema {
        Schema::new(
            0,
            Block::new("Root.")
                .attribute(Attribute::string("mode").required().description("How.").validator(one_of(&["a", "b"])))
                .attribute(Attribute::string("name").optional().computed().description("Name.").requires_replace())
                .attribute(Attribute::new("ids", Type::set(Type::String)).computed().description("IDs."))
                .block(NestedBlock::new(
                    "timeouts",
                    Nesting::Single,
                    Block::new("Durations.").attribute(Attribute::string("create").optional().description("Create.")),
                )),
        )
    }

    #[test]
    fn arguments_list_labels_descriptions_and_validators() {
        let md = argument_reference(&schema());
        assert!(md.starts_with("## Argument Reference\n"), "{md}");
        assert!(md.contains("* `mode` - (Required, String) How. Must be one of `a`, `b`.\n"), "{md}");
        assert!(md.contains("* `name` - (Optional, Computed, String, Forces replacement) Name.\n"), "{md}");
        assert!(md.contains("* `timeouts` - (Optional, Block, at most one) Durations. See [below](#timeouts-block).\n"));
        assert!(md.contains(
            "\n### timeouts block\n\nThe `timeouts` block supports:\n\n* `create` - (Optional, String) Create.\n"
        ));
        assert!(!md.contains("`ids`"), "computed-only attributes are not arguments: {md}");
    }

    #[test]
    fn attributes_list_only_computed_ones() {
        let md = attribute_reference(&schema());
        assert!(md.contains("* `ids` - (Computed, Set of string) IDs.\n"), "{md}");
        assert!(!md.contains("`mode`") && !md.contains("`name`"), "{md}");
    }
}
