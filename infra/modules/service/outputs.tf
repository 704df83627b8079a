output "artifacts_bucket" {
  description = "Artifacts bucket (release tarballs and Lambda zips)."
  value       = module.artifacts.artifacts_bucket
}

output "queue_url" {
  description = "SQS_QUEUE_URL of the delivery queue."
  value       = module.queue.queue_url
}

output "dlq_url" {
  description = "URL of the dead-letter queue."
  value       = module.queue.dlq_url
}

output "dispatch_function_name" {
  description = "Name of the dispatch Lambda."
  value       = module.dispatch_lambda.function_name
}

output "lambda_signing_profile_name" {
  description = "AWS Signer profile the pipeline signs bootstrap.zip with."
  value       = module.dispatch_lambda.signing_profile_name
}

output "api_dns_name" {
  description = "DNS name of the ALB."
  value       = module.api.alb_dns_name
}

output "bluegreen_env" {
  description = "Environment variables for infra/pipeline/bluegreen.sh."
  value       = module.api.bluegreen_env
}

output "repository_url" {
  description = "ECR repository of the container images (REPOSITORY_URI)."
  value       = module.registry.repository_url
}

output "secret_arn" {
  description = "ARN of the application secret."
  value       = module.secrets.secret_arn
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.alarms.topic_arn
}

output "portal_url" {
  description = "Address of the customer portal."
  value       = module.portal.portal_url
}

output "portal_distribution_domain_name" {
  description = "Domain name of the portal's CloudFront distribution (point the portal domain's DNS record at it)."
  value       = module.portal.distribution_domain_name
}

output "portal_env" {
  description = "Environment for infra/pipeline/publish-portal.sh."
  value = {
    PORTAL_BUCKET          = module.portal.bucket
    PORTAL_DISTRIBUTION_ID = module.portal.distribution_id
  }
}
