//! EKS: clusters (read only), the pod identity agent addon, and pod identity associations.

use std::collections::BTreeMap;

use aws_sdk_eks::types::ResolveConflicts;

use super::clients::Aws;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::error::{gone_is_ok, optional, sdk_error, AwsError, AwsResult};

const EKS: &str = "EKS";

#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    pub name: String,
    pub arn: String,
    pub status: String,
    /// The OIDC issuer URL, with `https://`.
    pub oidc_issuer: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Addon {
    pub name: String,
    pub status: String,
    pub version: Option<String>,
    pub arn: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// `code: message` for each health issue EKS reports.
    pub health_issues: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Association {
    pub id: String,
    pub arn: String,
    pub namespace: String,
    pub service_account: String,
    pub role_arn: String,
    pub target_role_arn: Option<String>,
    pub disable_session_tags: bool,
    pub policy: Option<String>,
    pub external_id: Option<String>,
    pub owner_arn: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// One row of ListPodIdentityAssociations.
#[derive(Clone, Debug, PartialEq)]
pub struct AssociationSummary {
    pub id: String,
    pub namespace: String,
    pub service_account: String,
    pub owner_arn: Option<String>,
}

/// Settings of an association that CreatePodIdentityAssociation and UpdatePodIdentityAssociation take.
#[derive(Clone, Debug)]
pub struct AssociationSettings<'a> {
    pub role_arn: &'a str,
    pub target_role_arn: Option<&'a str>,
    pub disable_session_tags: bool,
    pub policy: Option<&'a str>,
}

fn err<E>(op: &'static str) -> impl FnOnce(SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    sdk_error(EKS, op)
}

fn btree(m: Option<&std::collections::HashMap<String, String>>) -> BTreeMap<String, String> {
    m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
}

impl Aws {
    pub async fn describe_cluster(&self, name: &str) -> AwsResult<Option<Cluster>> {
        let r = self.eks.describe_cluster().name(name).send().await.map_err(err("DescribeCluster"));
        optional(r.map(|out| {
            let c = out.cluster.unwrap_or_else(|| aws_sdk_eks::types::Cluster::builder().build());
            Cluster {
                name: c.name().unwrap_or(name).to_string(),
                arn: c.arn().unwrap_or_default().to_string(),
                status: c.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                oidc_issuer: c.identity().and_then(|i| i.oidc()).and_then(|o| o.issuer()).map(str::to_string),
            }
        }))
    }

    /// Names of every cluster in the region (all pages).
    pub async fn list_clusters(&self) -> AwsResult<Vec<String>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .eks
                .list_clusters()
                .max_results(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(err("ListClusters"))?;
            out.extend(page.clusters().iter().cloned());
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }

    // ---- addons ----

    pub async fn describe_addon(&self, cluster: &str, addon: &str) -> AwsResult<Option<Addon>> {
        let r = self
            .eks
            .describe_addon()
            .cluster_name(cluster)
            .addon_name(addon)
            .send()
            .await
            .map_err(err("DescribeAddon"));
        optional(r.map(|out| addon_from_sdk(addon, out.addon())))
    }

    pub async fn create_addon(
        &self,
        cluster: &str,
        addon: &str,
        version: Option<&str>,
        tags: &BTreeMap<String, String>,
    ) -> AwsResult<Addon> {
        let out = self
            .eks
            .create_addon()
            .cluster_name(cluster)
            .addon_name(addon)
            .set_addon_version(version.map(str::to_string))
            .resolve_conflicts(ResolveConflicts::Overwrite)
            .set_tags(Some(tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
            .client_request_token(uuid::Uuid::new_v4().to_string())
            .send()
            .await
            .map_err(err("CreateAddon"))?;
        Ok(addon_from_sdk(addon, out.addon()))
    }

    pub async fn update_addon_version(&self, cluster: &str, addon: &str, version: &str) -> AwsResult<()> {
        self.eks
            .update_addon()
            .cluster_name(cluster)
            .addon_name(addon)
            .addon_version(version)
            .resolve_conflicts(ResolveConflicts::Preserve)
            .send()
            .await
            .map_err(err("UpdateAddon"))?;
        Ok(())
    }

    /// Starts deleting the addon; one already gone is not an error.
    pub async fn delete_addon(&self, cluster: &str, addon: &str) -> AwsResult<()> {
        match self.eks.delete_addon().cluster_name(cluster).addon_name(addon).send().await.map_err(err("DeleteAddon")) {
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
            Ok(_) => Ok(()),
        }
    }

    // ---- pod identity associations ----

    /// Associations of a cluster, optionally filtered by namespace and service account (all pages).
    pub async fn list_associations(
        &self,
        cluster: &str,
        namespace: Option<&str>,
        service_account: Option<&str>,
    ) -> AwsResult<Vec<AssociationSummary>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .eks
                .list_pod_identity_associations()
                .cluster_name(cluster)
                .set_namespace(namespace.map(str::to_string))
                .set_service_account(service_account.map(str::to_string))
                .max_results(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(err("ListPodIdentityAssociations"))?;
            out.extend(page.associations().iter().map(|a| AssociationSummary {
                id: a.association_id().unwrap_or_default().to_string(),
                namespace: a.namespace().unwrap_or_default().to_string(),
                service_account: a.service_account().unwrap_or_default().to_string(),
                owner_arn: a.owner_arn().map(str::to_string),
            }));
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }

    pub async fn describe_association(&self, cluster: &str, id: &str) -> AwsResult<Option<Association>> {
        let r = self
            .eks
            .describe_pod_identity_association()
            .cluster_name(cluster)
            .association_id(id)
            .send()
            .await
            .map_err(err("DescribePodIdentityAssociation"));
        optional(r.map(|out| association_from_sdk(out.association())))
    }

    /// Creates an association. `token` makes retries of the same create idempotent.
    pub async fn create_association(
        &self,
        cluster: &str,
        namespace: &str,
        service_account: &str,
        settings: &AssociationSettings<'_>,
        tags: &BTreeMap<String, String>,
        token: &str,
    ) -> AwsResult<Association> {
        let mut req = self
            .eks
            .create_pod_identity_association()
            .cluster_name(cluster)
            .namespace(namespace)
            .service_account(service_account)
            .role_arn(settings.role_arn)
            .disable_session_tags(settings.disable_session_tags)
            .set_target_role_arn(settings.target_role_arn.map(str::to_string))
            .set_policy(settings.policy.map(str::to_string))
            .client_request_token(token);
        if !tags.is_empty() {
            req = req.set_tags(Some(tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()));
        }
        let out = req.send().await.map_err(err("CreatePodIdentityAssociation"))?;
        Ok(association_from_sdk(out.association()))
    }

    pub async fn update_association(
        &self,
        cluster: &str,
        id: &str,
        settings: &AssociationSettings<'_>,
    ) -> AwsResult<Association> {
        let out = self
            .eks
            .update_pod_identity_association()
            .cluster_name(cluster)
            .association_id(id)
            .role_arn(settings.role_arn)
            .disable_session_tags(settings.disable_session_tags)
            // An empty string clears these on the server side.
            .target_role_arn(settings.target_role_arn.unwrap_or(""))
            .policy(settings.policy.unwrap_or(""))
            .send()
            .await
            .map_err(err("UpdatePodIdentityAssociation"))?;
        Ok(association_from_sdk(out.association()))
    }

    /// Deletes an association; one already gone is not an error.
    pub async fn delete_association(&self, cluster: &str, id: &str) -> AwsResult<()> {
        gone_is_ok(
            self.eks
                .delete_pod_identity_association()
                .cluster_name(cluster)
                .association_id(id)
                .send()
                .await
                .map_err(err("DeletePodIdentityAssociation")),
        )
    }

    pub async fn tag_eks_resource(&self, arn: &str, tags: &BTreeMap<String, String>) -> AwsResult<()> {
        if tags.is_empty() {
            return Ok(());
        }
        self.eks
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
            .send()
            .await
            .map_err(err("TagResource"))?;
        Ok(())
    }

    pub async fn untag_eks_resource(&self, arn: &str, keys: &[String]) -> AwsResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        self.eks
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(err("UntagResource"))?;
        Ok(())
    }
}

fn addon_from_sdk(name: &str, a: Option<&aws_sdk_eks::types::Addon>) -> Addon {
    let Some(a) = a else {
        return Addon {
            name: name.to_string(),
            status: String::new(),
            version: None,
            arn: None,
            tags: BTreeMap::new(),
            health_issues: Vec::new(),
        };
    };
    Addon {
        name: a.addon_name().unwrap_or(name).to_string(),
        status: a.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        version: a.addon_version().map(str::to_string),
        arn: a.addon_arn().map(str::to_string),
        tags: btree(a.tags()),
        health_issues: a
            .health()
            .map(|h| {
                h.issues()
                    .iter()
                    .map(|i| {
                        format!(
                            "{}: {}",
                            i.code().map(|c| c.as_str()).unwrap_or("Unknown"),
                            i.message().unwrap_or("no message")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn association_from_sdk(a: Option<&aws_sdk_eks::types::PodIdentityAssociation>) -> Association {
    let empty = aws_sdk_eks::types::PodIdentityAssociation::builder().build();
    let a = a.unwrap_or(&empty);
    let nonempty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
    Association {
        id: a.association_id().unwrap_or_default().to_string(),
        arn: a.association_arn().unwrap_or_default().to_string(),
        namespace: a.namespace().unwrap_or_default().to_string(),
        service_account: a.service_account().unwrap_or_default().to_string(),
        role_arn: a.role_arn().unwrap_or_default().to_string(),
        target_role_arn: nonempty(a.target_role_arn()),
        disable_session_tags: a.disable_session_tags().unwrap_or(false),
        policy: nonempty(a.policy()),
        external_id: nonempty(a.external_id()),
        owner_arn: nonempty(a.owner_arn()),
        tags: btree(a.tags()),
    }
}
