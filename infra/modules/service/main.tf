# The whole delivery service of one environment (qa or prod): what the two root modules
# envs/qa and envs/prod instantiate, so the environments differ only in their inputs. It takes
# two AWS providers: the environment's region (aws) and us-east-1 (aws.us_east_1), where the
# portal's CloudFront certificate is looked up.

locals {
  name_prefix = "mechanica-${var.environment}"
  portal_url  = "https://${var.portal_domain_name}/portal/"
}

data "aws_vpc" "this" {
  tags = { Name = var.vpc_name }
}

data "aws_subnets" "private" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.this.id]
  }
  tags = { Tier = var.private_subnet_tier }
}

data "aws_subnets" "public" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.this.id]
  }
  tags = { Tier = var.public_subnet_tier }
}

data "aws_acm_certificate" "api" {
  domain      = var.api_domain_name
  statuses    = ["ISSUED"]
  most_recent = true
}

# CloudFront takes certificates from us-east-1 only.
data "aws_acm_certificate" "portal" {
  provider    = aws.us_east_1
  domain      = var.portal_domain_name
  statuses    = ["ISSUED"]
  most_recent = true
}

module "kms" {
  source      = "../kms"
  alias_name  = local.name_prefix
  description = "mechanica ${var.environment}: queues, secrets, logs, artifacts, portal, volumes"
  tags        = var.tags

  cloudfront_portal = {
    distribution_arn   = module.portal.distribution_arn
    content_bucket_arn = module.portal.bucket_arn
    log_bucket_arn     = module.portal.log_bucket_arn
  }
}

module "artifacts" {
  source                    = "../artifacts"
  name_prefix               = local.name_prefix
  kms_key_arn               = module.kms.key_arn
  release_reader_principals = var.release_reader_principals
  tags                      = var.tags
}

module "secrets" {
  source       = "../app_secrets"
  name         = "${local.name_prefix}/orders-api"
  kms_key_arn  = module.kms.key_arn
  database_dsn = var.database_dsn
  tags         = var.tags
}

module "queue" {
  source                     = "../queue"
  name                       = "${local.name_prefix}-webhook-deliveries"
  kms_key_arn                = module.kms.key_arn
  consumer_timeout_seconds   = var.lambda_timeout_seconds
  visibility_timeout_seconds = 6 * var.lambda_timeout_seconds
  max_receive_count          = var.max_receive_count
  tags                       = var.tags
}

module "dispatch_lambda" {
  source               = "../dispatch_lambda"
  function_name        = "${local.name_prefix}-webhook-dispatch"
  architectures        = var.lambda_architectures
  artifacts_bucket     = module.artifacts.artifacts_bucket
  s3_key               = var.lambda_s3_key
  timeout_seconds      = var.lambda_timeout_seconds
  reserved_concurrency = var.lambda_reserved_concurrency
  maximum_concurrency  = var.lambda_maximum_concurrency
  queue_arn            = module.queue.queue_arn
  queue_url            = module.queue.queue_url
  kms_key_arn          = module.kms.key_arn
  vpc_id               = data.aws_vpc.this.id
  subnet_ids           = sort(data.aws_subnets.private.ids)
  secret_environment   = module.secrets.environment
  tags                 = var.tags

  datadog = {
    extension_version     = var.datadog_lambda_extension_version
    site                  = var.datadog_site
    env                   = var.environment
    api_key_parameter_arn = aws_ssm_parameter.datadog_api_key.arn
  }
}

module "api" {
  source               = "../api_bluegreen"
  name                 = "${local.name_prefix}-api"
  vpc_id               = data.aws_vpc.this.id
  public_subnet_ids    = sort(data.aws_subnets.public.ids)
  private_subnet_ids   = sort(data.aws_subnets.private.ids) # stable order: blue takes the first, green the second
  certificate_arn      = data.aws_acm_certificate.api.arn
  instance_type        = var.instance_type
  kms_key_arn          = module.kms.key_arn
  artifacts_bucket     = module.artifacts.artifacts_bucket
  artifacts_bucket_arn = module.artifacts.artifacts_bucket_arn
  access_logs_bucket   = module.artifacts.logs_bucket
  queue_arn            = module.queue.queue_arn
  queue_url            = module.queue.queue_url
  secret_arn           = module.secrets.secret_arn
  portal_url           = local.portal_url
  tags                 = var.tags

  datadog = {
    site                  = var.datadog_site
    env                   = var.environment
    api_key_parameter_arn = aws_ssm_parameter.datadog_api_key.arn
  }
}

# The Datadog API key the agent on the API instances reports with, for their roles to read at
# first boot (modules/api_bluegreen, files/mechanica-datadog-agent.sh), and the dispatch
# Lambda's Datadog extension at its start.
resource "aws_ssm_parameter" "datadog_api_key" {
  name        = "/${local.name_prefix}/datadog-api-key"
  description = "Datadog API key of the agent on the orders-api instances and of the dispatch Lambda's extension"
  type        = "SecureString"
  key_id      = module.kms.key_arn
  value       = var.datadog_api_key
  tags        = var.tags
}

# The customer portal on CloudFront, with /v1/* and /openapi.json forwarded to the API. The
# origin is the API's domain rather than the ALB's DNS name: CloudFront checks the origin's
# certificate against the origin's name, and the listener's certificate covers the domain.
module "portal" {
  source                 = "../portal"
  name_prefix            = local.name_prefix
  aliases                = [var.portal_domain_name]
  certificate_arn        = data.aws_acm_certificate.portal.arn
  api_origin_domain_name = var.api_domain_name
  frame_ancestors        = var.portal_frame_ancestors
  web_acl_arn            = var.portal_web_acl_arn
  kms_key_arn            = module.kms.key_arn
  access_logs_bucket     = module.artifacts.logs_bucket
  tags                   = var.tags
}

module "alarms" {
  source        = "../alarms"
  name_prefix   = local.name_prefix
  kms_key_arn   = module.kms.key_arn
  queue_name    = module.queue.queue_name
  dlq_name      = module.queue.dlq_name
  function_name = module.dispatch_lambda.function_name
  alarm_emails  = var.alarm_emails
  tags          = var.tags
}

# Releases are tarballs in the artifacts bucket (infra/README.md, "One release"); the ECR
# repository that held images nothing ran leaves the state and stays in the account until it is
# emptied and deleted by hand.
removed {
  from = module.registry

  lifecycle {
    destroy = false
  }
}
