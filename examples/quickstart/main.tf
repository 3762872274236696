# Quick start: three service accounts on one cluster, one per mode.
#   payments/api      irsa          IAM roles for service accounts (OIDC provider + federated trust)
#   orders/worker     pod_identity  EKS Pod Identity (agent addon + association)
#   billing/exporter  both          the migration step between the two
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
  read_parameters = { for ns in ["payments", "orders", "billing"] : ns => jsonencode({
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
  namespace       = "payments"
  service_account = "api"
  policy_arns     = []
  inline_policies = { read-parameters = local.read_parameters["payments"] }
}

resource "eksidentity_service_account_role" "pod_identity" {
  mode            = "pod_identity"
  cluster_name    = var.cluster_name
  namespace       = "orders"
  service_account = "worker"
  policy_arns     = []
  inline_policies = { read-parameters = local.read_parameters["orders"] }
}

resource "eksidentity_service_account_role" "both" {
  mode            = "both"
  cluster_name    = var.cluster_name
  namespace       = "billing"
  service_account = "exporter"
  policy_arns     = []
  inline_policies = { read-parameters = local.read_parameters["billing"] }
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

# The EKS pod identity associations (null for irsa, which has none).
output "association_ids" {
  value = { for mode, w in local.wirings : mode => w.association_id }
}

# The IAM OIDC identity provider that irsa and both share (null for pod_identity).
output "oidc_provider_arns" {
  value = { for mode, w in local.wirings : mode => w.oidc_provider_arn }
}
