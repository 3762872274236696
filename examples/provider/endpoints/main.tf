# The provider pointed at custom endpoints: a local emulator, or VPC interface endpoints.
# Setting AWS_ENDPOINT_URL (all services) or AWS_ENDPOINT_URL_IAM / _EKS / _STS in the environment does the same
# without changing the configuration.

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
  type    = string
  default = "us-east-1"
}

variable "endpoint" {
  type        = string
  description = "Base URL of the emulator, as `make emulator` prints it in AWS_ENDPOINT_URL."
  default     = "http://127.0.0.1:4566"
}

variable "oidc_ca_bundle" {
  type        = string
  description = "PEM file of the CA behind the clusters' OIDC issuers (the emulator prints EKSIDENTITY_EMULATOR_CA_BUNDLE). Null trusts the public web PKI only."
  default     = null
}

provider "eksidentity" {
  region         = var.region
  oidc_ca_bundle = var.oidc_ca_bundle

  endpoints {
    iam = var.endpoint
    eks = var.endpoint
    sts = var.endpoint
  }
}
