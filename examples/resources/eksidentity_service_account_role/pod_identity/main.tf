# EKS Pod Identity: the eks-pod-identity-agent addon, a role trusting pods.eks.amazonaws.com, and a pod identity
# association. One resource stands in for aws_eks_addon + aws_iam_role + aws_eks_pod_identity_association.

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
  region = var.region
}

variable "region" {
  type        = string
  description = "AWS region of the cluster. Null uses AWS_REGION, AWS_DEFAULT_REGION or the profile's region."
  default     = null
}

variable "cluster_name" {
  type    = string
  default = "demo"
}

variable "namespace" {
  type    = string
  default = "orders"
}

variable "service_account" {
  type    = string
  default = "worker"
}

variable "policy_arns" {
  type        = set(string)
  description = "Managed policies to attach, for example [\"arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess\"]. The set is exclusive."
  default     = []
}

variable "queue_name" {
  type    = string
  default = "orders"
}

resource "eksidentity_service_account_role" "worker" {
  mode            = "pod_identity"
  cluster_name    = var.cluster_name
  namespace       = var.namespace
  service_account = var.service_account

  policy_arns = var.policy_arns
  inline_policies = {
    consume-orders = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect   = "Allow"
        Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
        Resource = "arn:aws:sqs:*:*:${var.queue_name}"
      }]
    })
  }

  # Uncomment to let a cluster without nodes able to run the agent fail fast instead of waiting 20 minutes.
  # timeouts {
  #   create = "5m"
  # }
}

output "role_arn" {
  value = eksidentity_service_account_role.worker.role_arn
}

output "association_id" {
  value = eksidentity_service_account_role.worker.association_id
}

output "agent_addon_version" {
  value = eksidentity_service_account_role.worker.agent_addon_version
}

# Empty in pod_identity mode: the association, not an annotation, gives pods the role. With the
# hashicorp/kubernetes provider the service account needs no annotations:
#
#   resource "kubernetes_service_account" "worker" {
#     metadata {
#       name        = var.service_account
#       namespace   = var.namespace
#       annotations = eksidentity_service_account_role.worker.service_account_annotations
#     }
#   }
output "service_account_annotations" {
  value = eksidentity_service_account_role.worker.service_account_annotations
}
