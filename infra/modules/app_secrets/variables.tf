variable "name" {
  description = "Name of the secret (e.g. mechanica-prod/orders-api)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed KMS key that encrypts the secret."
  type        = string
}

variable "database_dsn" {
  description = "Database connection string of the environment's PlanetScale branch, in the Go-driver form PlanetScale hands out (user:pass@tcp(host:3306)/db?tls=true) or as a mysql:// URL with ssl-mode. Pass it as TF_VAR_database_dsn from the CI secret store; never commit it."
  type        = string
  sensitive   = true

  validation {
    condition     = strcontains(var.database_dsn, "tls=true") || strcontains(lower(var.database_dsn), "ssl-mode=verify")
    error_message = "database_dsn must require TLS (tls=true, or ssl-mode=verify-identity / verify-ca): APP_ENV=prod refuses a plain-text database connection."
  }
}

variable "recovery_window_in_days" {
  description = "Days a deleted secret can still be restored."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags for the secret."
  type        = map(string)
  default     = {}
}
