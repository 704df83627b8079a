#!/usr/bin/env bash
# Blue/green cutover of orders-api on the two EC2 instances behind the ALB
# (infra/modules/api_bluegreen). This script is the ONE owner of the HTTPS listener's weights:
# Terraform sets them when it creates the listener and ignores them afterwards.
#
#   bluegreen.sh [options] deploy <release>
#       0. refuse a release this environment may not run: releases/<release>/manifest.json must
#          be in the artifacts bucket and name the SHA-256 that orders-api/<release>/
#          orders-api.tar.gz.sha256 holds (the file the deploy agent checks the tarball
#          against); with --promoted-from, releases/<release>/promoted.json must name that
#          environment and this manifest's SHA-256 (release.sh promote writes it only for a
#          release that passed there)
#       1. read the listener's weights: the colour at 100 is live, the other idle
#       2. install orders-api/<release>/orders-api.tar.gz from the artifacts bucket on the idle
#          instance (SSM Run Command -> /usr/local/sbin/mechanica-deploy install <release>)
#       3. wait until the idle colour's target is healthy (/readyz) in its target group
#       4. shift the weights to it in --steps (e.g. 10,50,100), checking its health between
#          steps; a failure before the last step puts all traffic back on the old colour
#       5. wait the old target group's deregistration delay, then stop the old colour
#       A failure before all traffic is on the new colour (steps 2-4) puts all traffic back on the
#       old colour and stops orders-api on the idle one, so it runs no failed release. Once all
#       traffic is on the new colour the release is live: a failure of step 5 (the delay cannot
#       be read, the old colour does not stop) is a warning and the deploy exits 0.
#   bluegreen.sh [options] rollback <release>
#       ask the other colour's deploy agent which release it has installed; install <release>
#       there when it is another one (a failed cutover left the failed release there, a replaced
#       instance has none; this step 0 checks as for deploy), otherwise start it again; wait
#       until it is healthy, move all traffic to it, wait the deregistration delay, stop the
#       colour that was live (failures after the switch are warnings, as for deploy). With split
#       weights, say where to go with --to blue|green. release.sh rollback <env> runs it with the
#       previous release and also moves the Lambda, live.json and the portal: use that.
#   bluegreen.sh [options] status
#       weights, target health and the release each colour's agent has installed
#
# Options (each also read from the environment variable in brackets; Terraform's output
# `bluegreen_env` of infra/envs/<env> gives the first eight):
#   --region R              [AWS_REGION]
#   --listener-arn ARN      [BG_LISTENER_ARN]       HTTPS listener
#   --blue-tg ARN           [BG_BLUE_TG_ARN]        blue target group
#   --green-tg ARN          [BG_GREEN_TG_ARN]       green target group
#   --blue-instance ID      [BG_BLUE_INSTANCE_ID]
#   --green-instance ID     [BG_GREEN_INSTANCE_ID]
#   --artifacts-bucket B    [BG_ARTIFACTS_BUCKET]   the environment's artifacts bucket
#   --promoted-from ENV     [BG_PROMOTED_FROM]      deploy only releases promoted from ENV
#                                                   (prod: qa); empty in the first environment
#   --app-port N            [BG_APP_PORT]           target port (default 8080)
#   --steps LIST            [BG_STEPS]              weights of the new colour, increasing, ending
#                                                   at 100 (default 100: one switch)
#   --step-wait SECONDS     [BG_STEP_WAIT_SECONDS]  observation time between steps (default 60)
#   --drain SECONDS         [BG_DRAIN_SECONDS]      wait before stopping the old colour (default:
#                                                   its target group's deregistration delay; 30
#                                                   when that cannot be read)
#   --to blue|green                                 rollback target when the weights are split
#   --dry-run                                       print every AWS CLI call as
#                                                   "DRY-RUN: aws ..." on stdout instead of
#                                                   making it, and skip every wait
#   --current blue|green    [BG_CURRENT]            dry run only: the colour taken as live
# Progress goes to stderr; stdout carries only the dry-run lines and `status`.
set -euo pipefail

