//! The interface between the protocol layer and a provider implementation.
//!
//! Hand-written request and response types: generated protobuf types never cross this line. Values are cty values
//! already decoded with the schema's type; the protocol layer does the decoding, the schema validators, the
//! central apply invariants, and turns `Diagnostics` into protocol messages.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::cty::{AttributePath, Value};
use crate::diag::Diagnostics;
use crate::schema::Schema;

/// Everything a provider serves. One implementation per binary; the protocol layer wraps it.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The provider block's schema.
    fn provider_schema(&self) -> &Schema;

    /// Managed resource schemas by type name (for example `eksidentity_service_account_role`).
    fn resource_schemas(&self) -> &BTreeMap<String, Schema>;

    /// Cross-field checks of the provider block, after the schema validators ran. No network calls.
    async fn validate_provider_config(&self, config: &Value) -> Diagnostics;

    /// Builds clients from the provider block. Called once per process before any resource RPC.
    async fn configure(&self, req: ConfigureRequest) -> Diagnostics;

    /// Cross-field checks of a resource configuration, after the schema validators ran. No network calls.
    async fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics;

    /// Converts stored state written by schema `version` (JSON, as Terraform saved it) into the current schema's
    /// JSON shape. The default accepts the current version unchanged.
    async fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        let _ = (type_name, version);
        Ok(state)
    }

    async fn read_resource(&self, req: ReadRequest) -> ReadResponse;

    async fn plan_resource_change(&self, req: PlanRequest) -> PlanResponse;

    async fn apply_resource_change(&self, req: ApplyRequest) -> ApplyResponse;

    async fn import_resource_state(&self, req: ImportRequest) -> ImportResponse;

    /// Terraform asks the provider to stop (Ctrl-C). In-flight operations should return promptly with an error.
    async fn stop(&self);
}

#[derive(Clone, Debug)]
pub struct ConfigureRequest {
    pub terraform_version: String,
    pub config: Value,
}

#[derive(Clone, Debug)]
pub struct ReadRequest {
    pub type_name: String,
    /// Never null.
    pub current_state: Value,
    pub private: Vec<u8>,
}

#[derive(Clone, Debug, Default)]
pub struct ReadResponse {
    /// `Value::Null` when the object no longer exists: Terraform then plans to create it again.
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

#[derive(Clone, Debug)]
pub struct PlanRequest {
    pub type_name: String,
    /// Null when creating.
    pub prior_state: Value,
    /// Null when destroying (only sent when the server advertises `plan_destroy`).
    pub proposed_new_state: Value,
    /// Null when destroying.
    pub config: Value,
    pub prior_private: Vec<u8>,
}

#[derive(Clone, Debug, Default)]
pub struct PlanResponse {
    pub planned_state: Value,
    /// Attributes whose change forces replacement. Ignored by Terraform on create.
    pub requires_replace: Vec<AttributePath>,
    pub planned_private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

#[derive(Clone, Debug)]
pub struct ApplyRequest {
    pub type_name: String,
    /// Null when creating.
    pub prior_state: Value,
    /// Null when destroying.
    pub planned_state: Value,
    pub config: Value,
    pub planned_private: Vec<u8>,
}

#[derive(Clone, Debug, Default)]
pub struct ApplyResponse {
    /// The state that now exists: null after a destroy, and after a failed create that left nothing behind.
    /// On a partial failure, the state that exists in AWS together with an error diagnostic.
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

#[derive(Clone, Debug)]
pub struct ImportRequest {
    pub type_name: String,
    pub id: String,
}

#[derive(Clone, Debug, Default)]
pub struct ImportResponse {
    /// The imported objects (usually one). Terraform calls ReadResource on each afterwards.
    pub imported: Vec<ImportedResource>,
    pub diagnostics: Diagnostics,
}

#[derive(Clone, Debug)]
pub struct ImportedResource {
    pub type_name: String,
    pub state: Value,
    pub private: Vec<u8>,
}
