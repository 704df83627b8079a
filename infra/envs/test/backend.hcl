# terraform -chdir=infra/envs/test init -backend-config=backend.hcl
# State of workspace `test` lands at workspaces/test/envs/test/terraform.tfstate.
bucket               = "mechanica-test-terraform-state"
key                  = "envs/test/terraform.tfstate"
workspace_key_prefix = "workspaces"
region               = "eu-west-1"
encrypt              = true
use_lockfile         = true
