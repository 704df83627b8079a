output "secret_arn" {
  description = "ARN of the application secret."
  value       = aws_secretsmanager_secret.this.arn
}

output "environment" {
  description = "The secret's values as environment variables (SECRETS_KEY, DSN), for the Lambda's KMS-encrypted environment."
  sensitive   = true
  value = {
    SECRETS_KEY = random_bytes.secrets_key.base64
    DSN         = var.database_dsn
  }
}
