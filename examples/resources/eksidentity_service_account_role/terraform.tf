# Makes this folder a root module, so resource.tf (the example the docs show) can be validated and applied as is.

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

variable "policy_arns" {
  type        = set(string)
  description = "Managed policies to attach, for example [\"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess\"]. The set is exclusive: attachments not listed are removed."
  default     = []
}

variable "bucket_name" {
  type    = string
  default = "example-invoices"
}

output "role_arn" {
  value = eksidentity_service_account_role.api.role_arn
}

output "association_id" {
  value = eksidentity_service_account_role.api.association_id
}
