output "alb_dns_name" {
  description = "DNS name of the ALB (point the API's DNS record at it)."
  value       = aws_lb.this.dns_name
}

output "alb_zone_id" {
  description = "Hosted zone of the ALB, for an alias record."
  value       = aws_lb.this.zone_id
}

output "https_listener_arn" {
  description = "ARN of the HTTPS listener whose weights bluegreen.sh shifts."
  value       = aws_lb_listener.https.arn
}

output "target_group_arns" {
  description = "Target group ARN per colour."
  value       = { for colour, tg in aws_lb_target_group.colour : colour => tg.arn }
}

output "instance_ids" {
  description = "Instance id per colour."
  value       = { for colour, instance in aws_instance.api : colour => instance.id }
}

output "instance_role_arn" {
  description = "ARN of the instances' role."
  value       = aws_iam_role.api.arn
}

output "bluegreen_env" {
  description = "Environment for infra/pipeline/bluegreen.sh."
  value = {
    AWS_REGION           = local.region
    BG_LISTENER_ARN      = aws_lb_listener.https.arn
    BG_BLUE_TG_ARN       = aws_lb_target_group.colour["blue"].arn
    BG_GREEN_TG_ARN      = aws_lb_target_group.colour["green"].arn
    BG_BLUE_INSTANCE_ID  = aws_instance.api["blue"].id
    BG_GREEN_INSTANCE_ID = aws_instance.api["green"].id
  }
}
