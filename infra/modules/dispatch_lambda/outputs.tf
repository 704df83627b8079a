output "function_name" {
  description = "Name of the function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the function."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "ARN of the execution role."
  value       = aws_iam_role.this.arn
}

output "security_group_id" {
  description = "Egress security group of the function."
  value       = aws_security_group.this.id
}

output "signing_profile_name" {
  description = "AWS Signer profile the pipeline signs bootstrap.zip with."
  value       = aws_signer_signing_profile.this.name
}

output "log_group_name" {
  description = "Log group of the function."
  value       = aws_cloudwatch_log_group.this.name
}

output "event_source_mapping_uuid" {
  description = "UUID of the SQS event source mapping."
  value       = aws_lambda_event_source_mapping.sqs.uuid
}
