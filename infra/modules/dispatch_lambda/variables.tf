variable "function_name" {
  description = "Name of the webhook dispatch Lambda."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1-64 letters, digits, '-' or '_'."
  }
}

variable "architectures" {
  description = "Instruction set of the bootstrap binary: [\"arm64\"] for `cargo lambda build --release --arm64`, [\"x86_64\"] for an x86_64 build."
  type        = list(string)
  default     = ["arm64"]

  validation {
    condition     = length(var.architectures) == 1 && contains(["arm64", "x86_64"], var.architectures[0])
    error_message = "architectures must be exactly one of [\"arm64\"] or [\"x86_64\"]."
  }
}

variable "artifacts_bucket" {
  description = "S3 bucket holding the signed Lambda zip (versioned, same region as the function)."
  type        = string
}

variable "s3_key" {
  description = "Key of a release's signed zip (releases/<release>/lambda-s3-key); used when the function is created, then release.sh owns the code."
  type        = string
}

variable "s3_object_version" {
  description = "Object version of the zip, if pinned; null takes the latest version of s3_key."
  type        = string
  default     = null
}

variable "memory_size" {
  description = "Memory of the function in MB."
  type        = number
  default     = 256
}

variable "timeout_seconds" {
  description = "Function timeout. One batch runs its deliveries concurrently, each at most WEBHOOK_TIMEOUT_MS; the handler stops starting work DEADLINE_MARGIN_MS before the deadline."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 900
    error_message = "timeout_seconds must be between 1 and 900."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions: a ceiling on simultaneous instances, and so on database connections (one or two per instance)."
  type        = number
  default     = 20

  validation {
    condition     = var.reserved_concurrency >= 2
    error_message = "reserved_concurrency must be at least 2 (the event source mapping's minimum maximum_concurrency)."
  }
}

variable "batch_size" {
  description = "Messages per invocation."
  type        = number
  default     = 10

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000
    error_message = "batch_size must be between 1 and 10000."
  }
}

variable "maximum_batching_window_in_seconds" {
  description = "How long the event source mapping gathers a batch. 0 favours latency (a status change reaches the customer at once); above 10 messages per batch AWS requires at least 1."
  type        = number
  default     = 0

  validation {
    condition     = var.maximum_batching_window_in_seconds >= 0 && var.maximum_batching_window_in_seconds <= 300
    error_message = "maximum_batching_window_in_seconds must be between 0 and 300."
  }
}

variable "maximum_concurrency" {
  description = "Event source mapping scaling_config.maximum_concurrency; must not exceed reserved_concurrency, or the mapping is throttled by the function's own limit."
  type        = number
  default     = 10

  validation {
    condition     = var.maximum_concurrency >= 2 && var.maximum_concurrency <= 1000
    error_message = "maximum_concurrency must be between 2 and 1000."
  }
}

variable "queue_arn" {
  description = "ARN of the delivery queue (the event source)."
  type        = string
}

variable "queue_url" {
  description = "URL of the delivery queue (SQS_QUEUE_URL: the handler changes message visibility to carry retry delays)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key: encrypts the environment and the log group, and decrypts the queue's messages."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the private subnets."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets with a NAT route: customer endpoints and PlanetScale are on the internet."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "Give at least two private subnets (two availability zones)."
  }
}

variable "secret_environment" {
  description = "Secret environment variables (SECRETS_KEY, DSN) from modules/app_secrets."
  type        = map(string)
  sensitive   = true
}

variable "webhook_retry_schedule" {
  description = "WEBHOOK_RETRY_SCHEDULE: seconds before each attempt. Its longest delay (10 h) stays under SQS's 12 h visibility ceiling."
  type        = string
  default     = "0,5,300,1800,7200,18000,36000,36000"

  validation {
    condition     = can(regex("^[0-9]+(,[0-9]+)*$", var.webhook_retry_schedule)) && alltrue([for s in split(",", var.webhook_retry_schedule) : tonumber(s) < 43200])
    error_message = "webhook_retry_schedule must be comma-separated seconds, each below 43200 (12 h)."
  }
}

variable "webhook_timeout_ms" {
  description = "WEBHOOK_TIMEOUT_MS: total time of one delivery attempt."
  type        = number
  default     = 15000
}

variable "webhook_connect_timeout_ms" {
  description = "WEBHOOK_CONNECT_TIMEOUT_MS: connect timeout of one delivery attempt."
  type        = number
  default     = 5000
}

variable "dispatch_concurrency" {
  description = "DISPATCH_CONCURRENCY: records of one batch handled at once."
  type        = number
  default     = 10
}

variable "deadline_margin_ms" {
  description = "DEADLINE_MARGIN_MS: no delivery starts later than this before the invocation deadline; at least one attempt (WEBHOOK_TIMEOUT_MS) plus recording it."
  type        = number
  default     = 20000
}

variable "rust_log" {
  description = "RUST_LOG filter."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "Retention of the function's log group."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}

variable "datadog" {
  description = "The Datadog Lambda extension, or null for none: the version of Datadog's extension layer, the Datadog site (e.g. datadoghq.eu), the env tag, and the ARN of the SSM SecureString parameter holding the API key, encrypted with kms_key_arn. With it the function pushes its metrics to the extension over DogStatsD."
  type = object({
    extension_version     = number
    site                  = string
    env                   = string
    api_key_parameter_arn = string
  })
  default = null
}
