variable "name_prefix" {
  description = "Prefix of the bucket and CloudFront resource names (e.g. mechanica-prod); the account id is appended to bucket names for global uniqueness."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,30}$", var.name_prefix))
    error_message = "name_prefix must be 1-31 lower-case letters, digits or '-'."
  }
}

variable "aliases" {
  description = "Domain names of the portal (the first is the one portal links use); the certificate must cover them all, and their DNS records point at the distribution."
  type        = list(string)

  validation {
    condition     = length(var.aliases) >= 1
    error_message = "Give at least one domain name: the distribution serves the portal under its own domain."
  }
}

variable "certificate_arn" {
  description = "ACM certificate for the aliases. CloudFront only uses certificates issued in us-east-1."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate in us-east-1."
  }
}

variable "api_origin_domain_name" {
  description = "Domain name CloudFront reaches the API at over HTTPS for /v1/* and /openapi.json: the API's own domain, whose DNS record points at the ALB and which the HTTPS listener's certificate covers (CloudFront checks the origin's certificate against this name)."
  type        = string
}

variable "frame_ancestors" {
  description = "The Content-Security-Policy frame-ancestors source list: who may embed the portal in a frame. 'none' forbids framing (and X-Frame-Options: DENY is sent too); a customer's embedding site is allowed only by naming it here."
  type        = string
  default     = "'none'"

  # The API's PORTAL_FRAME_ANCESTORS follows the same rule (orders_api::http::portal).
  validation {
    condition = trimspace(var.frame_ancestors) == "'none'" || alltrue([
      for source in split(" ", trimspace(var.frame_ancestors)) :
      source == "'self'" || can(regex("^https://(\\*\\.)?[A-Za-z0-9.-]+(:[0-9]+)?(/[!-~]*)?$", source)) && !can(regex("['\";,]", source))
    ])
    error_message = "frame_ancestors must be 'none' alone, or 'self' and https:// host sources separated by single spaces (e.g. 'self' https://portal.example.com): no wildcards, bare schemes or plain-HTTP hosts."
  }
}

variable "price_class" {
  description = "CloudFront price class (which edge locations serve the portal)."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "web_acl_arn" {
  description = "ARN of a WAFv2 web ACL of scope CLOUDFRONT (created in us-east-1) to attach to the distribution, or null for none."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "Customer managed key of both buckets (SSE-KMS). Its policy must let this distribution decrypt the content bucket and CloudFront's log delivery encrypt into the log bucket (modules/kms, variable cloudfront_portal)."
  type        = string
}

variable "access_logs_bucket" {
  description = "Bucket receiving the S3 server access logs of both portal buckets under s3/ (the environment's log bucket, modules/artifacts)."
  type        = string
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced portal file is kept."
  type        = number
  default     = 30
}

variable "log_expiration_days" {
  description = "Days CloudFront access logs are kept."
  type        = number
  default     = 400
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
