//! cty: the value system Terraform uses on the wire.
//!
//! Types, values and attribute paths, plus the msgpack codec (`DynamicValue.msgpack`) and the JSON codec
//! (`DynamicValue.json`, `RawState.json`, type constraints in schemas). Everything here is generic: this module
//! must not know about schemas, providers or AWS. Decoding always needs the expected type; errors carry the
//! attribute path where they happened.
//!
//! Inside this module, refer to siblings with `super::`, never `crate::`, so the module stands alone.

mod path;
mod types;
mod value;

pub use path::{AttributePath, PathStep};
pub use types::Type;
pub use value::{Number, Refinements, Value};
