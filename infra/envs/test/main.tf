# The test environment: what the Jenkins test stage needs in the dedicated AWS test account for
# one run — an encrypted delivery queue with its DLQ, exactly as production configures them.
# Everything is named after the workspace, so a second workspace never collides with `test`.

locals {
  name_prefix = "mechanica-${terraform.workspace}"

  tags = {
    Project     = "mechanica-order-webhooks"
    Environment = "test"
    Workspace   = terraform.workspace
    ManagedBy   = "terraform"
    Stack       = "infra/envs/test"
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

module "kms" {
  source                  = "../../modules/kms"
  alias_name              = local.name_prefix
  description             = "mechanica ${terraform.workspace}: test queues"
  deletion_window_in_days = 7
  tags                    = local.tags
}

module "queue" {
  source                     = "../../modules/queue"
  name                       = "${local.name_prefix}-webhook-deliveries"
  kms_key_arn                = module.kms.key_arn
  consumer_timeout_seconds   = var.consumer_timeout_seconds
  visibility_timeout_seconds = 6 * var.consumer_timeout_seconds
  tags                       = local.tags
}
