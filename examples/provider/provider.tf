terraform {
  required_version = ">= 1.0"
  required_providers {
    eksidentity = {
      source  = "eksidentity/eksidentity"
      version = "~> 0.1"
    }
  }
}

variable "region" {
  type        = string
  description = "AWS region of the EKS clusters. Null uses AWS_REGION, AWS_DEFAULT_REGION or the profile's region."
  default     = null
}

variable "assume_role_arn" {
  type        = string
  description = "Role to assume for every AWS call, for example arn:aws:iam::111122223333:role/terraform. Null uses the credentials the chain finds."
  default     = null
}

provider "eksidentity" {
  region = var.region

  # Added to every role, association, OIDC provider and addon this provider creates.
  default_tags = {
    managed-by = "terraform"
  }

  dynamic "assume_role" {
    for_each = var.assume_role_arn == null ? [] : [var.assume_role_arn]
    content {
      role_arn     = assume_role.value
      session_name = "terraform"
    }
  }
}
