variable "name" {
  description = "Base name of the ALB, target groups, instances and roles (e.g. mechanica-prod-api). At most 26 characters, so \"<name>-green\" fits a target group name."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,26}$", var.name))
    error_message = "name must be 1-26 letters, digits or '-'."
  }
}

variable "vpc_id" {
  description = "VPC of the subnets."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets of the internet-facing ALB (at least two availability zones)."
  type        = list(string)

  validation {
    condition     = length(var.public_subnet_ids) >= 2
    error_message = "An ALB needs subnets in at least two availability zones."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets (with a NAT route) of the two instances; blue takes the first, green the second."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "Give at least two private subnets, so blue and green sit in different availability zones."
  }
}

variable "certificate_arn" {
  description = "ACM certificate of the HTTPS listener."
  type        = string
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener (TLS 1.3 and 1.2 only)."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  validation {
    condition     = startswith(var.ssl_policy, "ELBSecurityPolicy-TLS13-1-2-") || startswith(var.ssl_policy, "ELBSecurityPolicy-TLS13-1-3-") || startswith(var.ssl_policy, "ELBSecurityPolicy-FS-1-2-")
    error_message = "ssl_policy must be a TLS 1.2+ policy (ELBSecurityPolicy-TLS13-1-2-*, -TLS13-1-3-* or -FS-1-2-*)."
  }
}

variable "ingress_cidrs" {
  description = "IPv4 ranges allowed to reach the ALB on 443 (and on 80, which only redirects)."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "app_port" {
  description = "Port orders-api listens on (LISTEN=:<port>)."
  type        = number
  default     = 8080
}

variable "instance_type" {
  description = "Instance type. Its architecture must match the orders-api binary the pipeline builds (x86_64 on the Jenkins agents)."
  type        = string
  default     = "t3.small"
}

variable "ami_ssm_parameter" {
  description = "Public SSM parameter naming the AMI (Amazon Linux 2023, which ships the AWS CLI, Python 3 and the SSM agent the deploy agent relies on)."
  type        = string
  default     = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

variable "root_volume_size" {
  description = "Root volume size in GiB."
  type        = number
  default     = 20
}

variable "kms_key_arn" {
  description = "Customer managed key: root volumes, WAF log group, and the queue/secret the instances use."
  type        = string
}

variable "artifacts_bucket" {
  description = "Name of the artifacts bucket the deploy agent downloads releases from."
  type        = string
}

variable "artifacts_bucket_arn" {
  description = "ARN of the artifacts bucket."
  type        = string
}

variable "access_logs_bucket" {
  description = "Bucket receiving the ALB's access logs under alb/."
  type        = string
}

variable "queue_arn" {
  description = "ARN of the delivery queue the outbox relay publishes to."
  type        = string
}

variable "queue_url" {
  description = "URL of the delivery queue (SQS_QUEUE_URL)."
  type        = string
}

variable "secret_arn" {
  description = "ARN of the application secret (SECRETS_KEY, DSN) the deploy agent renders into the environment file."
  type        = string
}

variable "blue_weight" {
  description = "Initial weight of the blue target group. Only read when the listener is created: afterwards infra/pipeline/bluegreen.sh owns the weights (see the listener's lifecycle block)."
  type        = number
  default     = 100

  validation {
    condition     = var.blue_weight >= 0 && var.blue_weight <= 100
    error_message = "blue_weight must be between 0 and 100."
  }
}

variable "green_weight" {
  description = "Initial weight of the green target group (see blue_weight)."
  type        = number
  default     = 0

  validation {
    condition     = var.green_weight >= 0 && var.green_weight <= 100
    error_message = "green_weight must be between 0 and 100."
  }
}

variable "shutdown_drain_seconds" {
  description = "SHUTDOWN_DRAIN_SECONDS of orders-api: how long /readyz answers 503 after SIGTERM before the listener closes."
  type        = number
  default     = 15
}

variable "deregistration_delay_seconds" {
  description = "Target group deregistration delay: longer than the app's drain, short enough to keep a cutover quick. bluegreen.sh waits this long before stopping the old colour."
  type        = number
  default     = 30
}

variable "deletion_protection" {
  description = "Deletion protection of the ALB."
  type        = bool
  default     = true
}

variable "waf_rate_limit" {
  description = "Requests per 5 minutes from one IP address before the WAF blocks it."
  type        = number
  default     = 2000
}

variable "portal_url" {
  description = "PORTAL_URL of orders-api: the customer portal's address, which portal session links point to; null leaves it unset. Like every setting in the instances' cloud-init, it reaches an instance when the instance is created (see aws_instance.api's lifecycle)."
  type        = string
  default     = null
}

variable "rust_log" {
  description = "RUST_LOG of orders-api."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "Retention of the WAF log group."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}

variable "datadog" {
  description = "The Datadog agent on the instances, or null for none: the Datadog site (e.g. datadoghq.eu), the env tag it reports with, and the ARN of the SSM SecureString parameter holding the API key, encrypted with kms_key_arn (read by the instance at first boot with its role; never in user data)."
  type = object({
    site                  = string
    env                   = string
    api_key_parameter_arn = string
  })
  default = null
}
