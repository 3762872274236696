//! The tfplugin6 service: decodes requests, dispatches to a `Provider`, encodes responses and diagnostics.
//!
//! Knows schemas and values, nothing about AWS. Generated protobuf types stay inside this module and `plugin`.

mod provider;

pub use provider::{
    ApplyRequest, ApplyResponse, ConfigureRequest, ImportRequest, ImportResponse, ImportedResource, PlanRequest,
    PlanResponse, Provider, ReadRequest, ReadResponse,
};
