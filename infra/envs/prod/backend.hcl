# terraform -chdir=infra/envs/prod init -backend-config=backend.hcl
bucket       = "mechanica-prod-terraform-state"
key          = "envs/prod/terraform.tfstate"
region       = "eu-west-1"
encrypt      = true
use_lockfile = true
