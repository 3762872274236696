# Import by the resource's ID, <cluster_name>/<namespace>/<service_account>. The same ID works in every mode.
terraform import eksidentity_service_account_role.api demo/payments/api

# IRSA for a cluster outside EKS (no cluster_name): <issuer host and path>/<namespace>/<service_account>.
terraform import eksidentity_service_account_role.api oidc.example.com/id/EXAMPLE/payments/api

# By IAM role name, for a role with a custom name. The namespace and service account come from the role's
# eksidentity:wiring tag or its trust policy; a Pod Identity role without the tag needs the ID form above.
terraform import eksidentity_service_account_role.api payments-api-reader
