# The application secret: one JSON object whose keys are the environment variables the binaries
# read, {"SECRETS_KEY": "<base64 of 32 bytes>", "DSN": "<database connection string>"}.
#
# - SECRETS_KEY, the AEAD master key sealing webhook signing secrets, is generated here once and
#   never changes with a plan (random_bytes keeps its value in state; the state bucket is
#   KMS-encrypted and access-restricted).
# - DSN comes from the CI secret store (TF_VAR_database_dsn).
#
# Consumers: the API instances read the secret at deploy time (the deploy agent renders
# /etc/mechanica/orders-api.env from it); the dispatch Lambda receives both values in its
# environment, encrypted with the same customer managed key (see modules/dispatch_lambda).

resource "random_bytes" "secrets_key" {
  length = 32
}

resource "aws_secretsmanager_secret" "this" {
  #checkov:skip=CKV2_AWS_57:No rotation Lambda can rotate these values: SECRETS_KEY is the AEAD master key whose change needs an application-level re-encryption of stored signing secrets, and the database password is issued by PlanetScale, not by AWS.
  name                    = var.name
  description             = "orders-api and webhook-dispatch: SECRETS_KEY (AEAD master key) and DSN (PlanetScale connection string)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "this" {
  secret_id = aws_secretsmanager_secret.this.id
  secret_string = jsonencode({
    SECRETS_KEY = random_bytes.secrets_key.base64
    DSN         = var.database_dsn
  })
}
