# The webhook dispatch Lambda (crate webhook-dispatch, binary `bootstrap`) and its SQS event
# source mapping. Per-message failures come back as batch item failures
# (ReportBatchItemFailures); retry delays are carried by ChangeMessageVisibility on the message.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  # Built from the name, not from the resource, so the role's policy can name the function
  # without a dependency cycle.
  function_arn = "arn:${data.aws_partition.current.partition}:lambda:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:function:${var.function_name}"

  # The Datadog Lambda extension, published by Datadog (account 464622532012) in every region:
  # it receives the function's metrics over DogStatsD on 127.0.0.1:8125 (webhook_dispatch::metrics)
  # and forwards them, with its own enhanced Lambda metrics, at the end of each invocation.
  datadog_layers = var.datadog == null ? [] : [
    "arn:${data.aws_partition.current.partition}:lambda:${data.aws_region.current.name}:464622532012:layer:Datadog-Extension${contains(var.architectures, "arm64") ? "-ARM" : ""}:${var.datadog.extension_version}"
  ]
  datadog_environment = var.datadog == null ? {} : {
    DOGSTATSD_ADDR     = "127.0.0.1:8125"
    DD_SITE            = var.datadog.site
    DD_ENV             = var.datadog.env
    DD_SERVICE         = "webhook-dispatch"
    DD_API_KEY_SSM_ARN = var.datadog.api_key_parameter_arn
  }

  environment = {
    APP_ENV                    = "prod"
    SQS_QUEUE_URL              = var.queue_url
    WEBHOOK_RETRY_SCHEDULE     = var.webhook_retry_schedule
    WEBHOOK_TIMEOUT_MS         = tostring(var.webhook_timeout_ms)
    WEBHOOK_CONNECT_TIMEOUT_MS = tostring(var.webhook_connect_timeout_ms)
    DISPATCH_CONCURRENCY       = tostring(var.dispatch_concurrency)
    DEADLINE_MARGIN_MS         = tostring(var.deadline_margin_ms)
    RUST_LOG                   = var.rust_log
  }
}

# --- logs --------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# --- network -----------------------------------------------------------------------------------

resource "aws_security_group" "this" {
  name        = "${var.function_name}-egress"
  description = "Webhook dispatch Lambda: egress only (customer endpoints, PlanetScale, AWS APIs)"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.function_name}-egress" })
}

# Customer webhook URLs may name any TCP port (https://host:8443/...), so egress is all of TCP;
# the SSRF policy in the dispatcher refuses private, loopback and link-local targets before it
# connects. No ingress rule exists: nothing connects to the function.
resource "aws_vpc_security_group_egress_rule" "tcp_out" {
  security_group_id = aws_security_group.this.id
  description       = "Customer webhook endpoints on any TCP port, PlanetScale (3306) and AWS APIs (443)"
  ip_protocol       = "tcp"
  from_port         = 1
  to_port           = 65535
  cidr_ipv4         = "0.0.0.0/0"
  tags              = var.tags
}

# --- IAM ---------------------------------------------------------------------------------------

data "aws_iam_policy_document" "assume" {
  statement {
    sid     = "LambdaService"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.function_name}-lambda"
  description        = "Execution role of the webhook dispatch Lambda"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "this" {
  statement {
    sid = "ConsumeTheDeliveryQueue"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [var.queue_arn]
  }

  # A delivery waiting for its endpoint's rate limit travels to its slot in a new, delayed
  # message, so that waiting does not count as a receive toward the dead-letter queue.
  statement {
    sid       = "RequeueRateLimitedDeliveries"
    actions   = ["sqs:SendMessage"]
    resources = [var.queue_arn]
  }

  # The Datadog extension reads its API key from the SecureString parameter at start.
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
        values   = ["ssm.${data.aws_region.current.name}.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "kms:EncryptionContext:PARAMETER_ARN"
        values   = [statement.value]
      }
    }
  }

  # SQS encrypts each message's data key under the queue's ARN as encryption context.
  statement {
    sid       = "EncryptAndDecryptMessagesOfThisQueue"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:sqs:arn"
      values   = [var.queue_arn]
    }
  }

  # Lambda encrypts the environment under the function's ARN as encryption context.
  statement {
    sid       = "DecryptOwnEnvironment"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:lambda:FunctionArn"
      values   = [local.function_arn]
    }
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "dispatch"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

