variable "name" {
  description = "Name of the delivery queue; the dead-letter queue is named \"<name>-dlq\"."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,76}$", var.name))
    error_message = "name must be 1-76 characters of letters, digits, '-' and '_' (76 leaves room for \"-dlq\")."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for server-side encryption of both queues."
  type        = string
}

variable "consumer_timeout_seconds" {
  description = "Timeout of the consuming Lambda. The queue's visibility timeout must be at least six times this (AWS's guidance for SQS event sources)."
  type        = number
}

variable "visibility_timeout_seconds" {
  description = "Default visibility timeout of the delivery queue. The dispatcher extends it per message (ChangeMessageVisibility) to carry retry delays."
  type        = number
  default     = 360

  validation {
    condition     = var.visibility_timeout_seconds >= 0 && var.visibility_timeout_seconds <= 43200
    error_message = "visibility_timeout_seconds must be between 0 and 43200 (12 h)."
  }
}

variable "message_retention_seconds" {
  description = "Retention of the delivery queue. It must outlast the whole retry schedule (about 28 h by default) with room to spare."
  type        = number
  default     = 345600 # 4 days

  validation {
    condition     = var.message_retention_seconds >= 172800 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds must be between 172800 (2 days, longer than the retry schedule) and 1209600 (14 days)."
  }
}

variable "dlq_message_retention_seconds" {
  description = "Retention of the dead-letter queue; longer than the source queue's so a moved message is never older than its DLQ allows."
  type        = number
  default     = 1209600 # 14 days, the SQS maximum

  validation {
    condition     = var.dlq_message_retention_seconds <= 1209600
    error_message = "dlq_message_retention_seconds cannot exceed 1209600 (14 days)."
  }
}

variable "max_receive_count" {
  description = "Receives before a message moves to the DLQ. Every scheduled delivery attempt is one receive (8 by default, plus duplicates and lost claims), so at least 20."
  type        = number
  default     = 25

  validation {
    condition     = var.max_receive_count >= 20 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "max_receive_count must be an integer between 20 and 1000."
  }
}

variable "tags" {
  description = "Tags for both queues."
  type        = map(string)
  default     = {}
}
