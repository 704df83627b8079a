#!/usr/bin/env bash
# Tests of infra/pipeline/bluegreen.sh without AWS:
# - dry runs of deploy, rollback and status, compared line by line with bluegreen/expected/*;
# - refusals (bad version, bad steps, split traffic, missing configuration) exit non-zero and
#   never reach modify-listener;
# - the same deploy and rollback against a stub `aws` (bluegreen/stub/aws), which must receive
#   exactly the calls the dry run printed, and a failing health check midway through a shift,
#   which must put all traffic back on the old colour.
# Prints "N passed, N failed" and exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
script="$here/../pipeline/bluegreen.sh"
expected="$here/bluegreen/expected"
# A refusal comes before any weight change.
refused_before='modify-listener'
refused_before_what='a weight change'
# shellcheck source=infra/tests/lib.sh
. "$here/lib.sh"

# The fixture: what Terraform's bluegreen_env output gives the pipeline.
export AWS_REGION=eu-west-1
export BG_LISTENER_ARN=arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/app/mechanica-prod-api/50dc6c495c0c9188/f2f7dc8efc522ab2
export BG_BLUE_TG_ARN=arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/mechanica-prod-api-blue/6d0ecf831eec9f09
export BG_GREEN_TG_ARN=arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/mechanica-prod-api-green/2c2b4aa3e0c5d2a1
export BG_BLUE_INSTANCE_ID=i-0b1ue000000000001
export BG_GREEN_INSTANCE_ID=i-0green00000000002
unset BG_STEPS BG_STEP_WAIT_SECONDS BG_DRAIN_SECONDS BG_CURRENT BG_APP_PORT

# --- dry runs ----------------------------------------------------------------------------------

expect_output "deploy, blue live, steps 10,50,100: installs on green, shifts, stops blue" \
  "$expected/deploy-blue-live-steps.txt" -- --dry-run --current blue --steps 10,50,100 deploy 1.4.0-abc123

expect_output "deploy, green live, one step, configuration from flags" \
  "$expected/deploy-green-live-flags.txt" -- --dry-run --current green \
  --region eu-central-1 --listener-arn arn:listener --blue-tg arn:tg-blue --green-tg arn:tg-green \
  --blue-instance i-blue --green-instance i-green --drain 45 deploy v2

expect_output "rollback, green live: starts blue, all traffic to blue, stops green" \
  "$expected/rollback-green-live.txt" -- --dry-run --current green rollback

expect_output "status, blue live" "$expected/status-blue-live.txt" -- --dry-run --current blue status

# --- refusals ----------------------------------------------------------------------------------

expect_refusal "refuses a version with shell characters" "invalid artifact version" \
  -- --dry-run --current blue deploy '1.0;reboot'
expect_refusal "refuses steps that do not end at 100" "must end at 100" \
  -- --dry-run --current blue --steps 10,50 deploy v1
expect_refusal "refuses decreasing steps" "must increase" \
  -- --dry-run --current blue --steps 50,10,100 deploy v1
expect_refusal "refuses a dry run without --current" "needs --current" -- --dry-run deploy v1
BG_LISTENER_ARN='' expect_refusal "refuses a missing listener" "missing configuration: LISTENER_ARN" \
  -- --dry-run --current blue deploy v1
expect_refusal "refuses an unknown command" "unknown command" -- --dry-run --current blue promote
expect_refusal "refuses deploy without a version" "usage" -- --dry-run --current blue deploy

# --- against a stub aws ------------------------------------------------------------------------

stub_state="$work/state"
mkdir -p "$stub_state"
export STUB_STATE="$stub_state" STUB_LOG="$work/calls"
stub_path="$here/bluegreen/stub:$PATH"

set_stub() { # <blue weight> <green weight> <health>
  printf '%s\t%s\n%s\t%s\n' "$BG_BLUE_TG_ARN" "$1" "$BG_GREEN_TG_ARN" "$2" >"$stub_state/weights"
  printf '%s\n' "$3" >"$stub_state/health"
  printf '0\n' >"$stub_state/drain"
  : >"$STUB_LOG"
}

# The dry run's lines, minus its sleeps, with the stub's command id: what the stub must receive.
dry_run_as_calls() {
  sed -e '/^DRY-RUN: sleep /d' -e 's/^DRY-RUN: //' -e "s/'<command-id>'/cmd-0001/" "$1"
}

# stub_run <name> <expected dry-run file> <expected final weights> -- <args...>
stub_run() {
  local name=$1 dry=$2 weights=$3
  shift 4
  if ! PATH="$stub_path" BG_STEP_WAIT_SECONDS=0 run_script "$@"; then
    fail "$name: exited non-zero"
    sed 's/^/    /' "$work/err"
  elif ! diff -u <(dry_run_as_calls "$dry") "$STUB_LOG" >"$work/diff"; then
    fail "$name: the calls differ from the dry run"
    sed 's/^/    /' "$work/diff"
  elif [ "$(cut -f2 "$stub_state/weights" | paste -sd' ')" != "$weights" ]; then
    fail "$name: final weights $(cut -f2 "$stub_state/weights" | paste -sd' '), expected $weights"
  else
    pass "$name"
  fi
}

set_stub 100 0 healthy
stub_run "stub: deploy makes exactly the dry run's calls and ends on green" \
  "$expected/deploy-blue-live-steps.txt" "0 100" -- --steps 10,50,100 deploy 1.4.0-abc123

set_stub 0 100 healthy
stub_run "stub: rollback makes exactly the dry run's calls and ends on blue" \
  "$expected/rollback-green-live.txt" "100 0" -- rollback

set_stub 100 0 unhealthy
if PATH="$stub_path" BG_STEP_WAIT_SECONDS=0 run_script --steps 10,50,100 deploy 1.4.1; then
  fail "stub: an unhealthy new colour midway fails the deploy (exited 0)"
elif [ "$(cut -f2 "$stub_state/weights" | paste -sd' ')" != "100 0" ]; then
  fail "stub: an unhealthy new colour midway puts traffic back on blue (weights: $(cut -f2 "$stub_state/weights" | paste -sd' '))"
elif grep -q 'mechanica-deploy stop' "$STUB_LOG"; then
  fail "stub: an unhealthy new colour midway must not stop the old colour"
else
  pass "stub: an unhealthy new colour at 10% fails the deploy and restores blue=100 green=0"
fi

set_stub 50 50 healthy
if PATH="$stub_path" run_script deploy 1.4.2; then
  fail "stub: deploy refuses split traffic (exited 0)"
elif ! grep -qF 'traffic is split (blue=50 green=50)' "$work/err"; then
  fail "stub: deploy refuses split traffic (stderr: $(cat "$work/err"))"
elif grep -q 'send-command' "$STUB_LOG"; then
  fail "stub: deploy refuses split traffic before touching an instance"
else
  pass "stub: deploy refuses split traffic before touching an instance"
fi

summary
