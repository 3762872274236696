//! The `eksidentity_service_account_role` resource: schema, validation, planning, apply steps, read, import.
//!
//! Validation and planning are pure functions of the configuration, the prior state and facts about AWS;
//! AWS effects go through `crate::aws` only. Nothing here knows the wire protocol's encoding.

mod apply;
pub mod checks;
mod context;
mod error;
mod facts;
mod import;
pub mod model;
pub mod naming;
pub mod plan;
mod read;
mod resource;
pub mod schema;
mod shared;
mod trust;
pub mod validate;

pub use context::Context;
pub use error::WiringError;
pub use resource::{apply_change, import_state, plan_change, read_state, validate_config};

pub const TYPE_NAME: &str = "eksidentity_service_account_role";
