//! A small schema builder: the single source for GetProviderSchema, decoding, per-attribute validation and docs.
//!
//! Schemas are plain data. Validators and plan modifiers are attached to the attribute they concern. This module
//! knows cty types and values and diagnostics; it must not know about AWS or about a particular resource.

mod validators;
mod walk;

use std::sync::Arc;

use crate::cty::{AttributePath, Type, Value};
use crate::diag::Diagnostic;

pub use validators::{
    each_map_value, each_set_element, int_between, matches_fn, one_of, string_length_between, Validator,
};
pub use walk::validate_config;

/// A resource's, data source's or provider's schema.
#[derive(Clone, Debug)]
pub struct Schema {
    /// Bumped when the stored state's shape changes; UpgradeResourceState converts older shapes.
    pub version: i64,
    pub block: Block,
}

/// A block: attributes and nested blocks. The root of every schema is a block.
#[derive(Clone, Debug, Default)]
pub struct Block {
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    /// Markdown.
    pub description: String,
    pub deprecated: bool,
}

/// How a nested block repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// Zero or one block; the value is an object or null.
    Single,
    /// Like `Single`, but the value is never null: absent means an object of nulls.
    Group,
    List,
    Set,
    Map,
}

#[derive(Clone, Debug)]
pub struct NestedBlock {
    pub name: String,
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
}

/// What a plan should do with an attribute beyond the default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanModifier {
    /// A change to this attribute replaces the whole object.
    RequiresReplace,
    /// When computed and not configured, keep the prior state's value instead of planning unknown.
    UseStateForUnknown,
}

#[derive(Clone)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    /// Markdown.
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub deprecated: bool,
    pub validators: Vec<Arc<dyn Validator>>,
    pub plan_modifiers: Vec<PlanModifier>,
}

impl std::fmt::Debug for Attribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attribute")
            .field("name", &self.name)
            .field("ty", &self.ty)
            .field("required", &self.required)
            .field("optional", &self.optional)
            .field("computed", &self.computed)
            .field("sensitive", &self.sensitive)
            .field("validators", &self.validators.iter().map(|v| v.description()).collect::<Vec<_>>())
            .field("plan_modifiers", &self.plan_modifiers)
            .finish()
    }
}

impl Attribute {
    /// A new attribute; call `.required()`, `.optional()` or `.computed()` next.
    pub fn new(name: &str, ty: Type) -> Self {
        Self {
            name: name.to_string(),
            ty,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            deprecated: false,
            validators: Vec::new(),
            plan_modifiers: Vec::new(),
        }
    }

    pub fn string(name: &str) -> Self {
        Self::new(name, Type::String)
    }
    pub fn bool(name: &str) -> Self {
        Self::new(name, Type::Bool)
    }
    pub fn number(name: &str) -> Self {
        Self::new(name, Type::Number)
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub fn description(mut self, markdown: &str) -> Self {
        self.description = markdown.to_string();
        self
    }
    pub fn validator(mut self, v: impl Validator + 'static) -> Self {
        self.validators.push(Arc::new(v));
        self
    }
    pub fn requires_replace(mut self) -> Self {
        self.plan_modifiers.push(PlanModifier::RequiresReplace);
        self
    }
    pub fn use_state_for_unknown(mut self) -> Self {
        self.plan_modifiers.push(PlanModifier::UseStateForUnknown);
        self
    }

    pub fn has_modifier(&self, m: PlanModifier) -> bool {
        self.plan_modifiers.contains(&m)
    }

    /// Runs this attribute's validators on a known, non-null value.
    pub fn run_validators(&self, value: &Value, path: &AttributePath, out: &mut Vec<Diagnostic>) {
        for v in &self.validators {
            v.validate(value, path, out);
        }
    }
}

impl Block {
    pub fn new(description: &str) -> Self {
        Self { description: description.to_string(), ..Self::default() }
    }

    pub fn attribute(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }

    pub fn block(mut self, b: NestedBlock) -> Self {
        self.blocks.push(b);
        self
    }

    pub fn find_attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    pub fn find_block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.name == name)
    }

    /// The cty type of a value of this block: an object with one attribute per attribute and nested block.
    pub fn value_type(&self) -> Type {
        let mut attrs: std::collections::BTreeMap<String, Type> =
            self.attributes.iter().map(|a| (a.name.clone(), a.ty.clone())).collect();
        for b in &self.blocks {
            let inner = b.block.value_type();
            let ty = match b.nesting {
                Nesting::Single | Nesting::Group => inner,
                Nesting::List => Type::list(inner),
                Nesting::Set => Type::set(inner),
                Nesting::Map => Type::map(inner),
            };
            attrs.insert(b.name.clone(), ty);
        }
        Type::Object(attrs)
    }
}

impl NestedBlock {
    pub fn new(name: &str, nesting: Nesting, block: Block) -> Self {
        Self { name: name.to_string(), nesting, block, min_items: 0, max_items: 0 }
    }

    pub fn max_items(mut self, n: i64) -> Self {
        self.max_items = n;
        self
    }
}

impl Schema {
    pub fn new(version: i64, block: Block) -> Self {
        Self { version, block }
    }

    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}
