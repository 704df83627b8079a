output "artifacts_bucket" {
  description = "Name of the artifacts bucket."
  value       = aws_s3_bucket.artifacts.id
}

output "artifacts_bucket_arn" {
  description = "ARN of the artifacts bucket."
  value       = aws_s3_bucket.artifacts.arn
}

output "logs_bucket" {
  description = "Name of the access-log bucket. Taken from the bucket policy, so that an ALB writing its logs here is created only once log delivery is allowed."
  value       = aws_s3_bucket_policy.logs.bucket
}

output "logs_bucket_arn" {
  description = "ARN of the access-log bucket."
  value       = aws_s3_bucket.logs.arn
}

output "release_reader_role_arn" {
  description = "Role the next environment's pipeline assumes to read releases (RELEASE_SOURCE_ROLE_ARN), or null."
  value       = one(aws_iam_role.release_reader[*].arn)
}
