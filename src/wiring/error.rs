//! Errors of the wiring layer: each one already says what happened and what to do, and becomes one diagnostic.

use crate::aws::{AwsError, AwsErrorKind};
use crate::diag::Diagnostic;

#[derive(Clone, Debug)]
pub struct WiringError {
    pub summary: String,
    pub detail: String,
}

impl WiringError {
    pub fn new(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { summary: summary.into(), detail: detail.into() }
    }

    /// An AWS call failed while doing `what` ("Cannot create role x").
    pub fn aws(what: &str, e: AwsError) -> Self {
        let hint = match e.kind {
            AwsErrorKind::AccessDenied => {
                "\n\nThe credentials in use are not allowed to do this, or they expired. Check the provider's \
                 profile/assume_role settings and the IAM permissions listed in the provider documentation."
            }
            AwsErrorKind::Transport => {
                "\n\nAWS could not be reached. Check the network, the region, and any `endpoints` overrides."
            }
            AwsErrorKind::Throttled => {
                "\n\nAWS kept throttling requests after every retry. Raise max_retries, or \
                                       apply with a lower -parallelism."
            }
            _ => "",
        };
        Self { summary: what.to_string(), detail: format!("{e}{hint}") }
    }

    pub fn interrupted() -> Self {
        Self::new(
            "Interrupted",
            "Terraform asked the provider to stop (Ctrl-C) before the operation finished. What was created so far \
             is recorded in the state; run apply again to finish.",
        )
    }

    pub fn timeout(what: &str, waited: std::time::Duration, extra: &str) -> Self {
        Self::new(
            format!("Timed out: {what}"),
            format!(
                "Gave up after {}s. {extra}\n\nRaise the matching value in the resource's `timeouts` block if this \
                 is expected to take longer.",
                waited.as_secs()
            ),
        )
    }

    pub fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::error(self.summary.clone(), self.detail.clone())
    }
}

impl std::fmt::Display for WiringError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.summary, self.detail)
    }
}
