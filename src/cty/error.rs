//! The one error type of the cty layer: what went wrong, and where in the value.
//!
//! Messages are lowercase sentences fragments meant to be read after the path, for example
//! `at timeouts.create: expected string, got bool`. This module must not format diagnostics for users; the protocol
//! layer turns a `CtyError` into a diagnostic with the path attached.

use std::fmt;

use super::path::AttributePath;

/// What kind of problem a codec or a type check met.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The value does not have the shape the type asks for.
    TypeMismatch,
    /// An object value lacks an attribute its type declares.
    MissingAttribute,
    /// An object value has an attribute its type does not declare.
    UnexpectedAttribute,
    /// A number that cty cannot hold (NaN, malformed decimal text).
    InvalidNumber,
    /// An unknown value's refinements do not fit its type or are malformed.
    InvalidRefinement,
    /// An unknown value where the format cannot carry one (JSON).
    UnknownValue,
    /// A type description (type-constraint JSON) that is not valid.
    InvalidType,
    /// Input bytes that are not well-formed msgpack or JSON, or end early, or have trailing data.
    Syntax,
}

/// A cty error: a kind, the attribute path where it happened, and a lowercase message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtyError {
    kind: ErrorKind,
    path: AttributePath,
    message: String,
}

impl CtyError {
    pub fn new(kind: ErrorKind, path: AttributePath, message: impl Into<String>) -> Self {
        Self { kind, path, message: message.into() }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Where in the value the problem is; the root path when it concerns the whole value.
    pub fn path(&self) -> &AttributePath {
        &self.path
    }

    /// The message without the path.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for CtyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_root() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "at {}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for CtyError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_puts_the_path_first() {
        let path = AttributePath::attr("timeouts").push_attr("create");
        let err = CtyError::new(ErrorKind::TypeMismatch, path.clone(), "expected string, got bool");
        assert_eq!(err.to_string(), "at timeouts.create: expected string, got bool");
        assert_eq!(err.path(), &path);
        assert_eq!(err.kind(), ErrorKind::TypeMismatch);
    }

    #[test]
    fn display_at_the_root_is_the_message_alone() {
        let err = CtyError::new(ErrorKind::Syntax, AttributePath::root(), "unexpected end of input");
        assert_eq!(err.to_string(), "unexpected end of input");
    }
}
