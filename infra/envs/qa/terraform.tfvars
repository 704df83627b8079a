# QA: the CodeBuild QA pipeline's database is the PlanetScale `dev` branch
# (TF_VAR_database_dsn carries its connection string).
region                      = "eu-west-1"
vpc_name                    = "mechanica-qa"
api_domain_name             = "api.qa.mechanica-logistics.com"
portal_domain_name          = "portal.qa.mechanica-logistics.com"
portal_frame_ancestors      = "'none'"
lambda_architectures        = ["arm64"]
lambda_reserved_concurrency = 5
lambda_maximum_concurrency  = 2
instance_type               = "t3.small"
alarm_emails                = []
datadog_site                = "datadoghq.eu"
datadog_notify              = "@ops@mechanica-logistics.com"
