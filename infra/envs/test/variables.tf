variable "region" {
  description = "AWS region of the test account."
  type        = string
}

variable "consumer_timeout_seconds" {
  description = "Visibility budget of one consumer pass in the tests (the queue's visibility timeout is six times this)."
  type        = number
  default     = 30
}