# shellcheck source=infra/pipeline/lib.sh
. "$(dirname "$0")/lib.sh"

readonly AGENT=/usr/local/sbin/mechanica-deploy
readonly COMMAND_ID_PLACEHOLDER='<command-id>'
readonly SHA256_PLACEHOLDER='<sha256>'
readonly INSTALLED_PLACEHOLDER='<installed-version>'
readonly DEFAULT_DRAIN=30

REGION=${AWS_REGION:-}
LISTENER_ARN=${BG_LISTENER_ARN:-}
BLUE_TG=${BG_BLUE_TG_ARN:-}
GREEN_TG=${BG_GREEN_TG_ARN:-}
BLUE_INSTANCE=${BG_BLUE_INSTANCE_ID:-}
GREEN_INSTANCE=${BG_GREEN_INSTANCE_ID:-}
ARTIFACTS_BUCKET=${BG_ARTIFACTS_BUCKET:-}
PROMOTED_FROM=${BG_PROMOTED_FROM:-}
APP_PORT=${BG_APP_PORT:-8080}
STEPS=${BG_STEPS:-100}
STEP_WAIT=${BG_STEP_WAIT_SECONDS:-60}
DRAIN=${BG_DRAIN_SECONDS:-}
CURRENT=${BG_CURRENT:-}
ROLLBACK_TO=""
BLUE_WEIGHT=""
GREEN_WEIGHT=""
SHIFT_FALLBACK="" # the colour that gets all traffic back if a shift fails midway
STOP_ON_FAILURE="" # the idle colour, stopped again if the cutover fails before it is live
AGENT_COMMAND_ID="" # the SSM command of the last agent call
SCRATCH=""

pause() {
  if $DRY_RUN; then
    printf 'DRY-RUN: sleep %s\n' "$1" >&3
  else
    log "waiting $1 s ($2)"
    sleep "$1"
  fi
}

other() { if [ "$1" = blue ]; then echo green; else echo blue; fi; }
# Fetches s3://<artifacts bucket>/<key> to <file>; in a dry run writes <placeholder> there.
fetch_object() { # <key> <file> <placeholder>
  run_out "$3" aws s3 cp --region "$REGION" --only-show-errors "s3://$ARTIFACTS_BUCKET/$1" - >"$2"
}

# Step 0 of deploy: the release was published here, the tarball the agent will install is the
# one its manifest names, and (with --promoted-from) the release passed the previous
# environment.
check_release() {
  local release=$1 dir manifest_sha tarball_sha record
  SCRATCH=$(mktemp -d) # removed by on_exit
  dir=$SCRATCH
  fetch_object "releases/$release/manifest.json" "$dir/manifest.json" \
    "{\"release\":\"$release\",\"artifacts\":{\"orders-api.tar.gz\":\"$SHA256_PLACEHOLDER\"}}" \
    || die "release $release was never published to $ARTIFACTS_BUCKET (no releases/$release/manifest.json)"
  [ "$(jq -r .release "$dir/manifest.json")" = "$release" ] \
    || die "releases/$release/manifest.json names another release"
  fetch_object "orders-api/$release/orders-api.tar.gz.sha256" "$dir/tarball.sha256" \
    "$SHA256_PLACEHOLDER  orders-api.tar.gz" \
    || die "release $release has no orders-api/$release/orders-api.tar.gz.sha256"
  tarball_sha=$(cut -d' ' -f1 "$dir/tarball.sha256")
  [ "$tarball_sha" = "$(jq -r '.artifacts["orders-api.tar.gz"]' "$dir/manifest.json")" ] \
    || die "orders-api/$release/orders-api.tar.gz is not the tarball the release's manifest names"
  if [ -n "$PROMOTED_FROM" ]; then
    manifest_sha=$(sha256sum "$dir/manifest.json" | cut -d' ' -f1)
    record="{\"release\":\"$release\",\"from\":\"$PROMOTED_FROM\",\"manifest_sha256\":\"$manifest_sha\"}"
    fetch_object "releases/$release/promoted.json" "$dir/promoted.json" "$record" \
      || die "release $release never passed $PROMOTED_FROM (no releases/$release/promoted.json): promote it first"
    [ "$(jq -r '[.release, .from, .manifest_sha256] | join(" ")' "$dir/promoted.json")" \
      = "$release $PROMOTED_FROM $manifest_sha" ] \
      || die "releases/$release/promoted.json does not promote this manifest from $PROMOTED_FROM"
  fi
  log "release $release: published${PROMOTED_FROM:+, passed $PROMOTED_FROM}; orders-api.tar.gz $tarball_sha"
}

