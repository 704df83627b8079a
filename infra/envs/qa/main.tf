# The qa environment: the whole delivery service (modules/service) in the qa AWS account.

locals {
  environment = "qa"

  tags = {
    Project     = "mechanica-order-webhooks"
    Environment = local.environment
    ManagedBy   = "terraform"
    Stack       = "infra/envs/qa"
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

# CloudFront's certificates live in us-east-1.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = local.tags
  }
}

module "service" {
  source = "../../modules/service"

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  environment                 = local.environment
  vpc_name                    = var.vpc_name
  api_domain_name             = var.api_domain_name
  portal_domain_name          = var.portal_domain_name
  portal_frame_ancestors      = var.portal_frame_ancestors
  portal_web_acl_arn          = var.portal_web_acl_arn
  database_dsn                = var.database_dsn
  lambda_s3_key               = var.lambda_s3_key
  lambda_architectures        = var.lambda_architectures
  lambda_reserved_concurrency = var.lambda_reserved_concurrency
  lambda_maximum_concurrency  = var.lambda_maximum_concurrency
  instance_type               = var.instance_type
  alarm_emails                = var.alarm_emails
  tags                        = local.tags
}
