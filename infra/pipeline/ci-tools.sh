#!/usr/bin/env bash
# Installs on a CodeBuild image (aws/codebuild/standard:7.0) what release.sh and the test command
# need and the image lacks: Rust 1.95 with rustfmt and clippy, cargo-lambda (with zig) and
# Terraform 1.10. The AWS CLI, jq, curl, git and Python 3 come with the image.
set -euo pipefail

readonly TERRAFORM_VERSION=1.10.5

curl -fsSL https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain 1.95 \
  --component rustfmt,clippy
# shellcheck source=/dev/null
. "$HOME/.cargo/env"
pip3 install --quiet cargo-lambda
curl -fsSL -o /tmp/terraform.zip \
  "https://releases.hashicorp.com/terraform/${TERRAFORM_VERSION}/terraform_${TERRAFORM_VERSION}_linux_amd64.zip"
unzip -o -q /tmp/terraform.zip -d /usr/local/bin
terraform version
