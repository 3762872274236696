//! Facts about AWS that a plan needs: the account, the issuer a role will trust, the thumbprints its OIDC
//! provider will carry. Each is looked up at most once per process (see `Context`).

use crate::cty::AttributePath;
use crate::diag::Diagnostic;

use super::context::Context;
use super::error::WiringError;
use super::model::{Config, Field, State};
use super::naming;
use super::plan::PlanFacts;
use super::shared;

pub async fn gather(
    ctx: &Context,
    config: &Config,
    prior: Option<&State>,
) -> Result<(PlanFacts, Vec<Diagnostic>), WiringError> {
    let mut diags = Vec::new();
    let identity = ctx.identity().await?;
    let mut facts =
        PlanFacts { account: Some((identity.partition.clone(), identity.account.clone())), ..PlanFacts::default() };
    if config.mode().map(|m| m.uses_irsa()) != Some(true) {
        return Ok((facts, diags));
    }
    facts.issuer_url = match (&config.oidc_issuer_url, &config.cluster_name) {
        (Field::Known(i), _) => Some(i.clone()),
        (Field::Unknown, _) | (Field::Null, Field::Unknown) => None,
        (Field::Null, Field::Known(c)) => match ctx.cluster(c).await? {
            Some(_) => Some(ctx.cluster_issuer(c).await?),
            None => {
                diags.push(
                    Diagnostic::warning(
                        format!("EKS cluster \"{c}\" not found"),
                        format!(
                            "No cluster named \"{c}\" exists in region {} yet, so the issuer, trust policy and OIDC \
                             provider are known only after apply. If this cluster is not created in the same run, \
                             apply will fail: check cluster_name and the provider's region.",
                            ctx.aws.region()
                        ),
                    )
                    .at(AttributePath::attr("cluster_name")),
                );
                None
            }
        },
        (Field::Null, Field::Null) => None,
    };
    if let Some(issuer) = &facts.issuer_url {
        let arn = naming::oidc_provider_arn(&identity.partition, &identity.account, issuer);
        match shared::planned_thumbprints(ctx, &arn, issuer).await {
            Ok(t) => facts.thumbprints = Some(t),
            // A wiring that exists keeps working while its issuer is briefly unreachable: keep what it has.
            Err(e) => match prior.and_then(|p| p.oidc_thumbprint_list.clone()) {
                Some(have) if prior.and_then(|p| p.oidc_issuer_url.as_deref()) == Some(issuer.as_str()) => {
                    diags.push(Diagnostic::warning(
                        "OIDC thumbprint not checked",
                        format!("{}: {}. The thumbprints in the state are kept for now.", e.summary, e.detail),
                    ));
                    facts.thumbprints = Some(have);
                }
                _ => return Err(e),
            },
        }
    }
    Ok((facts, diags))
}
