# The customer portal: a single-page app (web/, built with base path /portal/) in a private S3
# bucket, served by CloudFront together with the API, so the browser sees one origin and needs
# no CORS:
#   /v1/*, /openapi.json   the API (custom origin: its HTTPS listener), never cached
#   everything else        the bucket through origin access control; a viewer-request function
#                          answers the app's client-side routes with /portal/index.html
# Caching follows each object's Cache-Control, which infra/pipeline/publish-portal.sh sets at
# upload: hashed assets (/portal/assets/*) "public, max-age=31536000, immutable", every other
# file (index.html first of all) "no-cache". The static cache policy's minimum TTL is 0, so
# CloudFront honours no-cache and a new index.html is served on the next load.
#
# Both buckets use the environment's key (SSE-KMS); the key policy (modules/kms) lets this
# distribution decrypt the content bucket and CloudFront's log delivery encrypt into the log
# bucket.

data "aws_caller_identity" "current" {}
data "aws_canonical_user_id" "current" {}

data "aws_cloudfront_cache_policy" "caching_disabled" {
  name = "Managed-CachingDisabled"
}

data "aws_cloudfront_origin_request_policy" "all_viewer_except_host" {
  name = "Managed-AllViewerExceptHostHeader"
}

locals {
  account_id = data.aws_caller_identity.current.account_id

  portal_origin = "portal-bucket"
  api_origin    = "api"

  # Paths CloudFront forwards to the API, in this order of precedence.
  api_paths = ["/v1/*", "/openapi.json"]

  # The canonical user of CloudFront's standard log delivery (the awslogsdelivery account).
  cloudfront_log_delivery_canonical_id = "c4c1ede66af53448b93c283ce9448c4ba468c9432aa01d700d3878632f77d2d0"

  content_security_policy = join("; ", [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors ${var.frame_ancestors}",
  ])
}

