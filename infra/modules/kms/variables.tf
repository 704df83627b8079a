variable "alias_name" {
  description = "Alias of the key, without the alias/ prefix (e.g. mechanica-prod)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9/_-]{1,200}$", var.alias_name)) && !startswith(var.alias_name, "aws/")
    error_message = "alias_name may contain letters, digits, '/', '_' and '-', and must not start with aws/."
  }
}

variable "description" {
  description = "What the key protects."
  type        = string
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled key deletion takes effect."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "tags" {
  description = "Tags for the key."
  type        = map(string)
  default     = {}
}

variable "cloudfront_portal" {
  description = "The portal's CloudFront distribution and buckets (modules/portal), whose objects this key encrypts: the distribution may decrypt the content bucket's objects, CloudFront's log delivery may encrypt into the log bucket. Null where there is no portal."
  type = object({
    distribution_arn   = string
    content_bucket_arn = string
    log_bucket_arn     = string
  })
  default = null
}
