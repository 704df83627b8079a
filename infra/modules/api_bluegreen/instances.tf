# --- security group ----------------------------------------------------------------------------

resource "aws_security_group" "app" {
  name        = "${var.name}-app"
  description = "orders-api instances: the app port from the ALB only; HTTPS and MySQL out"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-app" })
}

resource "aws_vpc_security_group_ingress_rule" "app_from_alb" {
  security_group_id            = aws_security_group.app.id
  description                  = "Requests and health checks from the ALB"
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = aws_security_group.alb.id
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "app_https" {
  security_group_id = aws_security_group.app.id
  description       = "AWS APIs (SQS, S3, Secrets Manager, SSM) and package mirrors over HTTPS"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "app_mysql" {
  security_group_id = aws_security_group.app.id
  description       = "PlanetScale MySQL (TLS) on 3306"
  ip_protocol       = "tcp"
  from_port         = 3306
  to_port           = 3306
  cidr_ipv4         = "0.0.0.0/0"
  tags              = var.tags
}

# --- instances ---------------------------------------------------------------------------------

data "aws_ssm_parameter" "ami" {
  name = var.ami_ssm_parameter
}

locals {
  # Non-secret settings of orders-api. The deploy agent appends the secret's keys (SECRETS_KEY,
  # DSN) and writes the result to /etc/mechanica/orders-api.env, the unit's EnvironmentFile.
  # PORTAL_URL is where portal session links point (the CloudFront portal, modules/portal).
  base_env = join("", [for k, v in merge({
    APP_ENV                = "prod"
    LISTEN                 = ":${var.app_port}"
    QUEUE                  = "sqs"
    SQS_QUEUE_URL          = var.queue_url
    AWS_REGION             = local.region
    SHUTDOWN_DRAIN_SECONDS = tostring(var.shutdown_drain_seconds)
    RUST_LOG               = var.rust_log
  }, var.portal_url == null ? {} : { PORTAL_URL = var.portal_url }) : "${k}=${v}\n"])

  cloud_init_config = {
    for colour, _ in local.colours : colour => {
      users = [
        "default",
        { name = "mechanica", system = true, shell = "/usr/sbin/nologin", homedir = "/var/lib/mechanica" },
      ]
      write_files = concat([
        {
          path        = "/etc/mechanica/agent.conf"
          permissions = "0644"
          content     = "ARTIFACTS_BUCKET=${var.artifacts_bucket}\nSECRET_ID=${var.secret_arn}\nAWS_REGION=${local.region}\nCOLOUR=${colour}\n"
        },
        {
          path        = "/etc/mechanica/orders-api.base.env"
          permissions = "0644"
          content     = local.base_env
        },
        {
          path        = "/usr/local/sbin/mechanica-deploy"
          permissions = "0755"
          encoding    = "b64"
          content     = filebase64("${path.module}/files/mechanica-deploy.sh")
        },
      ], var.datadog == null ? [] : local.datadog_files[colour])
      runcmd = concat([
        ["install", "-d", "-m", "0755", "/opt/mechanica/bin", "/opt/mechanica/releases"],
      ], var.datadog == null ? [] : [["/usr/local/sbin/mechanica-datadog-agent"]])
    }
  }

  # The Datadog agent (with var.datadog set): its settings, which name the API key's SSM
  # parameter (never the key), the installer run once at first boot, and the OpenMetrics check
  # scraping this instance's /metrics (files/datadog/conf.d/openmetrics.d/conf.yaml).
  datadog_conf = var.datadog == null ? "" : "DD_SITE=${var.datadog.site}\nDD_ENV=${var.datadog.env}\nDD_API_KEY_PARAMETER=${var.datadog.api_key_parameter_arn}\nAWS_REGION=${local.region}\n"
  datadog_files = {
    for colour, _ in local.colours : colour => [
      {
        path        = "/etc/mechanica/datadog.conf"
        permissions = "0644"
        encoding    = "b64"
        content     = base64encode("${local.datadog_conf}COLOUR=${colour}\n")
      },
      {
        path        = "/etc/mechanica/datadog/openmetrics.yaml"
        permissions = "0644"
        encoding    = "b64"
        content     = base64encode(templatefile("${path.module}/files/datadog/conf.d/openmetrics.d/conf.yaml", { app_port = var.app_port }))
      },
      {
        path        = "/usr/local/sbin/mechanica-datadog-agent"
        permissions = "0755"
        encoding    = "b64"
        content     = filebase64("${path.module}/files/mechanica-datadog-agent.sh")
      },
    ]
  }

  cloud_init = { for colour, config in local.cloud_init_config : colour => "#cloud-config\n${yamlencode(config)}" }
}

resource "aws_instance" "api" {
  for_each = local.colours

  ami                         = data.aws_ssm_parameter.ami.insecure_value
  instance_type               = var.instance_type
  subnet_id                   = var.private_subnet_ids[each.value]
  vpc_security_group_ids      = [aws_security_group.app.id]
  iam_instance_profile        = aws_iam_instance_profile.api.name
  associate_public_ip_address = false
  monitoring                  = true
  ebs_optimized               = true
  user_data                   = local.cloud_init[each.key]

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    encrypted             = true
    kms_key_id            = var.kms_key_arn
    volume_type           = "gp3"
    volume_size           = var.root_volume_size
    delete_on_termination = true
  }

  tags = merge(var.tags, { Name = "${var.name}-${each.key}", Colour = each.key })

  lifecycle {
    # A new AMI or cloud-init text must not replace a live instance behind the pipeline's back;
    # roll instances deliberately (terraform apply -replace) while their colour is idle.
    ignore_changes = [ami, user_data]
  }
}
