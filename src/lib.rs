//! eksidentity: a Terraform / OpenTofu provider that wires an AWS IAM role to a Kubernetes service account on EKS.
//!
//! Layers, outermost first (dependencies only point down this list):
//! - `plugin`: go-plugin transport (handshake, AutoMTLS, controller, stdio, broker, health).
//! - `tfprotocol`: the tfplugin6 service over the `Provider` trait.
//! - `schema`, `cty`, `diag`: schemas, values, diagnostics.
//! - `provider`: provider configuration and the resource registry (implements `Provider`).
//! - `wiring`: the `eksidentity_service_account_role` resource: validation, planning, apply steps.
//! - `policy`, `thumbprint`, `aws`: trust policies, OIDC thumbprints, and the only code that calls AWS.
//! - `docgen`: registry docs rendered from the schemas, examples/ and templates/ (used by `eksidentity-docs`).
//! - `logging`: JSON log lines on stderr for Terraform; used by every layer.

pub mod aws;
pub mod cty;
pub mod diag;
pub mod docgen;
pub mod logging;
pub mod plugin;
pub mod policy;
pub mod provider;
pub mod schema;
pub mod tfprotocol;
pub mod thumbprint;
pub mod wiring;
