# Two buckets:
# - artifacts: every release (infra/pipeline/release.sh): orders-api/<release>/orders-api.tar.gz
#   (+ .sha256), lambda/<release>/bootstrap.zip (signed copies under signed/<release>/),
#   portal/<release>/portal.tar.gz, and the records under releases/ (manifest, promotion, what is
#   live). Versioned (AWS Signer requires it), SSE-KMS, private, logged.
# - logs: the ALB's access logs (alb/) and the artifacts bucket's server access logs (s3/).
# With release_reader_principals, a role those principals (the next environment's pipeline, in
# its own account) may assume to read the releases (and list the bucket's key names), and
# nothing else, for release.sh resolve and promote.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_elb_service_account" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
}

# --- logs bucket -------------------------------------------------------------------------------

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_18:This is the access-log target bucket itself; logging it into itself would log its own log deliveries without end.
  #checkov:skip=CKV_AWS_145:ALB access logs and S3 server access logs can only be delivered to a bucket whose default encryption is SSE-S3 (AES256); SSE-KMS is not supported for either delivery.
  #checkov:skip=CKV_AWS_144:Access logs are operational data kept for a bounded time; a second region's copy adds cost without a recovery need.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of log objects; they are read on demand (Athena, console).
  bucket = "${var.name_prefix}-logs-${local.account_id}"
  tags   = var.tags
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256" # the only encryption ALB and S3 log delivery support
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "expire-logs"
    status = "Enabled"
    filter {}

    expiration {
      days = var.log_expiration_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.logs]
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "AlbAccessLogDeliveryLegacyRegions"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/alb/*"]

    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.current.arn]
    }
  }

  statement {
    sid       = "AlbAccessLogDelivery"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/alb/*"]

    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }

  statement {
    sid       = "S3ServerAccessLogDelivery"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/s3/*"]

    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket     = aws_s3_bucket.logs.id
  policy     = data.aws_iam_policy_document.logs.json
  depends_on = [aws_s3_bucket_public_access_block.logs]
}

# --- artifacts bucket --------------------------------------------------------------------------

resource "aws_s3_bucket" "artifacts" {
  #checkov:skip=CKV_AWS_144:Releases are built once and kept versioned; production's are copies of QA's (another account's bucket), and a release lost in both is built again from its commit as new bytes that pass QA again, so a replica adds little.
  #checkov:skip=CKV2_AWS_62:No process reacts to artifact uploads; the pipeline that uploads them drives the next step itself.
  bucket = "${var.name_prefix}-artifacts-${local.account_id}"
  tags   = var.tags
}

resource "aws_s3_bucket_ownership_controls" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket                  = aws_s3_bucket.artifacts.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "artifacts" {
  bucket        = aws_s3_bucket.artifacts.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "s3/artifacts/"
}

resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    id     = "expire-replaced-versions"
    status = "Enabled"
    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.artifacts]
}

data "aws_iam_policy_document" "artifacts" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.artifacts.arn, "${aws_s3_bucket.artifacts.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "artifacts" {
  bucket     = aws_s3_bucket.artifacts.id
  policy     = data.aws_iam_policy_document.artifacts.json
  depends_on = [aws_s3_bucket_public_access_block.artifacts]
}

# --- release reader ----------------------------------------------------------------------------

locals {
  release_prefixes = ["orders-api", "lambda", "portal", "releases"]
}

data "aws_iam_policy_document" "release_reader_assume" {
  count = length(var.release_reader_principals) > 0 ? 1 : 0

  statement {
    sid     = "NextEnvironmentPipeline"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = var.release_reader_principals
    }
  }
}

resource "aws_iam_role" "release_reader" {
  count                = length(var.release_reader_principals) > 0 ? 1 : 0
  name                 = "${var.name_prefix}-release-reader"
  description          = "Reads releases from the artifacts bucket, for promotion to the next environment"
  assume_role_policy   = data.aws_iam_policy_document.release_reader_assume[0].json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "release_reader" {
  statement {
    sid       = "ReadReleases"
    actions   = ["s3:GetObject"]
    resources = [for prefix in local.release_prefixes : "${aws_s3_bucket.artifacts.arn}/${prefix}/*"]
  }

  # With ListBucket a missing object answers 404, not 403: release.sh tells "no rejection record"
  # (releases/<release>/rejected-<env>.json) from "denied", and refuses on anything but a 404.
  # It lists key names only; the objects it may read are the ones above.
  statement {
    sid       = "ListReleases"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.artifacts.arn]
  }

  # SSE-KMS objects: decrypt through S3 only, for this bucket only (the key policy delegates to
  # IAM).
  statement {
    sid       = "DecryptReleaseObjects"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${data.aws_region.current.name}.amazonaws.com"]
    }

    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:s3:arn"
      values   = [aws_s3_bucket.artifacts.arn, "${aws_s3_bucket.artifacts.arn}/*"]
    }
  }
}

resource "aws_iam_role_policy" "release_reader" {
  count  = length(var.release_reader_principals) > 0 ? 1 : 0
  name   = "read-releases"
  role   = aws_iam_role.release_reader[0].id
  policy = data.aws_iam_policy_document.release_reader.json
}