# --- CloudFront log bucket ---------------------------------------------------------------------
# CloudFront standard logs are delivered through a bucket ACL grant to the awslogsdelivery
# account, so this bucket keeps ACLs enabled (BucketOwnerPreferred). The environment's other
# log bucket (modules/artifacts) enforces bucket-owner ownership with ACLs disabled, which
# CloudFront cannot deliver to.

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_144:CloudFront access logs are operational data kept for a bounded time; a second region's copy adds cost without a recovery need.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of log objects; they are read on demand (Athena, console).
  bucket = "${var.name_prefix}-portal-logs-${local.account_id}"
  tags   = var.tags
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  #checkov:skip=CKV2_AWS_65:CloudFront standard logging delivers only through a bucket ACL grant to the awslogsdelivery account, so this bucket must keep ACLs enabled.
  bucket = aws_s3_bucket.logs.id
  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_acl" "logs" {
  bucket = aws_s3_bucket.logs.id

  access_control_policy {
    owner {
      id = data.aws_canonical_user_id.current.id
    }

    grant {
      permission = "FULL_CONTROL"
      grantee {
        type = "CanonicalUser"
        id   = data.aws_canonical_user_id.current.id
      }
    }

    grant {
      permission = "FULL_CONTROL"
      grantee {
        type = "CanonicalUser"
        id   = local.cloudfront_log_delivery_canonical_id
      }
    }
  }

  depends_on = [aws_s3_bucket_ownership_controls.logs]
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
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "logs" {
  bucket        = aws_s3_bucket.logs.id
  target_bucket = var.access_logs_bucket
  target_prefix = "s3/portal-logs/"
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

# --- content bucket ----------------------------------------------------------------------------

resource "aws_s3_bucket" "content" {
  #checkov:skip=CKV_AWS_144:The portal's files are a copy of a release's bundle, kept in the versioned artifacts bucket; publishing that release again restores them, so a cross-region replica adds nothing.
  #checkov:skip=CKV2_AWS_62:No process reacts to portal uploads; the pipeline that uploads them invalidates CloudFront itself.
  bucket = "${var.name_prefix}-portal-${local.account_id}"
  tags   = var.tags
}

resource "aws_s3_bucket_ownership_controls" "content" {
  bucket = aws_s3_bucket.content.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "content" {
  bucket                  = aws_s3_bucket.content.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "content" {
  bucket = aws_s3_bucket.content.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "content" {
  bucket = aws_s3_bucket.content.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "content" {
  bucket        = aws_s3_bucket.content.id
  target_bucket = var.access_logs_bucket
  target_prefix = "s3/portal/"
}

resource "aws_s3_bucket_lifecycle_configuration" "content" {
  bucket = aws_s3_bucket.content.id

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

  depends_on = [aws_s3_bucket_versioning.content]
}

# Only this distribution reads the bucket (origin access control signs its requests); the
# pipeline writes through its own IAM permissions.
data "aws_iam_policy_document" "content" {
  statement {
    sid       = "CloudFrontReadsThePortal"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.content.arn}/portal/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.this.arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.content.arn, "${aws_s3_bucket.content.arn}/*"]

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

resource "aws_s3_bucket_policy" "content" {
  bucket     = aws_s3_bucket.content.id
  policy     = data.aws_iam_policy_document.content.json
  depends_on = [aws_s3_bucket_public_access_block.content]
}

# --- CloudFront --------------------------------------------------------------------------------

resource "aws_cloudfront_origin_access_control" "content" {
  name                              = "${var.name_prefix}-portal"
  description                       = "CloudFront reads the portal bucket with SigV4-signed requests"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_function" "viewer_request" {
  name    = "${var.name_prefix}-portal-viewer-request"
  runtime = "cloudfront-js-2.0"
  comment = "Portal: client-side routes -> /portal/index.html; / -> /portal/"
  publish = true
  code    = file("${path.module}/files/viewer-request.js")
}

# The portal's files: cached as their Cache-Control says (minimum TTL 0, so no-cache holds);
# a file uploaded without one is not cached at all. Nothing of the viewer's request is part of
# the key or forwarded to S3 but the path and the compression it accepts.
resource "aws_cloudfront_cache_policy" "static" {
  name        = "${var.name_prefix}-portal-static"
  comment     = "Portal files: TTL from the object's Cache-Control"
  min_ttl     = 0
  default_ttl = 0
  max_ttl     = 31536000

  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_brotli = true
    enable_accept_encoding_gzip   = true

    cookies_config {
      cookie_behavior = "none"
    }
    headers_config {
      header_behavior = "none"
    }
    query_strings_config {
      query_string_behavior = "none"
    }
  }
}

# On every response, the portal's and the API's alike. X-Frame-Options cannot name allowed
# framers, so it is sent (DENY) only when frame-ancestors forbids framing altogether.
resource "aws_cloudfront_response_headers_policy" "security" {
  name    = "${var.name_prefix}-portal-security-headers"
  comment = "Portal: HSTS, nosniff, referrer policy, CSP"

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 63072000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }

    content_type_options {
      override = true
    }

    dynamic "frame_options" {
      for_each = var.frame_ancestors == "'none'" ? [1] : []
      content {
        frame_option = "DENY"
        override     = true
      }
    }

    referrer_policy {
      referrer_policy = "no-referrer"
      override        = true
    }

    content_security_policy {
      content_security_policy = local.content_security_policy
      override                = true
    }
  }
}

resource "aws_cloudfront_distribution" "this" {
  #checkov:skip=CKV2_AWS_47:Requests forwarded to the API pass the ALB's web ACL (api_bluegreen/waf.tf), which runs AWSManagedRulesKnownBadInputsRuleSet (Log4j included); every other path is a static file from S3. A CLOUDFRONT-scope ACL attaches through web_acl_arn.
  #checkov:skip=CKV_AWS_310:There is no second origin to fail over to: the API is one ALB whose blue/green pair is its redundancy, and the portal's files live in one bucket the pipeline re-publishes from a release's bundle.
  #checkov:skip=CKV_AWS_305:The portal lives under /portal/ and the viewer-request function redirects / there; the root of the distribution has no object to serve.
  #checkov:skip=CKV_AWS_374:Customers use the portal from any country, as they call the API from anywhere; a geo allow- or block-list would only lock customers out.
  comment             = "${var.name_prefix} customer portal (/portal/) and its API (/v1/*)"
  enabled             = true
  is_ipv6_enabled     = true
  http_version        = "http2and3"
  price_class         = var.price_class
  aliases             = var.aliases
  web_acl_id          = var.web_acl_arn
  wait_for_deployment = true

  origin {
    origin_id                = local.portal_origin
    domain_name              = aws_s3_bucket.content.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.content.id
  }

  # CloudFront checks the origin's certificate against this name, so it is the API's own
  # domain (covered by the listener's certificate), not the ALB's generated DNS name.
  origin {
    origin_id   = local.api_origin
    domain_name = var.api_origin_domain_name

    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
    }
  }

  default_cache_behavior {
    target_origin_id           = local.portal_origin
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = aws_cloudfront_cache_policy.static.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id

    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.viewer_request.arn
    }
  }

  # The API: every method, nothing cached, every viewer header but Host (CloudFront sends the
  # origin's name, which the listener's certificate covers), cookies and query strings.
  dynamic "ordered_cache_behavior" {
    for_each = local.api_paths
    content {
      path_pattern               = ordered_cache_behavior.value
      target_origin_id           = local.api_origin
      viewer_protocol_policy     = "redirect-to-https"
      allowed_methods            = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
      cached_methods             = ["GET", "HEAD"]
      compress                   = true
      cache_policy_id            = data.aws_cloudfront_cache_policy.caching_disabled.id
      origin_request_policy_id   = data.aws_cloudfront_origin_request_policy.all_viewer_except_host.id
      response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn      = var.certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }

  logging_config {
    bucket          = aws_s3_bucket.logs.bucket_domain_name
    prefix          = "cloudfront/"
    include_cookies = false
  }

  tags = var.tags

  # CloudFront refuses a log bucket whose ACL does not let it deliver.
  depends_on = [aws_s3_bucket_acl.logs]
}
