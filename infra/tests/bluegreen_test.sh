#!/usr/bin/env bash
# Tests of infra/pipeline/bluegreen.sh without AWS:
# - dry runs of deploy, rollback and status, compared line by line with bluegreen/expected/*;
# - refusals (bad release, bad steps, split traffic, missing configuration) exit non-zero and
#   never reach modify-listener;
# - the same deploy and rollback against a stub `aws` (stub/aws), which must receive exactly the
#   calls the dry run printed, and a failing health check midway through a shift, which must
#   put all traffic back on the old colour and stop the idle one;
# - rollback installs the release it is given where the other colour has another one (a failed
#   release, none on a replaced instance) and only starts it where it has that release;
# - once all traffic is on the new colour, a deregistration delay that cannot be read or an old
#   colour that does not stop are warnings: the deploy (and the rollback) exits 0;
# - promotion, against the stub's S3: production installs only a release whose promoted.json
#   names QA and the manifest whose tarball the agent will check; a release QA never ran, one
#   never published, one whose tarball is not the manifest's and one whose record promotes
#   another manifest are refused before any instance is touched.
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
export BG_ARTIFACTS_BUCKET=mechanica-prod-artifacts-111122223333
unset BG_STEPS BG_STEP_WAIT_SECONDS BG_DRAIN_SECONDS BG_CURRENT BG_APP_PORT BG_PROMOTED_FROM

# --- dry runs ----------------------------------------------------------------------------------

expect_output "deploy, blue live, steps 10,50,100: installs on green, shifts, stops blue" \
  "$expected/deploy-blue-live-steps.txt" -- --dry-run --current blue --steps 10,50,100 deploy 1.4.0-abc123

expect_output "deploy, green live, one step, configuration from flags" \
  "$expected/deploy-green-live-flags.txt" -- --dry-run --current green \
  --region eu-central-1 --listener-arn arn:listener --blue-tg arn:tg-blue --green-tg arn:tg-green \
  --blue-instance i-blue --green-instance i-green --drain 45 deploy v2

expect_output "rollback, green live: asks blue's agent, installs the release there, all traffic to blue, stops green" \
  "$expected/rollback-green-live.txt" -- --dry-run --current green rollback 1.4.0-abc123

expect_output "status, blue live" "$expected/status-blue-live.txt" -- --dry-run --current blue status

BG_PROMOTED_FROM=qa expect_output "deploy in production: reads the manifest, the tarball's SHA-256 and the promotion first" \
  "$expected/deploy-promoted.txt" -- --dry-run --current blue deploy 3f9a1c2b4d5e

# --- refusals ----------------------------------------------------------------------------------

expect_refusal "refuses a release with shell characters" "invalid release" \
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
expect_refusal "refuses rollback without the release to go back to" "rollback <release>" \
  -- --dry-run --current blue rollback
expect_refusal "refuses rollback to a release with shell characters" "invalid release" \
  -- --dry-run --current blue rollback '1.0;reboot'
BG_ARTIFACTS_BUCKET='' expect_refusal "refuses deploy without the artifacts bucket" \
  "missing configuration: ARTIFACTS_BUCKET" -- --dry-run --current blue deploy v1

# --- against a stub aws ------------------------------------------------------------------------

stub_state="$work/state"
mkdir -p "$stub_state"
export STUB_STATE="$stub_state" STUB_LOG="$work/calls"
stub_path="$here/stub:$PATH"
bucket_dir="$stub_state/s3/$BG_ARTIFACTS_BUCKET"

# publish_release <release> [promoted-from]: the objects release.sh publish (or promote) writes.
publish_release() {
  local release=$1 dir="$bucket_dir/orders-api/$1" tarball_sha manifest_sha
  mkdir -p "$dir" "$bucket_dir/releases/$release"
  printf 'tarball of %s\n' "$release" >"$dir/orders-api.tar.gz"
  tarball_sha=$(sha256sum "$dir/orders-api.tar.gz" | cut -d' ' -f1)
  printf '%s  orders-api.tar.gz\n' "$tarball_sha" >"$dir/orders-api.tar.gz.sha256"
  printf '{"release":"%s","artifacts":{"orders-api.tar.gz":"%s"}}\n' "$release" "$tarball_sha" \
    >"$bucket_dir/releases/$release/manifest.json"
  if [ -n "${2:-}" ]; then
    manifest_sha=$(sha256sum "$bucket_dir/releases/$release/manifest.json" | cut -d' ' -f1)
    printf '{"release":"%s","from":"%s","to":"prod","manifest_sha256":"%s"}\n' \
      "$release" "$2" "$manifest_sha" >"$bucket_dir/releases/$release/promoted.json"
  fi
}

set_stub() { # <blue weight> <green weight> <health>
  printf '%s\t%s\n%s\t%s\n' "$BG_BLUE_TG_ARN" "$1" "$BG_GREEN_TG_ARN" "$2" >"$stub_state/weights"
  printf '%s\n' "$3" >"$stub_state/health"
  printf '0\n' >"$stub_state/drain"
  rm -f "$stub_state/agent-fail"
  : >"$STUB_LOG"
}

