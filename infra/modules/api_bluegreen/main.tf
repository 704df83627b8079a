# orders-api on two EC2 instances, blue and green, behind one internet-facing ALB.
#
# One colour is live (weight 100), the other idle. infra/pipeline/bluegreen.sh installs a
# release on the idle colour through SSM Run Command (the deploy agent, files/mechanica-deploy.sh,
# installed here by cloud-init), waits until its target group reports it healthy on /readyz,
# shifts the HTTPS listener's weights to it, waits the deregistration delay and stops the old
# colour.

data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  colours = {
    blue  = 0
    green = 1
  }

  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition
}
