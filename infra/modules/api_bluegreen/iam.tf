data "aws_iam_policy_document" "assume" {
  statement {
    sid     = "Ec2Service"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "api" {
  name               = "${var.name}-instance"
  description        = "orders-api instances: publish to the delivery queue, read releases and the app secret"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "api" {
  statement {
    sid       = "ReadReleases"
    actions   = ["s3:GetObject"]
    resources = ["${var.artifacts_bucket_arn}/orders-api/*"]
  }

  statement {
    sid       = "DecryptReleasesThroughS3"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:s3:arn"
      values   = [var.artifacts_bucket_arn] # the bucket key's context: SSE-KMS with bucket_key_enabled
    }
  }

  # The outbox relay: SendMessageBatch is authorised as sqs:SendMessage.
  statement {
    sid       = "PublishDeliveries"
    actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
    resources = [var.queue_arn]
  }

  statement {
    sid       = "EncryptMessagesOfThisQueue"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:sqs:arn"
      values   = [var.queue_arn]
    }
  }

  statement {
    sid       = "ReadAppSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.secret_arn]
  }

  statement {
    sid       = "DecryptAppSecretThroughSecretsManager"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:SecretARN"
      values   = [var.secret_arn]
    }
  }

  # The Datadog agent's installer reads the API key from its SecureString parameter.
  dynamic "statement" {
    for_each = var.datadog == null ? [] : [var.datadog.api_key_parameter_arn]
    content {
      sid       = "ReadDatadogApiKey"
      actions   = ["ssm:GetParameter"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.datadog == null ? [] : [var.datadog.api_key_parameter_arn]
    content {
      sid       = "DecryptDatadogApiKeyThroughSsm"
      actions   = ["kms:Decrypt"]
      resources = [var.kms_key_arn]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["ssm.${local.region}.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "kms:EncryptionContext:PARAMETER_ARN"
        values   = [statement.value]
      }
    }
  }
}

resource "aws_iam_role_policy" "api" {
  name   = "orders-api"
  role   = aws_iam_role.api.id
  policy = data.aws_iam_policy_document.api.json
}

# SSM Run Command is how bluegreen.sh reaches the deploy agent (and Session Manager replaces SSH:
# the instances have no key pair and no inbound SSH).
resource "aws_iam_role_policy_attachment" "ssm_core" {
  role       = aws_iam_role.api.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "api" {
  name = "${var.name}-instance"
  role = aws_iam_role.api.name
  tags = var.tags
}