tg_of() { if [ "$1" = blue ]; then echo "$BLUE_TG"; else echo "$GREEN_TG"; fi; }
instance_of() { if [ "$1" = blue ]; then echo "$BLUE_INSTANCE"; else echo "$GREEN_INSTANCE"; fi; }

require_config() {
  local name missing=()
  for name in REGION LISTENER_ARN BLUE_TG GREEN_TG BLUE_INSTANCE GREEN_INSTANCE; do
    [ -n "${!name}" ] || missing+=("$name")
  done
  [ ${#missing[@]} -eq 0 ] || die "missing configuration: ${missing[*]} (see --help)"
  [[ $APP_PORT =~ ^[0-9]+$ ]] || die "--app-port must be a number"
  [[ $STEP_WAIT =~ ^[0-9]+$ ]] || die "--step-wait must be a number of seconds"
  [ -z "$DRAIN" ] || [[ $DRAIN =~ ^[0-9]+$ ]] || die "--drain must be a number of seconds"
  if $DRY_RUN; then
    [[ $CURRENT =~ ^(blue|green)$ ]] || die "a dry run needs --current blue|green (the colour taken as live)"
  fi
}

# Sets BLUE_WEIGHT and GREEN_WEIGHT from the listener's forward action.
read_weights() {
  local fallback="" arn weight
  if $DRY_RUN; then
    if [ "$CURRENT" = blue ]; then
      fallback=$(printf '%s\t100\n%s\t0' "$BLUE_TG" "$GREEN_TG")
    else
      fallback=$(printf '%s\t0\n%s\t100' "$BLUE_TG" "$GREEN_TG")
    fi
  fi
  BLUE_WEIGHT=""
  GREEN_WEIGHT=""
  while IFS=$'\t' read -r arn weight; do
    if [ "$arn" = "$BLUE_TG" ]; then BLUE_WEIGHT=$weight; fi
    if [ "$arn" = "$GREEN_TG" ]; then GREEN_WEIGHT=$weight; fi
  done < <(run_out "$fallback" aws elbv2 describe-listeners --region "$REGION" \
    --listener-arns "$LISTENER_ARN" \
    --query 'Listeners[0].DefaultActions[0].ForwardConfig.TargetGroups[].[TargetGroupArn,Weight]' \
    --output text)
  [[ $BLUE_WEIGHT =~ ^[0-9]+$ && $GREEN_WEIGHT =~ ^[0-9]+$ ]] \
    || die "the listener does not forward to both target groups (blue='$BLUE_WEIGHT' green='$GREEN_WEIGHT')"
}

# The colour carrying all traffic, or "split".
live_colour() {
  if [ "$BLUE_WEIGHT" -gt 0 ] && [ "$GREEN_WEIGHT" -eq 0 ]; then
    echo blue
  elif [ "$GREEN_WEIGHT" -gt 0 ] && [ "$BLUE_WEIGHT" -eq 0 ]; then
    echo green
  else
    echo split
  fi
}

set_weights() {
  local blue=$1 green=$2 actions
  actions=$(printf '[{"Type":"forward","ForwardConfig":{"TargetGroups":[{"TargetGroupArn":"%s","Weight":%d},{"TargetGroupArn":"%s","Weight":%d}],"TargetGroupStickinessConfig":{"Enabled":false}}}]' \
    "$BLUE_TG" "$blue" "$GREEN_TG" "$green")
  log "weights: blue=$blue green=$green"
  run aws elbv2 modify-listener --region "$REGION" --listener-arn "$LISTENER_ARN" \
    --default-actions "$actions" >/dev/null
}

weights_for() { # <colour> <its weight> -> "blue green"
  if [ "$1" = blue ]; then echo "$2 $((100 - $2))"; else echo "$((100 - $2)) $2"; fi
}

# Runs the deploy agent on a colour's instance through SSM and waits for it to finish.
agent() {
  local colour=$1 instance command_id
  shift
  instance=$(instance_of "$colour")
  log "$colour ($instance): mechanica-deploy $*"
  command_id=$(run_out "$COMMAND_ID_PLACEHOLDER" aws ssm send-command --region "$REGION" \
    --instance-ids "$instance" --document-name AWS-RunShellScript \
    --comment "orders-api $colour: $*" \
    --parameters "commands=[\"$AGENT $*\"]" \
    --query Command.CommandId --output text) \
    || die "cannot send mechanica-deploy $* to $colour ($instance)"
  AGENT_COMMAND_ID=$command_id
  if ! run aws ssm wait command-executed --region "$REGION" --command-id "$command_id" \
    --instance-id "$instance"; then
    aws ssm get-command-invocation --region "$REGION" --command-id "$command_id" \
      --instance-id "$instance" --query '[Status,StandardOutputContent,StandardErrorContent]' \
      --output text >&2
    die "mechanica-deploy $* failed on $colour ($instance)"
  fi
}

# The release a colour's deploy agent has installed (`mechanica-deploy status`), "none" when
# none; in a dry run, <installed-version>.
installed_version() { # <colour>
  local colour=$1 output version
  agent "$colour" status
  output=$(run_out "$(printf 'version: %s\nstate: inactive' "$INSTALLED_PLACEHOLDER")" aws ssm \
    get-command-invocation --region "$REGION" --command-id "$AGENT_COMMAND_ID" \
    --instance-id "$(instance_of "$colour")" --query StandardOutputContent --output text) \
    || die "cannot read mechanica-deploy status of $colour"
  version=$(sed -nE 's/^version: ([^[:space:]]+).*$/\1/p' <<<"$output" | head -n 1)
  [ -n "$version" ] || die "mechanica-deploy status of $colour names no version: $output"
  printf '%s\n' "$version"
}

wait_healthy() {
  local colour=$1
  log "waiting until $colour is healthy in its target group"
  run aws elbv2 wait target-in-service --region "$REGION" --target-group-arn "$(tg_of "$colour")" \
    --targets "Id=$(instance_of "$colour"),Port=$APP_PORT" \
    || die "$colour did not become healthy (GET /readyz) in its target group"
}

target_state() {
  run_out healthy aws elbv2 describe-target-health --region "$REGION" \
    --target-group-arn "$(tg_of "$1")" --targets "Id=$(instance_of "$1"),Port=$APP_PORT" \
    --query 'TargetHealthDescriptions[0].TargetHealth.State' --output text
}

drain_seconds() {
  local key value
  if [ -n "$DRAIN" ]; then
    echo "$DRAIN"
    return
  fi
  while IFS=$'\t' read -r key value; do
    if [ "$key" = deregistration_delay.timeout_seconds ]; then
      echo "$value"
      return
    fi
  done < <(run_out "$(printf 'deregistration_delay.timeout_seconds\t30')" aws \
    elbv2 describe-target-group-attributes --region "$REGION" --target-group-arn "$(tg_of "$1")" \
    --query 'Attributes[].[Key,Value]' --output text)
  die "cannot read the deregistration delay of the $1 target group"
}

validate_steps() {
  local step previous=0
  [[ $STEPS =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--steps must be comma-separated weights, e.g. 10,50,100"
  IFS=, read -r -a STEP_LIST <<<"$STEPS"
  for step in "${STEP_LIST[@]}"; do
    if [ "$step" -le "$previous" ] || [ "$step" -gt 100 ]; then
      die "--steps must increase, between 1 and 100: $STEPS"
    fi
    previous=$step
  done
  [ "$previous" -eq 100 ] || die "--steps must end at 100: $STEPS"
}

on_exit() {
  local status=$?
  if [ -n "$SCRATCH" ]; then rm -rf "$SCRATCH"; fi
  if [ "$status" -ne 0 ] && [ -n "$SHIFT_FALLBACK" ]; then
    log "cutover failed: moving all traffic back to $SHIFT_FALLBACK"
    # shellcheck disable=SC2046 # two numbers
    set_weights $(weights_for "$SHIFT_FALLBACK" 100)
  fi
  if [ "$status" -ne 0 ] && [ -n "$STOP_ON_FAILURE" ]; then
    log "cutover failed: stopping orders-api on $STOP_ON_FAILURE, which gets no traffic"
    (agent "$STOP_ON_FAILURE" stop) \
      || warn "$STOP_ON_FAILURE ($(instance_of "$STOP_ON_FAILURE")) did not stop; it gets no traffic"
  fi
  exit "$status"
}

# After all traffic left <old>: wait its deregistration delay, then stop it. The switch is done,
# so a failure here is a warning, not a failed cutover.
retire() { # <old colour>
  local old=$1 drain
  if ! drain=$(drain_seconds "$old"); then
    drain=$DEFAULT_DRAIN
    warn "cannot read the deregistration delay of the $old target group: waiting $drain s"
  fi
  pause "$drain" "deregistration delay of $old"
  if ! (agent "$old" stop); then
    warn "orders-api on $old ($(instance_of "$old")) did not stop; it gets no traffic: stop it with mechanica-deploy stop through SSM Run Command"
  fi
}

cmd_deploy() {
  local version=$1 live idle step state drain
  [[ $version =~ ^[A-Za-z0-9._-]{1,128}$ ]] || die "invalid release '$version'"
  validate_steps
  [ -n "$ARTIFACTS_BUCKET" ] || die "missing configuration: ARTIFACTS_BUCKET (see --help)"
  check_release "$version"
  read_weights
  live=$(live_colour)
  [ "$live" != split ] \
    || die "traffic is split (blue=$BLUE_WEIGHT green=$GREEN_WEIGHT): run 'rollback --to <colour>' first"
  idle=$(other "$live")
  log "live: $live; deploying $version to $idle"

  STOP_ON_FAILURE=$idle
  agent "$idle" install "$version"
  wait_healthy "$idle"

  SHIFT_FALLBACK=$live
  for step in "${STEP_LIST[@]}"; do
    # shellcheck disable=SC2046 # two numbers
    set_weights $(weights_for "$idle" "$step")
    if [ "$step" -lt 100 ]; then
      pause "$STEP_WAIT" "observing $idle at $step%"
      state=$(target_state "$idle")
      [ "$state" = healthy ] || die "$idle is $state at $step% of the traffic"
    fi
  done
  SHIFT_FALLBACK=""
  STOP_ON_FAILURE=""

  retire "$live"
  log "done: $version is live on $idle (rollback: release.sh rollback <env>)"
}

cmd_rollback() {
  local version=$1 live target old installed
  [[ $version =~ ^[A-Za-z0-9._-]{1,128}$ ]] || die "invalid release '$version'"
  read_weights
  live=$(live_colour)
  if [ -n "$ROLLBACK_TO" ]; then
    target=$ROLLBACK_TO
  elif [ "$live" = split ]; then
    die "traffic is split (blue=$BLUE_WEIGHT green=$GREEN_WEIGHT): say where to go with --to blue|green"
  else
    target=$(other "$live")
  fi
  old=$(other "$target")
  installed=$(installed_version "$target")
  log "rolling back to $version on $target (installed there: $installed)"

  STOP_ON_FAILURE=$target
  if [ "$installed" = "$version" ]; then
    agent "$target" start
  else
    [ -n "$ARTIFACTS_BUCKET" ] || die "missing configuration: ARTIFACTS_BUCKET (see --help)"
    check_release "$version"
    agent "$target" install "$version"
  fi
  wait_healthy "$target"
  # shellcheck disable=SC2046 # two numbers
  set_weights $(weights_for "$target" 100)
  STOP_ON_FAILURE=""

  retire "$old"
  log "done: $version is live on $target"
}

cmd_status() {
  local colour weight state version
  read_weights
  printf 'live: %s\n' "$(live_colour)"
  for colour in blue green; do
    if [ "$colour" = blue ]; then weight=$BLUE_WEIGHT; else weight=$GREEN_WEIGHT; fi
    state=$(target_state "$colour")
    version=$(installed_version "$colour") || version=unknown
    printf '%-5s weight=%-3s instance=%s target=%s version=%s\n' "$colour" "$weight" \
      "$(instance_of "$colour")" "$state" "$version"
  done
}

main() {
  local command="" args=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --region) REGION=${2:?--region needs a value}; shift 2 ;;
      --listener-arn) LISTENER_ARN=${2:?--listener-arn needs a value}; shift 2 ;;
      --blue-tg) BLUE_TG=${2:?--blue-tg needs a value}; shift 2 ;;
      --green-tg) GREEN_TG=${2:?--green-tg needs a value}; shift 2 ;;
      --blue-instance) BLUE_INSTANCE=${2:?--blue-instance needs a value}; shift 2 ;;
      --green-instance) GREEN_INSTANCE=${2:?--green-instance needs a value}; shift 2 ;;
      --artifacts-bucket) ARTIFACTS_BUCKET=${2:?--artifacts-bucket needs a value}; shift 2 ;;
      --promoted-from) PROMOTED_FROM=${2:?--promoted-from needs a value}; shift 2 ;;
      --app-port) APP_PORT=${2:?--app-port needs a value}; shift 2 ;;
      --steps) STEPS=${2:?--steps needs a value}; shift 2 ;;
      --step-wait) STEP_WAIT=${2:?--step-wait needs a value}; shift 2 ;;
      --drain) DRAIN=${2:?--drain needs a value}; shift 2 ;;
      --to) ROLLBACK_TO=${2:?--to needs a value}; shift 2 ;;
      --current) CURRENT=${2:?--current needs a value}; shift 2 ;;
      --dry-run) DRY_RUN=true; shift ;;
      -h | --help) usage ;;
      -*) die "unknown option $1 (see --help)" ;;
      *)
        if [ -z "$command" ]; then command=$1; else args+=("$1"); fi
        shift
        ;;
    esac
  done
  [ -z "$ROLLBACK_TO" ] || [[ $ROLLBACK_TO =~ ^(blue|green)$ ]] || die "--to must be blue or green"

  case "$command" in
    deploy)
      [ ${#args[@]} -eq 1 ] || die "usage: bluegreen.sh [options] deploy <release>"
      require_config
      trap on_exit EXIT
      cmd_deploy "${args[0]}"
      ;;
    rollback)
      [ ${#args[@]} -eq 1 ] || die "usage: bluegreen.sh [options] rollback <release>"
      require_config
      trap on_exit EXIT
      cmd_rollback "${args[0]}"
      ;;
    status)
      [ ${#args[@]} -eq 0 ] || die "usage: bluegreen.sh [options] status"
      require_config
      cmd_status
      ;;
    "") usage ;;
    *) die "unknown command '$command' (deploy, rollback, status)" ;;
  esac
}

main "$@"
