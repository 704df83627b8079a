# --- security groups ---------------------------------------------------------------------------

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "orders-api ALB: HTTPS (and the HTTP redirect) in, the app port to the instances out"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-alb" })
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  for_each          = toset(var.ingress_cidrs)
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from clients"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
  tags              = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "alb_http_redirect" {
  #checkov:skip=CKV_AWS_260:Port 80 only reaches the listener that answers 301 to HTTPS (aws_lb_listener.http_redirect); no request is forwarded to the application over plain HTTP.
  for_each          = toset(var.ingress_cidrs)
  security_group_id = aws_security_group.alb.id
  description       = "HTTP from clients, answered with a redirect to HTTPS"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = each.value
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "alb_to_app" {
  security_group_id            = aws_security_group.alb.id
  description                  = "Requests and health checks to orders-api"
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = aws_security_group.app.id
  tags                         = var.tags
}

# --- load balancer -----------------------------------------------------------------------------

resource "aws_lb" "this" {
  name                       = var.name
  internal                   = false
  load_balancer_type         = "application"
  security_groups            = [aws_security_group.alb.id]
  subnets                    = var.public_subnet_ids
  drop_invalid_header_fields = true
  desync_mitigation_mode     = "strictest"
  enable_deletion_protection = var.deletion_protection
  enable_http2               = true
  idle_timeout               = 60

  access_logs {
    bucket  = var.access_logs_bucket
    prefix  = "alb/${var.name}"
    enabled = true
  }

  tags = var.tags
}

resource "aws_lb_target_group" "colour" {
  #checkov:skip=CKV_AWS_378:TLS terminates at the ALB; the targets sit in private subnets, accept traffic only from the ALB's security group, and orders-api serves plain HTTP on the app port.
  for_each = local.colours

  name                 = "${var.name}-${each.key}"
  port                 = var.app_port
  protocol             = "HTTP"
  protocol_version     = "HTTP1"
  target_type          = "instance"
  vpc_id               = var.vpc_id
  deregistration_delay = var.deregistration_delay_seconds

  health_check {
    enabled             = true
    path                = "/readyz" # 503 while draining after SIGTERM, and while the database is unreachable
    port                = "traffic-port"
    protocol            = "HTTP"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  tags = merge(var.tags, { Colour = each.key })

  lifecycle {
    precondition {
      condition     = var.deregistration_delay_seconds > var.shutdown_drain_seconds
      error_message = "deregistration_delay_seconds must exceed the app's SHUTDOWN_DRAIN_SECONDS."
    }
  }
}

resource "aws_lb_target_group_attachment" "colour" {
  for_each = local.colours

  target_group_arn = aws_lb_target_group.colour[each.key].arn
  target_id        = aws_instance.api[each.key].id
  port             = var.app_port
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type = "forward"

    forward {
      target_group {
        arn    = aws_lb_target_group.colour["blue"].arn
        weight = var.blue_weight
      }

      target_group {
        arn    = aws_lb_target_group.colour["green"].arn
        weight = var.green_weight
      }

      stickiness {
        enabled  = false
        duration = 1
      }
    }
  }

  tags = var.tags

  lifecycle {
    # ONE OWNER OF THE WEIGHTS: infra/pipeline/bluegreen.sh. It shifts traffic with
    # `aws elbv2 modify-listener` during every release and rollback, so the live weights change
    # outside Terraform. Terraform sets blue_weight/green_weight once, when it creates the
    # listener, and ignores default_action from then on; otherwise the next apply would move all
    # traffic back to whichever colour the variables name. To change this action's shape (a new
    # target group), run `terraform apply -replace=<this listener's address>` in a quiet moment
    # and then `bluegreen.sh status`.
    ignore_changes = [default_action]

    precondition {
      condition     = var.blue_weight + var.green_weight == 100
      error_message = "blue_weight + green_weight must be 100."
    }
  }
}

resource "aws_lb_listener" "http_redirect" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }

  tags = var.tags
}
