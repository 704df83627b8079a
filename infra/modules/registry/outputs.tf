output "repository_url" {
  description = "URI of the repository (REPOSITORY_URI of the buildspecs)."
  value       = aws_ecr_repository.this.repository_url
}

output "repository_arn" {
  description = "ARN of the repository."
  value       = aws_ecr_repository.this.arn
}
