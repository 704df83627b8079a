variable "name_prefix" {
  description = "Prefix of the bucket names; the account id is appended for global uniqueness."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key for the artifacts bucket (SSE-KMS)."
  type        = string
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced artifact version is kept (rollbacks reach back this far)."
  type        = number
  default     = 90
}

variable "log_expiration_days" {
  description = "Days access logs (ALB and S3 server access logs) are kept."
  type        = number
  default     = 400
}

variable "release_reader_principals" {
  description = "IAM principals (ARNs) of the next environment's pipeline that may assume the release-reader role; empty: no role."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for both buckets."
  type        = map(string)
  default     = {}
}
