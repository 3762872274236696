//! IAM: roles, their policies and tags, and OIDC identity providers. Every call returns our own types.
//! Policy documents are returned as IAM sends them (URL-encoded); `crate::policy` decodes and compares them.

use std::collections::BTreeMap;

use aws_sdk_iam::types::Tag;

use super::clients::Aws;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::error::{gone_is_ok, optional, sdk_error, AwsError, AwsResult};

const IAM: &str = "IAM";

#[derive(Clone, Debug, PartialEq)]
pub struct Role {
    pub name: String,
    pub arn: String,
    pub role_id: String,
    pub path: String,
    /// As IAM returns it: URL-encoded JSON.
    pub trust_policy_raw: String,
    pub description: Option<String>,
    pub max_session_duration: i64,
    pub permissions_boundary: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// What CreateRole needs.
#[derive(Clone, Debug)]
pub struct NewRole<'a> {
    pub name: &'a str,
    pub path: &'a str,
    pub trust_policy: &'a str,
    pub description: Option<&'a str>,
    pub max_session_duration: i64,
    pub permissions_boundary: Option<&'a str>,
    pub tags: &'a BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OidcProvider {
    pub arn: String,
    /// Without `https://`, as IAM returns it.
    pub url: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

/// A role as ListRoles returns it: enough to see what it trusts.
#[derive(Clone, Debug)]
pub struct RoleSummary {
    pub name: String,
    pub arn: String,
    pub trust_policy_raw: String,
}

fn tags_vec(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect()
}

fn tags_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
}

fn err<E>(op: &'static str) -> impl FnOnce(SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    sdk_error(IAM, op)
}

impl Aws {
    // ---- roles ----

    pub async fn get_role(&self, name: &str) -> AwsResult<Option<Role>> {
        let r = self.iam.get_role().role_name(name).send().await.map_err(err("GetRole"));
        optional(r.map(|out| {
            let role = out.role.expect("GetRole returns a role");
            role_from_sdk(&role)
        }))
    }

    pub async fn create_role(&self, r: &NewRole<'_>) -> AwsResult<Role> {
        let mut req = self
            .iam
            .create_role()
            .role_name(r.name)
            .path(r.path)
            .assume_role_policy_document(r.trust_policy)
            .max_session_duration(r.max_session_duration as i32)
            .set_tags(Some(tags_vec(r.tags)));
        if let Some(d) = r.description {
            req = req.description(d);
        }
        if let Some(b) = r.permissions_boundary {
            req = req.permissions_boundary(b);
        }
        let out = req.send().await.map_err(err("CreateRole"))?;
        Ok(role_from_sdk(out.role.as_ref().expect("CreateRole returns a role")))
    }

    /// Sets description and maximum session duration. IAM treats an empty description as "none".
    pub async fn update_role(&self, name: &str, description: Option<&str>, max_session_duration: i64) -> AwsResult<()> {
        self.iam
            .update_role()
            .role_name(name)
            .description(description.unwrap_or(""))
            .max_session_duration(max_session_duration as i32)
            .send()
            .await
            .map_err(err("UpdateRole"))?;
        Ok(())
    }

    pub async fn update_trust_policy(&self, name: &str, document: &str) -> AwsResult<()> {
        self.iam
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(document)
            .send()
            .await
            .map_err(err("UpdateAssumeRolePolicy"))?;
        Ok(())
    }

    pub async fn put_permissions_boundary(&self, name: &str, arn: &str) -> AwsResult<()> {
        self.iam
            .put_role_permissions_boundary()
            .role_name(name)
            .permissions_boundary(arn)
            .send()
            .await
            .map_err(err("PutRolePermissionsBoundary"))?;
        Ok(())
    }

    pub async fn delete_permissions_boundary(&self, name: &str) -> AwsResult<()> {
        gone_is_ok(
            self.iam
                .delete_role_permissions_boundary()
                .role_name(name)
                .send()
                .await
                .map_err(err("DeleteRolePermissionsBoundary")),
        )
    }

    pub async fn tag_role(&self, name: &str, tags: &BTreeMap<String, String>) -> AwsResult<()> {
        if tags.is_empty() {
            return Ok(());
        }
        self.iam.tag_role().role_name(name).set_tags(Some(tags_vec(tags))).send().await.map_err(err("TagRole"))?;
        Ok(())
    }

