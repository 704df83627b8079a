variable "region" {
  description = "AWS region of the environment."
  type        = string
}

variable "vpc_name" {
  description = "Name tag of the environment's VPC (owned by the network stack)."
  type        = string
}

variable "api_domain_name" {
  description = "Domain of the API (an ISSUED ACM certificate must exist for it)."
  type        = string
}

variable "portal_domain_name" {
  description = "Domain of the customer portal (an ISSUED ACM certificate must exist for it in us-east-1)."
  type        = string
}

variable "portal_frame_ancestors" {
  description = "CSP frame-ancestors of the portal: who may embed it in a frame ('none' forbids framing)."
  type        = string
  default     = "'none'"
}

variable "portal_web_acl_arn" {
  description = "WAFv2 web ACL of scope CLOUDFRONT (us-east-1) for the portal's distribution, or null for none."
  type        = string
  default     = null
}

variable "database_dsn" {
  description = "PlanetScale connection string of the environment's branch. Set TF_VAR_database_dsn from the CI secret store; never put it in a tfvars file."
  type        = string
  sensitive   = true
}

variable "lambda_s3_key" {
  description = "Key of the signed bootstrap.zip in the artifacts bucket; the pipeline sets TF_VAR_lambda_s3_key."
  type        = string
}

variable "lambda_architectures" {
  description = "Architecture of the Lambda's bootstrap binary."
  type        = list(string)
  default     = ["arm64"]
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrency of the dispatch Lambda."
  type        = number
}

variable "lambda_maximum_concurrency" {
  description = "Event source mapping maximum_concurrency (<= reserved concurrency)."
  type        = number
}

variable "instance_type" {
  description = "Instance type of the blue and green API instances."
  type        = string
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic."
  type        = list(string)
  default     = []
}

variable "datadog_api_key" {
  description = "Datadog API key: the provider's, and the agent's on the API instances. Set TF_VAR_datadog_api_key from the CI secret store; never put it in a tfvars file."
  type        = string
  sensitive   = true
}

variable "datadog_app_key" {
  description = "Datadog application key of the provider (dashboards, monitors, metric tag configurations). Set TF_VAR_datadog_app_key from the CI secret store."
  type        = string
  sensitive   = true
}

variable "datadog_site" {
  description = "Datadog site of the organisation (datadoghq.com, datadoghq.eu, ...)."
  type        = string
}

variable "datadog_notify" {
  description = "Datadog notification handles of the monitors, space-separated (e.g. \"@ops@mechanica-logistics.com\")."
  type        = string
}

variable "datadog_manage_percentiles" {
  description = "Whether production manages the Datadog organisation's percentile configuration of the latency distributions (modules/datadog): set it true once the first release's metrics have reached Datadog, which refuses to configure a metric it has not received."
  type        = bool
  default     = false
}
