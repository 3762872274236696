//! cty: the value system Terraform uses on the wire.
//!
//! Types, values and attribute paths, plus the msgpack codec (`DynamicValue.msgpack`) and the JSON codec
//! (`DynamicValue.json`, `RawState.json`, type constraints in schemas). Everything here is generic: this module
//! must not know about schemas, providers or AWS. Decoding always needs the expected type; errors carry the
//! attribute path where they happened.
//!
//! The API the protocol layer uses:
//! - `decode_msgpack(&Type, &[u8])` / `encode_msgpack(&Type, &Value)`: `DynamicValue.msgpack`.
//! - `decode_json(&Type, &[u8])` / `encode_json(&Type, &Value)`: `DynamicValue.json`; `decode_json_lenient` for
//!   `RawState.json`, where attributes missing from older state decode as null.
//! - `Type::from_json` / `Type::to_json`: type constraints (schema attribute types).
//! - `Value::check_type`: the encoders' conformance check on its own.
//!
//! Error paths address set elements by position, as sets have no keys.
//!
//! Inside this module, refer to siblings with `super::`, never `crate::`, so the module stands alone.

mod conform;
mod decimal;
mod error;
mod json;
mod msgpack;
mod path;
#[cfg(test)]
mod testing;
mod types;
mod value;

pub use error::{CtyError, ErrorKind};
pub use json::{decode_json, decode_json_lenient, encode_json};
pub use msgpack::{decode_msgpack, encode_msgpack};
pub use path::{AttributePath, PathStep};
pub use types::Type;
pub use value::{Number, Refinements, Value};