# installed <colour> <release|none>: what that instance's deploy agent has installed.
installed() {
  local dir
  if [ "$1" = blue ]; then dir="$stub_state/instances/$BG_BLUE_INSTANCE_ID"; else dir="$stub_state/instances/$BG_GREEN_INSTANCE_ID"; fi
  mkdir -p "$dir"
  if [ "$2" = none ]; then rm -f "$dir/version"; else printf '%s\n' "$2" >"$dir/version"; fi
  echo inactive >"$dir/state"
}
installed_on() { # <colour>
  if [ "$1" = blue ]; then cat "$stub_state/instances/$BG_BLUE_INSTANCE_ID/version"
  else cat "$stub_state/instances/$BG_GREEN_INSTANCE_ID/version"; fi
}
weights_now() { cut -f2 "$stub_state/weights" | paste -sd' '; }

for release in 1.4.0-abc123 1.4.1 1.4.2; do publish_release "$release"; done

# line_no <extended regex>: the first line of the call log matching it, 0 if none.
line_no() {
  local n
  n=$(grep -nE -- "$1" "$STUB_LOG" | head -n 1 | cut -d: -f1)
  echo "${n:-0}"
}

# The dry run's lines, minus its sleeps, with the stub's command id: what the stub must receive.
dry_run_as_calls() {
  sed -e '/^DRY-RUN: sleep /d' -e 's/^DRY-RUN: //' -e "s/'<command-id>'/cmd-0001/" "$1"
}

# stub_refusal <name> <message part> -- <args...>: refused, with the message, before any instance
# or weight is touched.
stub_refusal() {
  local name=$1 message=$2
  shift 3
  if PATH="$stub_path" run_script "$@"; then
    fail "$name: exited 0"
  elif ! grep -qF -- "$message" "$work/err"; then
    fail "$name: stderr lacks '$message'"
    sed 's/^/    /' "$work/err"
  elif grep -qE 'send-command|modify-listener' "$STUB_LOG"; then
    fail "$name: touched an instance or the weights before refusing"
  else
    pass "$name"
  fi
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

# Blue still has a failed release (a cutover that did not complete left it there).
set_stub 0 100 healthy
installed blue 1.4.1
stub_run "stub: rollback makes exactly the dry run's calls and ends on blue" \
  "$expected/rollback-green-live.txt" "100 0" -- rollback 1.4.0-abc123
if [ "$(installed_on blue)" = 1.4.0-abc123 ]; then
  pass "stub: rollback installs the release it was given where the other colour has another one"
else
  fail "stub: rollback left blue on $(installed_on blue), expected 1.4.0-abc123"
fi

set_stub 0 100 healthy
installed blue 1.4.0-abc123
if ! PATH="$stub_path" run_script rollback 1.4.0-abc123; then
  fail "stub: rollback to the release the other colour has: exited non-zero"
  sed 's/^/    /' "$work/err"
elif grep -q 'mechanica-deploy install' "$STUB_LOG" || ! grep -q "orders-api blue: start" "$STUB_LOG"; then
  fail "stub: rollback to the release the other colour has starts it without installing"
elif [ "$(weights_now)" != "100 0" ]; then
  fail "stub: rollback to the release the other colour has ends on blue (weights: $(weights_now))"
else
  pass "stub: rollback to the release the other colour has only starts it"
fi

set_stub 0 100 healthy
installed blue none
if ! PATH="$stub_path" run_script rollback 1.4.0-abc123; then
  fail "stub: rollback onto a replaced instance: exited non-zero"
  sed 's/^/    /' "$work/err"
elif ! grep -q "orders-api blue: install 1.4.0-abc123" "$STUB_LOG" || [ "$(weights_now)" != "100 0" ]; then
  fail "stub: rollback onto a replaced instance (no release) installs the release, then switches"
else
  pass "stub: rollback onto a replaced instance (no release) installs the release, then switches"
fi

set_stub 0 100 healthy
installed blue 1.4.1
printf 'install\n' >"$stub_state/agent-fail"
if PATH="$stub_path" run_script rollback 1.4.0-abc123; then
  fail "stub: a rollback whose install fails: exited 0"
elif [ "$(weights_now)" != "0 100" ] || grep -q 'orders-api green: stop' "$STUB_LOG"; then
  fail "stub: a rollback whose install fails keeps all traffic on green (weights: $(weights_now))"
elif ! grep -q 'orders-api blue: stop' "$STUB_LOG"; then
  fail "stub: a rollback whose install fails stops blue again"
else
  pass "stub: a rollback whose install fails keeps traffic on green and stops blue again"
fi

set_stub 100 0 unhealthy
installed green 1.4.0-abc123
if PATH="$stub_path" BG_STEP_WAIT_SECONDS=0 run_script --steps 10,50,100 deploy 1.4.1; then
  fail "stub: an unhealthy new colour midway fails the deploy (exited 0)"
elif [ "$(weights_now)" != "100 0" ]; then
  fail "stub: an unhealthy new colour midway puts traffic back on blue (weights: $(weights_now))"
elif grep -q 'orders-api blue: stop' "$STUB_LOG"; then
  fail "stub: an unhealthy new colour midway must not stop the old colour"
elif [ "$(line_no 'orders-api green: stop')" -le "$(line_no 'blue/[^"]*","Weight":100')" ]; then
  fail "stub: an unhealthy new colour midway is stopped after traffic is back on blue"
