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

output "queue_name" {
  description = "Name of the delivery queue."
  value       = module.queue.queue_name
}

output "dlq_name" {
  description = "Name of the dead-letter queue."
  value       = module.queue.dlq_name
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
  description = "Environment variables for infra/pipeline/bluegreen.sh (and release.sh reads BG_PROMOTED_FROM)."
  value = merge(module.api.bluegreen_env, {
    BG_ARTIFACTS_BUCKET = module.artifacts.artifacts_bucket
    BG_PROMOTED_FROM    = var.promoted_from
  })
}

output "release_source" {
  description = "For the next environment's pipeline: RELEASE_SOURCE_BUCKET and RELEASE_SOURCE_ROLE_ARN (release.sh resolve/promote)."
  value = {
    RELEASE_SOURCE_BUCKET   = module.artifacts.artifacts_bucket
    RELEASE_SOURCE_ROLE_ARN = module.artifacts.release_reader_role_arn
  }
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
