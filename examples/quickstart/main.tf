# Quick start: three service accounts on one cluster, one per mode.
#   catalog/search    irsa          IAM roles for service accounts (OIDC provider + federated trust)
#   cart/api          pod_identity  EKS Pod Identity (agent addon + association)
#   shipping/tracker  both          the migration step between the two
# `make demo` applies this folder against the local emulator and prints the outputs.

terraform {
  required_version = ">= 1.0"
  required_providers {
    eksidentity = {
      source  = "eksidentity/eksidentity"
      version = "~> 0.1"
    }
  }
}

provider "eksidentity" {
  region         = var.region
  oidc_ca_bundle = var.oidc_ca_bundle
}

variable "region" {
  type        = string
  description = "AWS region of the cluster. Null uses AWS_REGION, AWS_DEFAULT_REGION or the profile's region."
  default     = null
}

variable "oidc_ca_bundle" {
  type        = string
  description = "Extra CA (PEM text or file) for an issuer behind a private CA, such as the local emulator's. Null for EKS."
  default     = null
}

variable "cluster_name" {
  type    = string
  default = "demo"
}

locals {
  # Read-only access to the SSM parameters under /quickstart/<namespace>/.
  read_parameters = { for ns in ["catalog", "cart", "shipping"] : ns => jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["ssm:GetParameter", "ssm:GetParametersByPath"]
      Resource = "arn:aws:ssm:*:*:parameter/quickstart/${ns}/*"
    }]
  }) }
}

resource "eksidentity_service_account_role" "irsa" {
  mode            = "irsa"
  cluster_name    = var.cluster_name
  namespace       = "catalog"
  service_account = "search"
  policy_arns     = []
  inline_policies = { read-parameters = local.read_parameters["catalog"] }
}

resource "eksidentity_service_account_role" "pod_identity" {
  mode            = "pod_identity"
  cluster_name    = var.cluster_name
  namespace       = "cart"
  service_account = "api"
  policy_arns     = []
  inline_policies = { read-parameters = local.read_parameters["cart"] }
}

resource "eksidentity_service_account_role" "both" {
  mode            = "both"
  cluster_name    = var.cluster_name
  namespace       = "shipping"
  service_account = "tracker"
  policy_arns     = []
  inline_policies = { read-parameters = local.read_parameters["shipping"] }
}

locals {
  wirings = {
    irsa         = eksidentity_service_account_role.irsa
    pod_identity = eksidentity_service_account_role.pod_identity
    both         = eksidentity_service_account_role.both
  }
}

# The IAM role each service account gets; it stays the same if the mode changes later.
output "role_arns" {
  value = { for mode, w in local.wirings : mode => w.role_arn }
}

# What to put on each Kubernetes service account (`kubernetes_service_account.metadata.annotations`):
# the role-arn annotation for irsa and both, nothing for pod_identity.
output "service_account_annotations" {
  value = { for mode, w in local.wirings : mode => w.service_account_annotations }
}

# The EKS pod identity associations: pod_identity and both have one, irsa has none.
output "association_ids" {
  value = { for mode, w in local.wirings : mode => w.association_id if w.association_id != null }
}

# The IAM OIDC identity provider of the cluster's issuer, shared by irsa and both.
output "oidc_provider_arns" {
  value = { for mode, w in local.wirings : mode => w.oidc_provider_arn if w.oidc_provider_arn != null }
}
