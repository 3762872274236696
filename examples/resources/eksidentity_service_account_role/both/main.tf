# mode = "both": the role trusts the cluster's OIDC issuer (IRSA) and pods.eks.amazonaws.com (Pod Identity), the
# pod identity association exists, and the IRSA annotation output stays. Pods that carry the annotation keep using
# IRSA (the AWS SDKs try web identity first); pods without it use Pod Identity. This is the middle step of a
# migration: see docs/guides/migrate-irsa-to-pod-identity.md.

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

variable "namespace" {
  type    = string
  default = "billing"
}

variable "service_account" {
  type    = string
  default = "exporter"
}

variable "policy_arns" {
  type        = set(string)
  description = "Managed policies to attach. The set is exclusive."
  default     = []
}

resource "eksidentity_service_account_role" "exporter" {
  mode            = "both"
  cluster_name    = var.cluster_name
  namespace       = var.namespace
  service_account = var.service_account

  policy_arns = var.policy_arns
  inline_policies = {
    put-metrics = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect   = "Allow"
        Action   = "cloudwatch:PutMetricData"
        Resource = "*"
      }]
    })
  }
}

output "role_arn" {
  value = eksidentity_service_account_role.exporter.role_arn
}

output "association_id" {
  value = eksidentity_service_account_role.exporter.association_id
}

# {"eks.amazonaws.com/role-arn" = "<role ARN>"} while in both mode. With the hashicorp/kubernetes provider:
#
#   resource "kubernetes_service_account" "exporter" {
#     metadata {
#       name        = var.service_account
#       namespace   = var.namespace
#       annotations = eksidentity_service_account_role.exporter.service_account_annotations
#     }
#   }
output "service_account_annotations" {
  value = eksidentity_service_account_role.exporter.service_account_annotations
}
