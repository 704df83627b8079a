terraform {
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
  }

  # Partial configuration: `terraform init -backend-config=backend.hcl`. The Jenkins test stage
  # works in the `test` workspace and destroys it when the stage ends.
  backend "s3" {}
}
