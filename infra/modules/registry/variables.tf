variable "name" {
  description = "Name of the ECR repository (e.g. mechanica-prod/orders-api)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key encrypting the images."
  type        = string
}

variable "keep_images" {
  description = "Images kept; older ones expire."
  type        = number
  default     = 50
}

variable "tags" {
  description = "Tags for the repository."
  type        = map(string)
  default     = {}
}
