output "artifacts_bucket" {
  description = "Artifacts bucket (release tarballs and Lambda zips)."
  value       = module.service.artifacts_bucket
}

output "queue_url" {
  description = "SQS_QUEUE_URL of the delivery queue."
  value       = module.service.queue_url
}

output "dlq_url" {
  description = "URL of the dead-letter queue."
  value       = module.service.dlq_url
}

output "dispatch_function_name" {
  description = "Name of the dispatch Lambda."
  value       = module.service.dispatch_function_name
}

output "lambda_signing_profile_name" {
  description = "AWS Signer profile for bootstrap.zip."
  value       = module.service.lambda_signing_profile_name
}

output "api_dns_name" {
  description = "DNS name of the ALB."
  value       = module.service.api_dns_name
}

output "bluegreen_env" {
  description = "Environment variables for infra/pipeline/bluegreen.sh."
  value       = module.service.bluegreen_env
}

output "release_source" {
  description = "RELEASE_SOURCE_BUCKET and RELEASE_SOURCE_ROLE_ARN for the next environment's pipeline."
  value       = module.service.release_source
}

output "secret_arn" {
  description = "ARN of the application secret."
  value       = module.service.secret_arn
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.service.alarm_topic_arn
}

output "portal_url" {
  description = "Address of the customer portal."
  value       = module.service.portal_url
}

output "portal_distribution_domain_name" {
  description = "Domain name of the portal's CloudFront distribution (the portal domain's DNS target)."
  value       = module.service.portal_distribution_domain_name
}

output "portal_env" {
  description = "Environment variables for infra/pipeline/publish-portal.sh."
  value       = module.service.portal_env
}

output "datadog_dashboard_url" {
  description = "Path of the environment's Datadog dashboard."
  value       = module.datadog.dashboard_url
}
