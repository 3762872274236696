//! The provider block's schema.

use crate::cty::Type;
use crate::schema::{int_between, matches_fn, Attribute, Block, NestedBlock, Nesting, Schema};
use crate::wiring::checks;

pub fn provider_schema() -> Schema {
    let block = Block::new(
        "The eksidentity provider wires IAM roles to Kubernetes service accounts on EKS. It authenticates with the \
         standard AWS credential chain (environment, shared profiles, SSO, web identity, container and instance \
         metadata), optionally assuming a role.",
    )
    .attribute(Attribute::string("region").optional().description(
        "AWS region of the EKS clusters. Defaults to `AWS_REGION` / `AWS_DEFAULT_REGION` or the profile's region.",
    ))
    .attribute(Attribute::string("profile").optional().description(
        "Named profile from the shared AWS config and credentials files. Defaults to `AWS_PROFILE` or `default`.",
    ))
    .attribute(Attribute::new("shared_config_files", Type::list(Type::String)).optional().description(
        "Paths of shared AWS config files to read instead of `~/.aws/config` (credentials in `~/.aws/credentials` \
         are still read).",
    ))
    .attribute(
        Attribute::number("max_retries")
            .optional()
            .description(
                "How many times a throttled, failed (5xx) or unanswered AWS request is retried, with jittered \
                 exponential backoff. Defaults to 25.",
            )
            .validator(int_between(0, 100)),
    )
    .attribute(Attribute::new("default_tags", Type::map(Type::String)).optional().description(
        "Tags added to every IAM role, pod identity association, OIDC provider and addon this provider creates. \
         A resource's own `tags` win on conflicts.",
    ))
    .attribute(Attribute::string("oidc_ca_bundle").optional().description(
        "Extra root certificates (PEM text, or a path to a PEM file) trusted when computing OIDC thumbprints, for \
         issuers behind a private CA. The public web PKI roots are always trusted.",
    ))
    .block(
        NestedBlock::new(
            "assume_role",
            Nesting::Single,
            Block::new("Assume this IAM role (with the credentials found by the chain) for every AWS call.")
                .attribute(
                    Attribute::string("role_arn")
                        .required()
                        .description("ARN of the role to assume.")
                        .validator(matches_fn("Must be an IAM role ARN.", "Invalid role ARN", checks::iam_role_arn)),
                )
                .attribute(
                    Attribute::string("session_name")
                        .optional()
                        .description("Session name for the assumed role. Defaults to `eksidentity`.")
                        .validator(crate::schema::string_length_between(2, 64)),
                )
                .attribute(
                    Attribute::string("external_id")
                        .optional()
                        .sensitive()
                        .description("External ID required by the role's trust policy, if any.")
                        .validator(crate::schema::string_length_between(2, 1224)),
                ),
        )
        .max_items(1),
    )
    .block(
        NestedBlock::new(
            "endpoints",
            Nesting::Single,
            Block::new(
                "Custom service endpoints, for example a local emulator or a VPC endpoint. `AWS_ENDPOINT_URL` and \
                 `AWS_ENDPOINT_URL_<SERVICE>` are honoured too.",
            )
            .attribute(endpoint("iam", "IAM"))
            .attribute(endpoint("eks", "EKS"))
            .attribute(endpoint("sts", "STS")),
        )
        .max_items(1),
    );
    Schema::new(0, block)
}

fn endpoint(name: &str, service: &str) -> Attribute {
    Attribute::string(name)
        .optional()
        .description(&format!("Endpoint URL for {service}, such as `http://127.0.0.1:5000`."))
        .validator(matches_fn("Must be an http:// or https:// URL.", "Invalid endpoint URL", |s| {
            let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
            match rest {
                Some(r) if !r.is_empty() && !r.starts_with('/') => Ok(()),
                _ => Err(format!("\"{s}\" is not an http:// or https:// URL.")),
            }
        }))
}
