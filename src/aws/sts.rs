//! STS: who we are.

use super::clients::Aws;
use super::error::{AwsError, AwsErrorKind, AwsResult};

/// The caller's account and partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub partition: String,
}

impl Aws {
    pub async fn caller_identity(&self) -> AwsResult<CallerIdentity> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("STS", "GetCallerIdentity", e))?;
        let arn = out.arn().unwrap_or_default().to_string();
        let partition = arn.split(':').nth(1).filter(|p| !p.is_empty()).unwrap_or("aws").to_string();
        let account = out.account().unwrap_or_default().to_string();
        if account.is_empty() {
            return Err(AwsError::local(
                "STS",
                "GetCallerIdentity",
                AwsErrorKind::Other,
                "the response named no account".into(),
            ));
        }
        Ok(CallerIdentity { account, arn, partition })
    }
}
