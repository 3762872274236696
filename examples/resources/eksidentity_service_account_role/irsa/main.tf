# IRSA: IAM roles for service accounts through the cluster's OIDC issuer.
# One resource stands in for tls_certificate + aws_iam_openid_connect_provider + aws_iam_role + policy
# attachments: the OIDC provider is adopted when it exists and created (with a computed thumbprint) when not.

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
  default = "invoices"
}

variable "service_account" {
  type    = string
  default = "reader"
}

variable "policy_arns" {
  type        = set(string)
  description = "Managed policies to attach, for example [\"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess\"]. The set is exclusive."
  default     = []
}

variable "bucket_name" {
  type    = string
  default = "example-invoices"
}

resource "eksidentity_service_account_role" "reader" {
  mode            = "irsa"
  cluster_name    = var.cluster_name
  namespace       = var.namespace
  service_account = var.service_account

  policy_arns = var.policy_arns
  inline_policies = {
    read-invoices = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:ListBucket"]
        Resource = ["arn:aws:s3:::${var.bucket_name}", "arn:aws:s3:::${var.bucket_name}/*"]
      }]
    })
  }
}

output "role_arn" {
  value = eksidentity_service_account_role.reader.role_arn
}

output "oidc_provider_arn" {
  value = eksidentity_service_account_role.reader.oidc_provider_arn
}

# {"eks.amazonaws.com/role-arn" = "<role ARN>"}. With the hashicorp/kubernetes provider:
#
#   resource "kubernetes_service_account" "reader" {
#     metadata {
#       name        = var.service_account
#       namespace   = var.namespace
#       annotations = eksidentity_service_account_role.reader.service_account_annotations
#     }
#   }
output "service_account_annotations" {
  value = eksidentity_service_account_role.reader.service_account_annotations
}
