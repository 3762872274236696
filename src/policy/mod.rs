//! Trust-policy and IAM policy documents: building the statements this provider owns, the exact JSON sent to IAM,
//! reading documents back as IAM returns them, and comparing them by meaning.
//!
//! Pure functions over strings and `serde_json` values. This module must not contain AWS SDK calls, network or
//! file I/O, async code, Terraform types (cty, schema, diagnostics) or wiring decisions: it answers "what is the
//! document" and "do these mean the same", and the wiring layer decides what to do about it.

mod compare;
mod error;
mod statement;

pub use compare::{
    analyze_trust_policy, canonicalize, decode_iam_document, decode_to_string, equivalent, has_statement_equivalent,
    is_json_object, mentions, optional_equivalent, StatementState, StatementStatus, TrustAnalysis,
};
pub use error::PolicyError;
pub use statement::{
    irsa_statement, issuer_host_path, oidc_provider_arn, pod_identity_statement, trust_policy, Effect, OneOrMany,
    Statement, DEFAULT_AUDIENCE, IRSA_SID, POD_IDENTITY_SERVICE, POD_IDENTITY_SID, POLICY_VERSION,
};