    pub async fn untag_role(&self, name: &str, keys: &[String]) -> AwsResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        self.iam
            .untag_role()
            .role_name(name)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(err("UntagRole"))?;
        Ok(())
    }

    /// Deletes the role; a role that is already gone is not an error.
    pub async fn delete_role(&self, name: &str) -> AwsResult<()> {
        gone_is_ok(self.iam.delete_role().role_name(name).send().await.map_err(err("DeleteRole")))
    }

    /// Every role in the account with its trust policy (paginated).
    pub async fn list_roles(&self) -> AwsResult<Vec<RoleSummary>> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .iam
                .list_roles()
                .max_items(1000)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(err("ListRoles"))?;
            for r in page.roles() {
                out.push(RoleSummary {
                    name: r.role_name().to_string(),
                    arn: r.arn().to_string(),
                    trust_policy_raw: r.assume_role_policy_document().unwrap_or_default().to_string(),
                });
            }
            match (page.is_truncated(), page.marker()) {
                (true, Some(m)) => marker = Some(m.to_string()),
                _ => return Ok(out),
            }
        }
    }

    // ---- managed policy attachments ----

    pub async fn list_attached_policies(&self, role: &str) -> AwsResult<Vec<String>> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .iam
                .list_attached_role_policies()
                .role_name(role)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(err("ListAttachedRolePolicies"))?;
            out.extend(page.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_string)));
            match (page.is_truncated(), page.marker()) {
                (true, Some(m)) => marker = Some(m.to_string()),
                _ => return Ok(out),
            }
        }
    }

    pub async fn attach_policy(&self, role: &str, arn: &str) -> AwsResult<()> {
        self.iam.attach_role_policy().role_name(role).policy_arn(arn).send().await.map_err(err("AttachRolePolicy"))?;
        Ok(())
    }

    /// Detaches; an attachment that is already gone is not an error.
    pub async fn detach_policy(&self, role: &str, arn: &str) -> AwsResult<()> {
        gone_is_ok(
            self.iam.detach_role_policy().role_name(role).policy_arn(arn).send().await.map_err(err("DetachRolePolicy")),
        )
    }

    // ---- inline policies ----

    pub async fn list_inline_policy_names(&self, role: &str) -> AwsResult<Vec<String>> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .iam
                .list_role_policies()
                .role_name(role)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(err("ListRolePolicies"))?;
            out.extend(page.policy_names().iter().cloned());
            match (page.is_truncated(), page.marker()) {
                (true, Some(m)) => marker = Some(m.to_string()),
                _ => return Ok(out),
            }
        }
    }

    /// The document as IAM returns it (URL-encoded); `None` when the policy does not exist.
    pub async fn get_inline_policy(&self, role: &str, name: &str) -> AwsResult<Option<String>> {
        let r = self.iam.get_role_policy().role_name(role).policy_name(name).send().await.map_err(err("GetRolePolicy"));
        optional(r.map(|out| out.policy_document().to_string()))
    }

    pub async fn put_inline_policy(&self, role: &str, name: &str, document: &str) -> AwsResult<()> {
        self.iam
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(document)
            .send()
            .await
            .map_err(err("PutRolePolicy"))?;
        Ok(())
    }

    pub async fn delete_inline_policy(&self, role: &str, name: &str) -> AwsResult<()> {
        gone_is_ok(
            self.iam
                .delete_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
                .await
                .map_err(err("DeleteRolePolicy")),
        )
    }

    // ---- OIDC identity providers ----

    pub async fn get_oidc_provider(&self, arn: &str) -> AwsResult<Option<OidcProvider>> {
        let r = self
            .iam
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await
            .map_err(err("GetOpenIDConnectProvider"));
        optional(r.map(|out| OidcProvider {
            arn: arn.to_string(),
            url: out.url().unwrap_or_default().to_string(),
            client_ids: out.client_id_list().to_vec(),
            thumbprints: out.thumbprint_list().to_vec(),
            tags: tags_map(out.tags()),
        }))
    }

    /// Creates the provider and returns its ARN.
    pub async fn create_oidc_provider(
        &self,
        issuer_url: &str,
        client_ids: &[String],
        thumbprints: &[String],
        tags: &BTreeMap<String, String>,
    ) -> AwsResult<String> {
        let out = self
            .iam
            .create_open_id_connect_provider()
            .url(issuer_url)
            .set_client_id_list(Some(client_ids.to_vec()))
            .set_thumbprint_list(if thumbprints.is_empty() { None } else { Some(thumbprints.to_vec()) })
            .set_tags(Some(tags_vec(tags)))
            .send()
            .await
            .map_err(err("CreateOpenIDConnectProvider"))?;
        Ok(out.open_id_connect_provider_arn().unwrap_or_default().to_string())
    }

    pub async fn add_oidc_client_id(&self, arn: &str, client_id: &str) -> AwsResult<()> {
        self.iam
            .add_client_id_to_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .client_id(client_id)
            .send()
            .await
            .map_err(err("AddClientIDToOpenIDConnectProvider"))?;
        Ok(())
    }

    pub async fn update_oidc_thumbprints(&self, arn: &str, thumbprints: &[String]) -> AwsResult<()> {
        self.iam
            .update_open_id_connect_provider_thumbprint()
            .open_id_connect_provider_arn(arn)
            .set_thumbprint_list(Some(thumbprints.to_vec()))
            .send()
            .await
            .map_err(err("UpdateOpenIDConnectProviderThumbprint"))?;
        Ok(())
    }

    /// Deletes the provider; one already gone is not an error.
    pub async fn delete_oidc_provider(&self, arn: &str) -> AwsResult<()> {
        gone_is_ok(
            self.iam
                .delete_open_id_connect_provider()
                .open_id_connect_provider_arn(arn)
                .send()
                .await
                .map_err(err("DeleteOpenIDConnectProvider")),
        )
    }
}

fn role_from_sdk(role: &aws_sdk_iam::types::Role) -> Role {
    Role {
        name: role.role_name().to_string(),
        arn: role.arn().to_string(),
        role_id: role.role_id().to_string(),
        path: role.path().to_string(),
        trust_policy_raw: role.assume_role_policy_document().unwrap_or_default().to_string(),
        description: role.description().filter(|d| !d.is_empty()).map(str::to_string),
        max_session_duration: role.max_session_duration().map(i64::from).unwrap_or(3600),
        permissions_boundary: role
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
            .map(str::to_string),
        tags: tags_map(role.tags()),
    }
}
