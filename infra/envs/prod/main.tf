# The prod environment: the whole delivery service (modules/service) in the prod AWS account.

locals {
  environment = "prod"

  tags = {
    Project     = "mechanica-order-webhooks"
    Environment = local.environment
    ManagedBy   = "terraform"
    Stack       = "infra/envs/prod"
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

# Keys from the CI secret store (TF_VAR_datadog_api_key, TF_VAR_datadog_app_key), never tfvars.
provider "datadog" {
  api_key = var.datadog_api_key
  app_key = var.datadog_app_key
  api_url = "https://api.${var.datadog_site}/"
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
  promoted_from               = "qa" # production runs only releases that passed QA
  datadog_api_key             = var.datadog_api_key
  datadog_site                = var.datadog_site
  tags                        = local.tags
}

# The dashboard operators watch after a deploy, and the monitors (infra/README.md, "Dashboard
# and monitors").
module "datadog" {
  source = "../../modules/datadog"

  environment   = local.environment
  queue_name    = module.service.queue_name
  dlq_name      = module.service.dlq_name
  function_name = module.service.dispatch_function_name
  notify        = var.datadog_notify
  tags          = ["project:mechanica-order-webhooks"]

  # The organisation's one owner of the latency distributions' percentiles, switched on once
  # the first release's metrics have arrived (infra/README.md, "Dashboard and monitors").
  manage_metric_tag_configuration = var.datadog_manage_percentiles
}
