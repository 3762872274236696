//! The only module that calls AWS. Thin wrappers over the SDK that return our own types and classified errors;
//! no wiring decisions here (what to create, adopt or delete belongs to `crate::wiring`).

mod clients;
mod eks;
mod error;
mod iam;
mod log;
mod sts;

pub use clients::{AssumeRoleSettings, Aws, AwsSettings, Endpoints, DEFAULT_MAX_RETRIES};
pub use eks::{Addon, Association, AssociationSettings, AssociationSummary, Cluster};
pub use error::{AwsError, AwsErrorKind, AwsResult};
pub use iam::{NewRole, OidcProvider, Role, RoleSummary};
pub use sts::CallerIdentity;