# ENI management for the VPC attachment (ec2:CreateNetworkInterface and friends, whose Describe
# actions take no resource scoping) is AWS's managed policy for exactly this purpose.
resource "aws_iam_role_policy_attachment" "vpc_access" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

# X-Ray PutTraceSegments/PutTelemetryRecords support no resource scoping; AWS's managed policy
# grants exactly those.
resource "aws_iam_role_policy_attachment" "xray" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

# --- code signing ------------------------------------------------------------------------------
# release.sh publish/promote signs the release's lambda/<release>/bootstrap.zip with this profile
# into signed/<release>/; the function refuses any zip not signed by it.

resource "aws_signer_signing_profile" "this" {
  name_prefix = substr(replace(var.function_name, "-", "_"), 0, 38)
  platform_id = "AWSLambda-SHA384-ECDSA"

  signature_validity_period {
    value = 5
    type  = "YEARS"
  }

  tags = var.tags
}

resource "aws_lambda_code_signing_config" "this" {
  description = "Only zips signed by ${aws_signer_signing_profile.this.name}"

  allowed_publishers {
    signing_profile_version_arns = [aws_signer_signing_profile.this.version_arn]
  }

  policies {
    untrusted_artifact_on_deployment = "Enforce"
  }
}

# --- function ----------------------------------------------------------------------------------

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:The function is only invoked synchronously by the SQS event source mapping; a function DLQ applies to asynchronous invocations only. Failed messages move to the queue's own DLQ through aws_sqs_queue_redrive_policy (modules/queue).
  function_name                  = var.function_name
  description                    = "Signs and POSTs webhook deliveries (Standard Webhooks) from SQS"
  role                           = aws_iam_role.this.arn
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = var.architectures
  s3_bucket                      = var.artifacts_bucket
  s3_key                         = var.s3_key
  s3_object_version              = var.s3_object_version
  memory_size                    = var.memory_size
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn
  code_signing_config_arn        = aws_lambda_code_signing_config.this.arn
  layers                         = local.datadog_layers

  environment {
    # The secret values go in last: nothing in var.secret_environment can be overridden.
    variables = merge(local.environment, local.datadog_environment, var.secret_environment)
  }

  tracing_config {
    mode = "Active"
  }

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = [aws_security_group.this.id]
  }

  logging_config {
    log_format = "Text" # the binary already writes JSON lines in prod
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tags = var.tags

  depends_on = [
    aws_iam_role_policy.this,
    aws_iam_role_policy_attachment.vpc_access,
    aws_iam_role_policy_attachment.xray,
  ]

  lifecycle {
    # The code is a release's signed zip (signed/<release>/...), and infra/pipeline/release.sh
    # owns it after creation: it moves the function from release to release (and back) in the
    # order the message versions allow, so a later apply must not put back the zip it was
    # created with.
    ignore_changes = [s3_key, s3_object_version]

    precondition {
      condition     = var.timeout_seconds * 1000 > var.webhook_timeout_ms + var.deadline_margin_ms
      error_message = "timeout_seconds must leave room for one full delivery attempt plus the deadline margin (timeout > WEBHOOK_TIMEOUT_MS + DEADLINE_MARGIN_MS)."
    }
  }
}

resource "aws_lambda_event_source_mapping" "sqs" {
  event_source_arn                   = var.queue_arn
  function_name                      = aws_lambda_function.this.arn
  enabled                            = true
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.maximum_concurrency
  }

  lifecycle {
    precondition {
      condition     = var.maximum_concurrency <= var.reserved_concurrency
      error_message = "scaling_config.maximum_concurrency must not exceed the function's reserved concurrency."
    }

    precondition {
      condition     = var.batch_size <= 10 || var.maximum_batching_window_in_seconds >= 1
      error_message = "A batch_size above 10 needs maximum_batching_window_in_seconds of at least 1."
    }
  }
}
