output "queue_url" {
  description = "SQS_QUEUE_URL for the test run."
  value       = module.queue.queue_url
}

output "queue_arn" {
  description = "ARN of the test delivery queue."
  value       = module.queue.queue_arn
}

output "dlq_url" {
  description = "URL of the test dead-letter queue."
  value       = module.queue.dlq_url
}
