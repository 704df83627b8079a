output "queue_arn" {
  description = "ARN of the delivery queue."
  value       = aws_sqs_queue.main.arn
}

output "queue_url" {
  description = "URL of the delivery queue (SQS_QUEUE_URL)."
  value       = aws_sqs_queue.main.id
}

output "queue_name" {
  description = "Name of the delivery queue."
  value       = aws_sqs_queue.main.name
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dlq.arn
}

output "dlq_url" {
  description = "URL of the dead-letter queue."
  value       = aws_sqs_queue.dlq.id
}

output "dlq_name" {
  description = "Name of the dead-letter queue."
  value       = aws_sqs_queue.dlq.name
}
