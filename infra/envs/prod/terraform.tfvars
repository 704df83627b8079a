# Production: the database is the PlanetScale `main` branch (safe migrations on; schema changes
# arrive only by deploy request). TF_VAR_database_dsn carries its connection string.
region                      = "eu-west-1"
vpc_name                    = "mechanica-prod"
api_domain_name             = "api.mechanica-logistics.com"
portal_domain_name          = "portal.mechanica-logistics.com"
portal_frame_ancestors      = "'none'"
lambda_architectures        = ["arm64"]
lambda_reserved_concurrency = 20
lambda_maximum_concurrency  = 10
instance_type               = "t3.medium"
alarm_emails                = ["ops@mechanica-logistics.com"]
datadog_site                = "datadoghq.eu"
datadog_notify              = "@ops@mechanica-logistics.com"