else
  pass "stub: an unhealthy new colour at 10% fails the deploy, restores blue=100 green=0, stops green"
fi

# After the switch: the release is live whatever happens to the old colour. A `sleep` that only
# records how long it was asked to wait stands in for the fallback delay.
mkdir -p "$work/bin"
# shellcheck disable=SC2016 # $1 is the stand-in's own argument
printf '#!/bin/sh\necho "$1" >>"%s/slept"\n' "$work" >"$work/bin/sleep"
chmod +x "$work/bin/sleep"
set_stub 100 0 healthy
printf 'fail\n' >"$stub_state/drain"
printf 'stop\n' >"$stub_state/agent-fail"
if ! PATH="$work/bin:$stub_path" BG_STEP_WAIT_SECONDS=0 BG_DRAIN_SECONDS='' run_script --steps 100 deploy 1.4.1; then
  fail "stub: failures after the switch (delay unreadable, old colour not stopping) are warnings: exited non-zero"
  sed 's/^/    /' "$work/err"
elif [ "$(weights_now)" != "0 100" ]; then
  fail "stub: failures after the switch keep all traffic on green (weights: $(weights_now))"
elif ! grep -q 'warning: cannot read the deregistration delay' "$work/err" \
  || ! grep -q 'warning: orders-api on blue .* did not stop' "$work/err"; then
  fail "stub: failures after the switch are reported as warnings ($(cat "$work/err"))"
elif [ "$(cat "$work/slept")" != 30 ]; then
  fail "stub: an unreadable deregistration delay waits 30 s (waited: $(cat "$work/slept"))"
else
  pass "stub: failures after the switch (delay unreadable, old colour not stopping) are warnings; exit 0"
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

# --- promotion ---------------------------------------------------------------------------------

export BG_PROMOTED_FROM=qa
publish_release 3f9a1c2b4d5e qa
set_stub 100 0 healthy
if ! PATH="$stub_path" BG_STEP_WAIT_SECONDS=0 run_script --steps 100 deploy 3f9a1c2b4d5e; then
  fail "stub: production deploys a release promoted from QA (exited non-zero)"
  sed 's/^/    /' "$work/err"
elif ! grep -qF "mechanica-deploy install 3f9a1c2b4d5e" "$STUB_LOG"; then
  fail "stub: production deploys a release promoted from QA (no install)"
elif [ "$(line_no 'promoted.json')" -eq 0 ] \
  || [ "$(line_no 'promoted.json')" -gt "$(line_no 'send-command')" ]; then
  fail "stub: production reads the promotion before touching an instance (promoted.json at line $(line_no 'promoted.json'), first send-command at $(line_no 'send-command'))"
else
  pass "stub: production installs a release promoted from QA, checked before any instance is touched"
fi

publish_release 5b6c7d8e9f00
set_stub 100 0 healthy
stub_refusal "stub: production refuses a release QA never ran" "never passed qa" \
  -- deploy 5b6c7d8e9f00

set_stub 100 0 healthy
stub_refusal "stub: production refuses a release never published" "was never published" \
  -- deploy 0123456789ab

publish_release 6a6a6a6a6a6a qa
printf 'another build\n' >"$bucket_dir/orders-api/6a6a6a6a6a6a/orders-api.tar.gz"
(cd "$bucket_dir/orders-api/6a6a6a6a6a6a" && sha256sum orders-api.tar.gz >orders-api.tar.gz.sha256)
set_stub 100 0 healthy
stub_refusal "stub: refuses a tarball that is not the one the manifest names" \
  "is not the tarball the release's manifest names" -- deploy 6a6a6a6a6a6a

publish_release 7b7b7b7b7b7b qa
printf '{"release":"7b7b7b7b7b7b","artifacts":{"orders-api.tar.gz":"%s"},"rebuilt":true}\n' \
  "$(cut -d' ' -f1 "$bucket_dir/orders-api/7b7b7b7b7b7b/orders-api.tar.gz.sha256")" \
  >"$bucket_dir/releases/7b7b7b7b7b7b/manifest.json"
set_stub 100 0 healthy
stub_refusal "stub: refuses a promotion record of another manifest" \
  "does not promote this manifest from qa" -- deploy 7b7b7b7b7b7b
unset BG_PROMOTED_FROM

summary
