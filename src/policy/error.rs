//! The one error type of the policy layer.

use std::fmt;

/// Why a policy document could not be read. Messages are lowercase and say what was wrong with the input, so the
/// wiring layer can put them in a diagnostic's detail unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// The text is percent-encoded but does not decode to UTF-8.
    BadEncoding { detail: String },
    /// The (decoded) text is not JSON.
    NotJson { detail: String },
    /// The text is JSON but not an object (a policy document is always an object).
    NotObject { found: &'static str },
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::BadEncoding { detail } => {
                write!(f, "policy document is percent-encoded but does not decode to utf-8 text: {detail}")
            }
            PolicyError::NotJson { detail } => write!(f, "policy document is not valid json: {detail}"),
            PolicyError::NotObject { found } => {
                write!(f, "policy document must be a json object, found {found}")
            }
        }
    }
}

impl std::error::Error for PolicyError {}
