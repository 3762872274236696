# EKS Pod Identity: the service account "api" in namespace "payments" gets a role that can read one S3 bucket.
# The provider installs the eks-pod-identity-agent addon if the cluster lacks it, creates the role with a trust
# policy for pods.eks.amazonaws.com, and associates it with the service account. No annotation is needed.
resource "eksidentity_service_account_role" "api" {
  mode            = "pod_identity"
  cluster_name    = var.cluster_name
  namespace       = "payments"
  service_account = "api"

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

  tags = {
    team = "payments"
  }
}
