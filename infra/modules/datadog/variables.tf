variable "environment" {
  description = "Environment name (qa, prod): the `env` tag the Datadog agent on the API instances reports with, and part of every title."
  type        = string
}

variable "queue_name" {
  description = "Name of the delivery queue (the AWS integration's `queuename` tag)."
  type        = string
}

variable "dlq_name" {
  description = "Name of the dead-letter queue."
  type        = string
}

variable "function_name" {
  description = "Name of the dispatch Lambda (the AWS integration's `functionname` tag)."
  type        = string
}

variable "notify" {
  description = "Datadog notification handles every monitor's message ends with, space-separated (e.g. \"@ops@mechanica-logistics.com @slack-mechanica-ops\")."
  type        = string
}

variable "db_pool_size" {
  description = "DATABASE_MAX_CONNECTIONS of orders-api (its default, 16, unless the instances set it): the pool monitor's 100 %."
  type        = number
  default     = 16
}

variable "error_ratio_percent" {
  description = "Alert when more than this share of the API's responses over 10 minutes are 5xx."
  type        = number
  default     = 5
}

variable "latency_p95_seconds" {
  description = "Alert when a route's p95 latency over 10 minutes exceeds this."
  type        = number
  default     = 1
}

variable "relay_lag_seconds" {
  description = "Alert when the relay publishes a delivery committed longer ago than this."
  type        = number
  default     = 60
}

variable "oldest_message_age_seconds" {
  description = "Alert when the delivery queue's oldest message is older than this (the CloudWatch alarm's threshold; 900 s matches the relay's republish window)."
  type        = number
  default     = 900
}

variable "lock_conflicts_per_10m" {
  description = "Alert when more statements or transactions than this are run again after a deadlock or lock wait timeout within 10 minutes."
  type        = number
  default     = 50
}

variable "cpu_percent" {
  description = "Alert when an API instance's CPU is busier than this over 15 minutes."
  type        = number
  default     = 90
}

variable "tags" {
  description = "Tags of the dashboard's monitors (key:value strings)."
  type        = list(string)
  default     = []
}

variable "manage_metric_tag_configuration" {
  description = "Whether this environment manages the organisation-wide tag configuration (percentiles) of the latency distributions. True in exactly one environment of a Datadog organisation, applied once the metrics have arrived."
  type        = bool
  default     = false
}
