output "bucket" {
  description = "Name of the bucket holding the portal's files (under portal/)."
  value       = aws_s3_bucket.content.id
}

output "bucket_arn" {
  description = "ARN of the portal bucket."
  value       = aws_s3_bucket.content.arn
}

output "log_bucket_arn" {
  description = "ARN of the bucket receiving CloudFront's access logs."
  value       = aws_s3_bucket.logs.arn
}

output "distribution_id" {
  description = "Id of the CloudFront distribution (for invalidations)."
  value       = aws_cloudfront_distribution.this.id
}

output "distribution_arn" {
  description = "ARN of the CloudFront distribution."
  value       = aws_cloudfront_distribution.this.arn
}

output "distribution_domain_name" {
  description = "Domain name of the distribution (point the aliases' DNS records at it)."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "distribution_hosted_zone_id" {
  description = "Hosted zone of the distribution, for alias records."
  value       = aws_cloudfront_distribution.this.hosted_zone_id
}

output "portal_url" {
  description = "Address of the portal."
  value       = "https://${var.aliases[0]}/portal/"
}
