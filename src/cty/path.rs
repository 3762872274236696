//! Attribute paths: where in a value something happened. Used by codec errors and by diagnostics.

use std::fmt;

/// One step into a value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// An object attribute (or a nested block) by name.
    Attr(String),
    /// A map element by key.
    Key(String),
    /// A list or tuple element by index.
    Index(i64),
}

/// A path from the root of a resource or provider configuration to one value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributePath(pub Vec<PathStep>);

impl AttributePath {
    /// The root: the whole object.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// A path to one top-level attribute.
    pub fn attr(name: &str) -> Self {
        Self(vec![PathStep::Attr(name.to_string())])
    }

    /// This path extended by an attribute step.
    pub fn push_attr(&self, name: &str) -> Self {
        let mut steps = self.0.clone();
        steps.push(PathStep::Attr(name.to_string()));
        Self(steps)
    }

    /// This path extended by a map key step.
    pub fn push_key(&self, key: &str) -> Self {
        let mut steps = self.0.clone();
        steps.push(PathStep::Key(key.to_string()));
        Self(steps)
    }

    /// This path extended by a list index step.
    pub fn push_index(&self, index: i64) -> Self {
        let mut steps = self.0.clone();
        steps.push(PathStep::Index(index));
        Self(steps)
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

/// Renders the path the way Terraform users write it: `timeouts.create`, `inline_policies["s3"]`, `tags[0]`.
impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attr(name) if i == 0 => write!(f, "{name}")?,
                PathStep::Attr(name) => write!(f, ".{name}")?,
                PathStep::Key(key) => write!(f, "[{key:?}]")?,
                PathStep::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_terraform_expressions() {
        let path = AttributePath::attr("inline_policies").push_key("s3");
        assert_eq!(path.to_string(), "inline_policies[\"s3\"]");
        let path = AttributePath::attr("timeouts").push_attr("create");
        assert_eq!(path.to_string(), "timeouts.create");
        assert_eq!(AttributePath::attr("x").push_index(2).to_string(), "x[2]");
        assert_eq!(AttributePath::root().to_string(), "");
    }
}
