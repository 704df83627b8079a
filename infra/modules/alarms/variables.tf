variable "name_prefix" {
  description = "Prefix of the topic and alarm names (e.g. mechanica-prod)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key encrypting the SNS topic (its policy lets CloudWatch alarms use it)."
  type        = string
}

variable "queue_name" {
  description = "Name of the delivery queue."
  type        = string
}

variable "dlq_name" {
  description = "Name of the dead-letter queue."
  type        = string
}

variable "function_name" {
  description = "Name of the dispatch Lambda, for its error alarm."
  type        = string
}

variable "oldest_message_age_threshold_seconds" {
  description = "Alarm when the delivery queue's oldest message is older than this. SQS leaves a message received more than three times out of ApproximateAgeOfOldestMessage, so long retry delays (attempt 4 and later) do not raise it; what remains is a stalled consumer. 900 s matches the relay's republish window."
  type        = number
  default     = 900
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic (each confirms by mail)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for the topic and the alarms."
  type        = map(string)
  default     = {}
}
