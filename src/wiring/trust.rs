//! The trust policy of a wiring's role, by mode: a thin bridge from the wiring's inputs to `crate::policy`.

use crate::policy;

use super::model::Mode;
use super::naming;

/// The exact trust policy document for a wiring. `issuer_url` and `audience` are required for IRSA modes.
pub fn document(
    mode: Mode,
    partition: &str,
    account: &str,
    issuer_url: Option<&str>,
    namespace: &str,
    service_account: &str,
    audience: Option<&str>,
) -> String {
    let mut statements = Vec::new();
    if mode.uses_irsa() {
        let issuer = naming::issuer_host_path(issuer_url.expect("irsa modes have an issuer"));
        statements.push(policy::irsa_statement(
            partition,
            account,
            issuer,
            namespace,
            service_account,
            audience.unwrap_or(naming::DEFAULT_AUDIENCE),
        ));
    }
    if mode.uses_pod_identity() {
        statements.push(policy::pod_identity_statement(partition));
    }
    policy::trust_policy(&statements)
}
