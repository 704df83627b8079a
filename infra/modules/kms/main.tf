# One customer managed key per environment. It encrypts the SQS queues, the Lambda environment,
# the log groups, the application secret, the alarm topic, the artifacts bucket, the portal's
# buckets, the ECR repository and the instances' root volumes. Rotation is on.
#
# The key policy delegates to IAM (the account root statement, as AWS's default policy does), so
# each role's own policy decides what it may do with the key, always narrowed by a
# kms:ViaService or kms:EncryptionContext condition. AWS services that act on their own behalf,
# not through a role of ours, are allowed here: CloudWatch Logs (log group encryption, bound to
# this account's log groups by encryption context), CloudWatch alarms publishing to the
# encrypted SNS topic (bound to this account) and, where the portal exists (modules/portal),
# CloudFront: its distribution decrypts the portal bucket's objects through origin access
# control (bound to that distribution and bucket), and its standard log delivery encrypts log
# files into the portal's log bucket (bound to that bucket by encryption context). S3 bucket
# keys make the bucket's ARN the encryption context.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  # Empty where there is no portal.
  cloudfront_statements = flatten([
    for portal in (var.cloudfront_portal == null ? [] : [var.cloudfront_portal]) : [
      {
        Sid       = "CloudFrontReadsThePortalBucket"
        Effect    = "Allow"
        Principal = { Service = "cloudfront.amazonaws.com" }
        Action    = "kms:Decrypt"
        Resource  = "*"
        Condition = {
          StringEquals = {
            "AWS:SourceArn"                    = portal.distribution_arn
            "kms:EncryptionContext:aws:s3:arn" = portal.content_bucket_arn
          }
        }
      },
      {
        Sid       = "CloudFrontLogDeliveryIntoThePortalLogBucket"
        Effect    = "Allow"
        Principal = { Service = "delivery.logs.amazonaws.com" }
        Action    = "kms:GenerateDataKey*"
        Resource  = "*"
        Condition = {
          StringEquals = { "kms:EncryptionContext:aws:s3:arn" = portal.log_bucket_arn }
        }
      },
    ]
  ])
}

resource "aws_kms_key" "this" {
  description             = var.description
  key_usage               = "ENCRYPT_DECRYPT"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
  is_enabled              = true
  multi_region            = false
  tags                    = var.tags

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid       = "AccountAdministrationThroughIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsForThisAccountsLogGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action = [
          "kms:Encrypt*",
          "kms:Decrypt*",
          "kms:ReEncrypt*",
          "kms:GenerateDataKey*",
          "kms:Describe*",
        ]
        Resource = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"
          }
        }
      },
      {
        Sid       = "CloudWatchAlarmsPublishToEncryptedTopic"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
        }
      },
    ], local.cloudfront_statements)
  })
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.alias_name}"
  target_key_id = aws_kms_key.this.key_id
}
