# terraform -chdir=infra/envs/qa init -backend-config=backend.hcl
bucket       = "mechanica-qa-terraform-state"
key          = "envs/qa/terraform.tfstate"
region       = "eu-west-1"
encrypt      = true
use_lockfile = true
