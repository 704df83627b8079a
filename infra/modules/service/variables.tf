variable "environment" {
  description = "Environment name (qa or prod)."
  type        = string

  validation {
    condition     = contains(["qa", "prod"], var.environment)
    error_message = "environment must be qa or prod (test composes only the queue: envs/test)."
  }
}

variable "vpc_name" {
  description = "Name tag of the environment's VPC. The network is owned by the account's network stack; this service only looks it up."
  type        = string
}

variable "private_subnet_tier" {
  description = "Value of the Tier tag marking private subnets (NAT egress) in that VPC."
  type        = string
  default     = "private"
}

variable "public_subnet_tier" {
  description = "Value of the Tier tag marking public subnets in that VPC."
  type        = string
  default     = "public"
}

variable "api_domain_name" {
  description = "Domain of the API; an ISSUED ACM certificate for it must exist in the region, and its DNS record points at the ALB (CloudFront's portal distribution reaches the API by this name)."
  type        = string
}

variable "portal_domain_name" {
  description = "Domain of the customer portal (served by CloudFront); an ISSUED ACM certificate for it must exist in us-east-1."
  type        = string
}

variable "portal_frame_ancestors" {
  description = "CSP frame-ancestors of the portal: who may embed it in a frame ('none' forbids framing)."
  type        = string
  default     = "'none'"
}

variable "portal_web_acl_arn" {
  description = "WAFv2 web ACL of scope CLOUDFRONT (us-east-1) for the portal's distribution, or null for none (the API paths still pass the ALB's web ACL)."
  type        = string
  default     = null
}

variable "database_dsn" {
  description = "PlanetScale connection string of this environment's branch (qa: dev, prod: main). From TF_VAR_database_dsn."
  type        = string
  sensitive   = true
}

variable "lambda_s3_key" {
  description = "Key of the signed bootstrap.zip in the artifacts bucket (signed/<signing job id>.zip), set by the pipeline."
  type        = string
}

variable "lambda_architectures" {
  description = "Architecture of the Lambda's bootstrap binary."
  type        = list(string)
  default     = ["arm64"]
}

variable "lambda_timeout_seconds" {
  description = "Dispatch Lambda timeout; the queue's visibility timeout is six times this."
  type        = number
  default     = 60
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrency of the dispatch Lambda."
  type        = number
  default     = 20
}

variable "lambda_maximum_concurrency" {
  description = "Event source mapping maximum_concurrency (<= reserved concurrency)."
  type        = number
  default     = 10
}

variable "max_receive_count" {
  description = "Receives before a message moves to the DLQ (>= 20)."
  type        = number
  default     = 25
}

variable "instance_type" {
  description = "Instance type of the blue and green API instances."
  type        = string
  default     = "t3.small"
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic."
  type        = list(string)
  default     = []
}

variable "promoted_from" {
  description = "Environment whose passed releases this one takes (release.sh promote); empty for the environment that takes builds."
  type        = string
  default     = ""
}

variable "release_reader_principals" {
  description = "IAM principals of the next environment's pipeline allowed to read this environment's releases."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource (the provider's default_tags add them too)."
  type        = map(string)
  default     = {}
}

variable "datadog_api_key" {
  description = "Datadog API key for the agent on the API instances (stored as an SSM SecureString). Set TF_VAR_datadog_api_key from the CI secret store; never put it in a tfvars file."
  type        = string
  sensitive   = true
}

variable "datadog_site" {
  description = "Datadog site the agent reports to (datadoghq.com, datadoghq.eu, ...)."
  type        = string
}

variable "datadog_lambda_extension_version" {
  description = "Version of Datadog's Lambda extension layer (Datadog-Extension[-ARM]) on the dispatch Lambda."
  type        = number
  default     = 105
}
