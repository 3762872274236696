# Moving a workload from IRSA to Pod Identity without downtime, the role ARN unchanged throughout:
#
#   1. terraform apply                          # mode = "irsa": where the workload starts
#   2. terraform apply -var mode=both           # adds Pod Identity beside IRSA; running pods keep using IRSA
#   3. remove the eks.amazonaws.com/role-arn annotation from the service account and restart the pods:
#        kubectl -n shop annotate serviceaccount checkout eks.amazonaws.com/role-arn-
#        kubectl -n shop rollout restart deployment checkout
#      new pods get no IRSA token and use Pod Identity
#   4. terraform apply -var mode=pod_identity   # removes the IRSA trust; releases the OIDC provider if unused
#
# Rolling back is the same steps in reverse. Going from irsa straight to pod_identity (or back) works but warns:
# pods still running with the old mechanism lose their credentials until they restart.
# See docs/guides/migrate-irsa-to-pod-identity.md.

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

variable "mode" {
  type        = string
  description = "irsa, then both, then pod_identity."
  default     = "irsa"

  validation {
    condition     = contains(["irsa", "both", "pod_identity"], var.mode)
    error_message = "The mode must be irsa, both or pod_identity."
  }
}

resource "eksidentity_service_account_role" "app" {
  mode            = var.mode
  cluster_name    = var.cluster_name
  namespace       = "shop"
  service_account = "checkout"

  policy_arns = []
  inline_policies = {
    read-config = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect   = "Allow"
        Action   = "ssm:GetParameter"
        Resource = "arn:aws:ssm:*:*:parameter/shop/checkout/*"
      }]
    })
  }
}

# The same ARN in every mode.
output "role_arn" {
  value = eksidentity_service_account_role.app.role_arn
}

# Null in irsa mode; the association's ID in both and pod_identity.
output "association_id" {
  value = eksidentity_service_account_role.app.association_id
}

# The role-arn annotation in irsa and both; empty in pod_identity. When Terraform manages the service account
# (hashicorp/kubernetes provider), step 3 is a change of its annotations: they follow this output in irsa mode
# and are empty from step 3 on.
#
#   variable "irsa_annotation" { default = true }   # false from step 3 on
#
#   resource "kubernetes_service_account" "checkout" {
#     metadata {
#       name        = "checkout"
#       namespace   = "shop"
#       annotations = var.irsa_annotation ? eksidentity_service_account_role.app.service_account_annotations : {}
#     }
#   }
output "service_account_annotations" {
  value = eksidentity_service_account_role.app.service_account_annotations
}
