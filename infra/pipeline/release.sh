#!/usr/bin/env bash
# One release of Mechanica order webhooks, from commit to production. A release is a commit,
# named by its first 12 hex digits, built once; every environment runs those same bytes:
#   orders-api/<release>/orders-api.tar.gz (+ .sha256)  bin/orders-api, bin/migrate (with the
#                                                       release's migrations), the systemd unit
#   lambda/<release>/bootstrap.zip                      the dispatch Lambda, as built; signed
#                                                       per environment under signed/<release>/
#   portal/<release>/portal.tar.gz                      the customer portal's build
#   releases/<release>/manifest.json                    commit, tree, SHA-256 of the three,
#                                                       message versions, migrations
# Records in each environment's artifacts bucket:
#   releases/<release>/lambda-s3-key      the signed Lambda zip's key in this environment
#   releases/<release>/passed-<env>.json  the release was deployed here and passed its smoke
#   releases/by-tree/<git tree>           the release passed here with exactly this tree
#   releases/<release>/promoted.json      (prod) copied from the environment it passed, checked
#   releases/live.json                    {release, previous, lambda}: what runs here now
#
#   release.sh build
#       build the release of HEAD into dist/: binaries, Lambda zip, portal, manifest
#   release.sh publish <env>
#       upload dist/ to the environment's bucket and sign the Lambda zip (qa: the environment
#       that takes builds; one with BG_PROMOTED_FROM takes promoted releases only)
#   release.sh resolve
#       print the release that passed the source environment with HEAD's tree (a merge into
#       main carries the tree QA ran, not its commit)
#   release.sh promote <env> <release>
#       copy a release that passed the source environment into <env>, checking every SHA-256
#       against the manifest that passed, sign its Lambda zip, write promoted.json
#   release.sh propose <env> <release>
#       (PlanetScale) branch release-<release> from main, apply the release's migrations with its
#       own migrate, open the deploy request into main; prints its number, nothing when no change
#   release.sh deploy <env> <release>
#       1. refuse a release not published (or, with BG_PROMOTED_FROM, not promoted) here, one
#          whose dispatcher cannot read the message version the live release writes, and one
#          bringing expand and contract migrations together
#       2. expand: the release's migrations, when they only add (qa: migrate on its branch;
#          prod: the deploy request)
#       3. terraform apply of the environment
#       4. the Lambda (the reader of queue messages) to the release's signed zip
#       5. the API (the writer): bluegreen.sh deploy <release>; a failure puts the Lambda back
#       6. record live.json; smoke: an empty batch through the Lambda, /openapi.json through
#          CloudFront and the ALB
#       7. the portal's bundle (publish-portal.sh --dist)
#       8. contract: the release's migrations, when they drop something, once nothing older runs
#       9. record passed-<env>.json and by-tree/<tree>
#   release.sh rollback <env>
#       the API back to the previous release (bluegreen.sh rollback) first, then the Lambda, only
#       if the previous dispatcher reads the message version the rolled-back release writes,
#       then the previous portal; schema stays (expand-compatible)
#   release.sh status <env>
#       live.json and the blue/green status
#
# Options:
#   --deploy-request N|none   deploy: the request `propose` opened (none: no schema change);
#                             without it, deploy proposes itself
#   --dry-run                 print every call that changes something (uploads, signing,
#                             migrate, terraform apply, Lambda, bluegreen.sh, publish-portal.sh)
#                             as "DRY-RUN: ..." on stdout instead of making it; reads are made
# Environment: AWS_REGION; PLANETSCALE_ORG, PLANETSCALE_DATABASE (default mechanica) and the
# service token for deploy requests; DSN of the environment's branch where it is migrated
# directly (qa); TF_VAR_database_dsn for terraform apply; BG_STEPS, BG_STEP_WAIT_SECONDS for
# the cutover; RELEASE_SOURCE_BUCKET and RELEASE_SOURCE_ROLE_ARN (output release_source of the
# source environment) for resolve and promote; RELEASE_REPO, RELEASE_DIST, CARGO_TARGET_DIR,
# PORTAL_WEB_DIR to build elsewhere than this checkout.
# Progress goes to stderr; stdout carries the dry-run lines and what resolve, propose and
# status print.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=infra/pipeline/lib.sh
. "$HERE/lib.sh"

readonly ARTIFACTS=(orders-api.tar.gz bootstrap.zip portal.tar.gz)
REPO=${RELEASE_REPO:-$(cd "$HERE/../.." && pwd)}
DIST=${RELEASE_DIST:-$REPO/dist}
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
WEB_DIR=${PORTAL_WEB_DIR:-$REPO/web}
SOURCE_BUCKET=${RELEASE_SOURCE_BUCKET:-}
SOURCE_ROLE=${RELEASE_SOURCE_ROLE_ARN:-}
PS_DATABASE=${PLANETSCALE_DATABASE:-mechanica}
DEPLOY_REQUEST=""
WORK=$(mktemp -d)
LAMBDA_FALLBACK_KEY="" # the Lambda goes back to this zip if the API cutover fails

# Filled by load_env.
ENV_NAME=""
BUCKET=""
PROFILE=""
FUNCTION=""
PROMOTED_FROM=""
PORTAL_ORIGIN=""

sha_of() { sha256sum "$1" | cut -d' ' -f1; }
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

valid_release() {
  [[ $1 =~ ^[0-9a-f]{12}$ ]] || die "invalid release '$1' (the commit's first 12 hex digits)"
}

key_of() { # <artifact> <release>
  case "$1" in
    orders-api.tar.gz) echo "orders-api/$2/orders-api.tar.gz" ;;
    bootstrap.zip) echo "lambda/$2/bootstrap.zip" ;;
    portal.tar.gz) echo "portal/$2/portal.tar.gz" ;;
    *) die "unknown artifact $1" ;;
  esac
}

# get <bucket> <key> <file>: download; fails quietly when the object is missing.
get() { aws s3 cp --region "$AWS_REGION" --only-show-errors "s3://$1/$2" "$3" 2>/dev/null; }
put() { # <file> <key> in this environment's bucket
  run aws s3 cp --region "$AWS_REGION" --only-show-errors "$1" "s3://$BUCKET/$2"
}

# Reads from the source environment's bucket, as its release-reader role when one is given.
source_get() { # <key> <file>
  [ -n "$SOURCE_BUCKET" ] || die "missing configuration: RELEASE_SOURCE_BUCKET"
  if [ -n "$SOURCE_ROLE" ]; then
    if [ -z "${SOURCE_CREDS:-}" ]; then
      SOURCE_CREDS=$(aws sts assume-role --role-arn "$SOURCE_ROLE" \
        --role-session-name "release-$(whoami)-$$" \
        --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text) \
        || die "cannot assume $SOURCE_ROLE"
    fi
    local id secret token
    read -r id secret token <<<"$SOURCE_CREDS"
    AWS_ACCESS_KEY_ID=$id AWS_SECRET_ACCESS_KEY=$secret AWS_SESSION_TOKEN=$token \
      get "$SOURCE_BUCKET" "$1" "$2"
  else
    get "$SOURCE_BUCKET" "$1" "$2"
  fi
}

load_env() {
  ENV_NAME=$1
  [[ $ENV_NAME =~ ^[a-z][a-z0-9-]*$ && $ENV_NAME != test && -d "$REPO/infra/envs/$ENV_NAME" ]] \
    || die "unknown environment '$ENV_NAME' (a directory of infra/envs/ other than test)"
  : "${AWS_REGION:?set AWS_REGION}"
  terraform -chdir="$REPO/infra/envs/$ENV_NAME" init -input=false -backend-config=backend.hcl >&2
  terraform -chdir="$REPO/infra/envs/$ENV_NAME" output -json >"$WORK/outputs.json"
  BUCKET=$(jq -r '.artifacts_bucket.value // ""' "$WORK/outputs.json")
  PROFILE=$(jq -r '.lambda_signing_profile_name.value // ""' "$WORK/outputs.json")
  FUNCTION=$(jq -r '.dispatch_function_name.value // ""' "$WORK/outputs.json")
  PROMOTED_FROM=$(jq -r '.bluegreen_env.value.BG_PROMOTED_FROM // ""' "$WORK/outputs.json")
  PORTAL_ORIGIN=$(jq -r '.portal_url.value // ""' "$WORK/outputs.json" | sed -E 's#^(https://[^/]+).*#\1#')
  [[ -n $BUCKET && -n $PROFILE && -n $FUNCTION ]] \
    || die "infra/envs/$ENV_NAME has no artifacts_bucket, lambda_signing_profile_name or dispatch_function_name output"
}

# Exports an output object's entries (bluegreen_env, portal_env) for the scripts beside this one.
export_output() {
  local key value
  while IFS=$'\t' read -r key value; do
    export "$key=$value"
  done < <(jq -r --arg name "$1" '.[$name].value | to_entries[] | "\(.key)\t\(.value)"' "$WORK/outputs.json")
}

# --- build -------------------------------------------------------------------------------------

message_versions() { # -> manifest's "message" object, from crates/domain/src/message.rs
  local file="$REPO/crates/domain/src/message.rs" writes reads
  writes=$(sed -nE 's/^pub const MESSAGE_VERSION: u32 = ([0-9]+);.*/\1/p' "$file")
  [[ $writes =~ ^[0-9]+$ ]] || die "no MESSAGE_VERSION in $file"
  # A dispatcher that reads more than the version it writes declares them all.
  reads=$(sed -nE 's/^pub const MESSAGE_VERSIONS_READ: &\[u32\] = &\[([0-9, ]+)\];.*/\1/p' "$file")
  jq -cn --argjson writes "$writes" --arg reads "${reads:-$writes}" '
    {writes: $writes, reads: ($reads | split(",") | map(gsub(" "; "") | tonumber))}
    | . as $m
    | if ($m.reads | index($m.writes)) != null then $m
      else error("the dispatcher does not read the version it writes") end'
}

migrations_json() { # every migration, and whether it is a contract (a `contract:` comment)
  local file contract
  for file in "$REPO"/migrations/*.sql; do
    contract=false
    if grep -Eiq '(--|/\*|#)[[:space:]]*contract:' "$file"; then contract=true; fi
    jq -cn --arg name "$(basename "$file")" --argjson contract "$contract" '{name: $name, contract: $contract}'
  done | jq -cs .
}

cmd_build() {
  local release commit tree
  ! $DRY_RUN || die "build has no dry run: it only writes dist/ and target/"
  [ -z "$(git -C "$REPO" status --porcelain --untracked-files=no)" ] \
    || die "the checkout has changes: a release is exactly one commit"
  commit=$(git -C "$REPO" rev-parse HEAD)
  tree=$(git -C "$REPO" rev-parse 'HEAD^{tree}')
  release=${commit:0:12}
  log "building release $release"
  (
    cd "$REPO"
    CARGO_TARGET_DIR=$TARGET cargo build --release --locked -p orders-api -p migrations
    # aarch64, as the function's architecture; the target is fetched here.
    CARGO_TARGET_DIR=$TARGET cargo lambda build --release --arm64 --output-format zip --bin bootstrap
  ) >&2
  npm --prefix "$WEB_DIR" ci >&2
  npm --prefix "$WEB_DIR" run build >&2

  rm -rf "$DIST"
  mkdir -p "$DIST/orders-api/bin"
  install -m 0755 "$TARGET/release/orders-api" "$TARGET/release/migrate" "$DIST/orders-api/bin/"
  install -m 0644 "$REPO/infra/pipeline/orders-api.service" "$DIST/orders-api/"
  tar -C "$DIST/orders-api" -czf "$DIST/orders-api.tar.gz" .
  cp "$TARGET/lambda/bootstrap/bootstrap.zip" "$DIST/bootstrap.zip"
  tar -C "$WEB_DIR/dist" -czf "$DIST/portal.tar.gz" .
  jq -n --arg release "$release" --arg commit "$commit" --arg tree "$tree" \
    --arg api "$(sha_of "$DIST/orders-api.tar.gz")" --arg lambda "$(sha_of "$DIST/bootstrap.zip")" \
    --arg portal "$(sha_of "$DIST/portal.tar.gz")" \
    --argjson message "$(message_versions)" --argjson migrations "$(migrations_json)" '
    {release: $release, commit: $commit, tree: $tree,
     artifacts: {"orders-api.tar.gz": $api, "bootstrap.zip": $lambda, "portal.tar.gz": $portal},
     message: $message, migrations: $migrations}' >"$DIST/manifest.json"
  printf '%s\n' "$release" >"$DIST/release"
  log "release $release: $(jq -c .artifacts "$DIST/manifest.json")"
}

# --- publish and promote -----------------------------------------------------------------------

# Checks every artifact in <dir> against <dir>/manifest.json.
verify_dir() {
  local dir=$1 artifact want
  for artifact in "${ARTIFACTS[@]}"; do
    want=$(jq -r --arg a "$artifact" '.artifacts[$a]' "$dir/manifest.json")
    [[ -f $dir/$artifact && $(sha_of "$dir/$artifact") == "$want" ]] \
      || die "$artifact of release $(jq -r .release "$dir/manifest.json") is not the one its manifest names"
  done
}

# Uploads a verified release directory to this environment's bucket and signs its Lambda zip;
# the manifest goes last, so a release whose manifest is here has all its artifacts.
upload_release() {
  local dir=$1 release=$2 artifact version job key
  verify_dir "$dir"
  for artifact in "${ARTIFACTS[@]}"; do
    put "$dir/$artifact" "$(key_of "$artifact" "$release")"
  done
  (cd "$dir" && sha256sum orders-api.tar.gz >orders-api.tar.gz.sha256)
  put "$dir/orders-api.tar.gz.sha256" "orders-api/$release/orders-api.tar.gz.sha256"

  # The function runs only zips signed by this environment's profile (code signing: Enforce).
  version=$(run_out '<version-id>' aws s3api head-object --region "$AWS_REGION" --bucket "$BUCKET" \
    --key "lambda/$release/bootstrap.zip" --query VersionId --output text)
  job=$(run_out '<job-id>' aws signer start-signing-job --region "$AWS_REGION" \
    --profile-name "$PROFILE" \
    --source "s3={bucketName=$BUCKET,key=lambda/$release/bootstrap.zip,version=$version}" \
    --destination "s3={bucketName=$BUCKET,prefix=signed/$release/}" --query jobId --output text)
  run aws signer wait successful-signing-job --region "$AWS_REGION" --job-id "$job"
  key=$(run_out "signed/$release/<job-id>.zip" aws signer describe-signing-job --region "$AWS_REGION" \
    --job-id "$job" --query signedObject.s3.key --output text)
  printf '%s\n' "$key" >"$dir/lambda-s3-key"
  put "$dir/lambda-s3-key" "releases/$release/lambda-s3-key"
  put "$dir/manifest.json" "releases/$release/manifest.json"
  log "release $release is in $BUCKET (Lambda: $key)"
}

cmd_publish() {
  local release
  load_env "$1"
  [ -z "$PROMOTED_FROM" ] \
    || die "$ENV_NAME takes releases promoted from $PROMOTED_FROM only: release.sh promote $ENV_NAME <release>"
  [ -f "$DIST/manifest.json" ] || die "no build in $DIST: run release.sh build first"
  release=$(jq -r .release "$DIST/manifest.json")
  mkdir -p "$WORK/release"
  cp "$DIST/manifest.json" "${ARTIFACTS[@]/#/$DIST/}" "$WORK/release/"
  upload_release "$WORK/release" "$release"
}

cmd_resolve() {
  local tree
  tree=$(git -C "$REPO" rev-parse 'HEAD^{tree}')
  source_get "releases/by-tree/$tree" "$WORK/by-tree" \
    || die "no release with HEAD's tree ($tree) passed the source environment: push this tree to qa first"
  valid_release "$(cat "$WORK/by-tree")"
  cat "$WORK/by-tree"
}

cmd_promote() {
  local release=$2 dir="$WORK/release" artifact
  valid_release "$release"
  load_env "$1"
  [ -n "$PROMOTED_FROM" ] || die "$ENV_NAME takes builds (release.sh publish), not promotions"
  mkdir -p "$dir"
  source_get "releases/$release/passed-$PROMOTED_FROM.json" "$WORK/passed.json" \
    || die "release $release never passed $PROMOTED_FROM (no releases/$release/passed-$PROMOTED_FROM.json in $SOURCE_BUCKET)"
  source_get "releases/$release/manifest.json" "$dir/manifest.json" \
    || die "release $release has no manifest in $SOURCE_BUCKET"
  [ "$(sha_of "$dir/manifest.json")" = "$(jq -r .manifest_sha256 "$WORK/passed.json")" ] \
    || die "the manifest of $release in $SOURCE_BUCKET is not the one that passed $PROMOTED_FROM"
  for artifact in "${ARTIFACTS[@]}"; do
    source_get "$(key_of "$artifact" "$release")" "$dir/$artifact" \
      || die "release $release has no $artifact in $SOURCE_BUCKET"
  done
  upload_release "$dir" "$release"
  jq -n --arg release "$release" --arg from "$PROMOTED_FROM" --arg to "$ENV_NAME" \
    --arg manifest "$(sha_of "$dir/manifest.json")" --arg at "$(now)" \
    --slurpfile passed "$WORK/passed.json" \
    '{release: $release, from: $from, to: $to, manifest_sha256: $manifest, promoted_at: $at,
      passed: $passed[0]}' >"$WORK/promoted.json"
  put "$WORK/promoted.json" "releases/$release/promoted.json"
  log "release $release promoted from $PROMOTED_FROM to $ENV_NAME"
}

# --- deploy ------------------------------------------------------------------------------------

# Downloads and checks a release of this environment into <dir>: manifest, promotion, tarball.
fetch_release() { # <release> <dir>
  local release=$1 dir=$2
  mkdir -p "$dir"
  get "$BUCKET" "releases/$release/manifest.json" "$dir/manifest.json" \
    || die "release $release was never published to $ENV_NAME (no releases/$release/manifest.json)"
  [ "$(jq -r .release "$dir/manifest.json")" = "$release" ] \
    || die "releases/$release/manifest.json names another release"
  if [ -n "$PROMOTED_FROM" ]; then
    get "$BUCKET" "releases/$release/promoted.json" "$dir/promoted.json" \
      || die "release $release never passed $PROMOTED_FROM (no releases/$release/promoted.json): promote it first"
    [ "$(jq -r '[.release, .from, .manifest_sha256] | join(" ")' "$dir/promoted.json")" \
      = "$release $PROMOTED_FROM $(sha_of "$dir/manifest.json")" ] \
      || die "releases/$release/promoted.json does not promote this manifest from $PROMOTED_FROM"
  fi
  get "$BUCKET" "releases/$release/lambda-s3-key" "$dir/lambda-s3-key" \
    || die "release $release has no signed Lambda zip in $ENV_NAME"
  get "$BUCKET" "orders-api/$release/orders-api.tar.gz" "$dir/orders-api.tar.gz" \
    || die "release $release has no orders-api.tar.gz in $ENV_NAME"
  get "$BUCKET" "portal/$release/portal.tar.gz" "$dir/portal.tar.gz" \
    || die "release $release has no portal.tar.gz in $ENV_NAME"
  get "$BUCKET" "lambda/$release/bootstrap.zip" "$dir/bootstrap.zip" \
    || die "release $release has no bootstrap.zip in $ENV_NAME"
  verify_dir "$dir"
  mkdir -p "$dir/orders-api" "$dir/portal"
  tar -xzf "$dir/orders-api.tar.gz" -C "$dir/orders-api"
  tar -xzf "$dir/portal.tar.gz" -C "$dir/portal"
}

reads_version() { # <manifest> <version>: does the release's dispatcher read that version?
  jq -e --argjson v "$2" '.message.reads | index($v) != null' "$1" >/dev/null
}

# expand, contract or none: what the release's migrations not in <live manifest> do.
schema_change() { # <candidate manifest> [<live manifest>]
  local counts expand contract
  counts=$(jq -r --slurpfile live "${2:-/dev/null}" '
    ($live[0].migrations // [] | map(.name)) as $have
    | [.migrations[] | select(.name as $n | $have | index($n) | not)]
    | "\(map(select(.contract | not)) | length) \(map(select(.contract)) | length)"' "$1")
  read -r expand contract <<<"$counts"
  if [ "$expand" -gt 0 ] && [ "$contract" -gt 0 ]; then
    die "release $(jq -r .release "$1") brings $expand expand and $contract contract migrations: ship the contract migrations in a later release"
  elif [ "$contract" -gt 0 ]; then
    echo contract
  elif [ "$expand" -gt 0 ]; then
    echo expand
  else
    echo none
  fi
}

PS_ARGS=()
ps_args() {
  [ -n "${PLANETSCALE_ORG:-}" ] || die "set PLANETSCALE_ORG (and the PlanetScale service token)"
  PS_ARGS=(--org "$PLANETSCALE_ORG" --database "$PS_DATABASE")
}

propose() { # <release> <migrate>: prints the deploy request's number, nothing on no change
  local release=$1 migrate=$2 dsn
  ps_args
  log "schema: branch release-$release from main, the release's migrations, deploy request"
  dsn=$(run_out '<branch-dsn>' "$migrate" branch create "${PS_ARGS[@]}" \
    --branch "release-$release" --from main)
  DSN=$dsn run "$migrate" >&2
  run_out '<deploy-request>' "$migrate" deploy-request "${PS_ARGS[@]}" \
    --branch "release-$release" --into main --no-deploy
}

# The schema step: qa-like environments migrate their branch; promoted ones deploy the request.
apply_schema() { # <release> <migrate>
  local release=$1 migrate=$2 number
  if [ -z "$PROMOTED_FROM" ]; then
    [ -n "${DSN:-}" ] || die "set DSN (the connection string of $ENV_NAME's database branch)"
    log "schema: migrate on $ENV_NAME's branch"
    run "$migrate" >&2
    return
  fi
  ps_args
  case "$DEPLOY_REQUEST" in
    none) number="" ;;
    "") number=$(propose "$release" "$migrate") ;;
    *) number=$DEPLOY_REQUEST ;;
  esac
  if [ -n "$number" ]; then
    log "schema: deploy request #$number into main"
    run "$migrate" deploy-request "${PS_ARGS[@]}" --number "$number" >&2
  else
    log "schema: no change to deploy"
  fi
  run "$migrate" branch delete "${PS_ARGS[@]}" --branch "release-$release" >&2
}

set_lambda() { # <signed key> <release>
  log "Lambda $FUNCTION -> release $2 ($1)"
  run aws lambda update-function-code --region "$AWS_REGION" --function-name "$FUNCTION" \
    --s3-bucket "$BUCKET" --s3-key "$1" --query CodeSha256 --output text >&2
  run aws lambda wait function-updated-v2 --region "$AWS_REGION" --function-name "$FUNCTION"
}

publish_portal() { # <dir with portal/>
  export_output portal_env
  run "$HERE/publish-portal.sh" --dist "$1/portal"
}

record_live() { # <release> <previous> <lambda release>
  jq -n --arg release "$1" --arg previous "$2" --arg lambda "$3" --arg at "$(now)" \
    '{release: $release, previous: $previous, lambda: $lambda, at: $at}' >"$WORK/live.json"
  put "$WORK/live.json" releases/live.json
}

smoke() {
  local error
  log "smoke: an empty batch through the Lambda, /openapi.json through CloudFront"
  error=$(run_out None aws lambda invoke --region "$AWS_REGION" --function-name "$FUNCTION" \
    --cli-binary-format raw-in-base64-out --payload '{"Records":[]}' \
    --query FunctionError --output text "$WORK/invoke.json")
  [ "$error" = None ] || die "smoke: the Lambda failed an empty batch ($error)"
  [ -n "$PORTAL_ORIGIN" ] || die "infra/envs/$ENV_NAME has no portal_url output"
  run curl -fsS -o /dev/null --retry 5 --retry-all-errors "$PORTAL_ORIGIN/openapi.json" \
    || die "smoke: $PORTAL_ORIGIN/openapi.json does not answer"
}

cmd_deploy() {
  local release=$2 dir="$WORK/release" live="" live_dir="$WORK/live" lambda_live="" change
  local writes
  valid_release "$release"
  load_env "$1"
  fetch_release "$release" "$dir"
  if get "$BUCKET" releases/live.json "$WORK/live-record.json"; then
    live=$(jq -r .release "$WORK/live-record.json")
    lambda_live=$(jq -r '.lambda // .release' "$WORK/live-record.json")
    [ "$live" != "$release" ] || die "release $release is already live in $ENV_NAME"
    mkdir -p "$live_dir"
    get "$BUCKET" "releases/$lambda_live/manifest.json" "$live_dir/manifest.json" \
      || die "the live release $lambda_live has no manifest in $ENV_NAME"
    # Readers before writers: the new dispatcher must read what the live API writes now and
    # what the queue already holds.
    writes=$(jq -r .message.writes "$live_dir/manifest.json")
    reads_version "$dir/manifest.json" "$writes" \
      || die "release $release's dispatcher reads message versions $(jq -c .message.reads "$dir/manifest.json"), but $lambda_live writes version $writes: ship a release that reads both first"
    get "$BUCKET" "releases/$live/manifest.json" "$live_dir/api-manifest.json" \
      || die "the live release $live has no manifest in $ENV_NAME"
    change=$(schema_change "$dir/manifest.json" "$live_dir/api-manifest.json")
  else
    log "$ENV_NAME has no live release yet"
    change=$(schema_change "$dir/manifest.json")
  fi
  log "deploying $release to $ENV_NAME (live: ${live:-none}; schema: $change)"

  if [ "$change" = expand ]; then apply_schema "$release" "$dir/orders-api/bin/migrate"; fi

  log "terraform apply of infra/envs/$ENV_NAME"
  TF_VAR_lambda_s3_key=$(cat "$dir/lambda-s3-key") run terraform -chdir="$REPO/infra/envs/$ENV_NAME" \
    apply -input=false -auto-approve >&2

  # If the API cutover fails, the Lambda goes back too, when the live one reads what the new
  # one may have written meanwhile (rate-limited deliveries are requeued in its version).
  if [ -n "$lambda_live" ] \
    && reads_version "$live_dir/manifest.json" "$(jq -r .message.writes "$dir/manifest.json")" \
    && get "$BUCKET" "releases/$lambda_live/lambda-s3-key" "$live_dir/lambda-s3-key"; then
    LAMBDA_FALLBACK_KEY=$(cat "$live_dir/lambda-s3-key")
  fi
  set_lambda "$(cat "$dir/lambda-s3-key")" "$release"

  export_output bluegreen_env
  run "$HERE/bluegreen.sh" deploy "$release"
  LAMBDA_FALLBACK_KEY=""
  record_live "$release" "$live" "$release"
  smoke
  publish_portal "$dir"
  if [ "$change" = contract ]; then apply_schema "$release" "$dir/orders-api/bin/migrate"; fi

  jq -n --arg release "$release" --arg env "$ENV_NAME" --arg at "$(now)" \
    --arg manifest "$(sha_of "$dir/manifest.json")" --slurpfile m "$dir/manifest.json" \
    '{release: $release, env: $env, manifest_sha256: $manifest, tree: $m[0].tree,
      commit: $m[0].commit, passed_at: $at}' >"$WORK/passed.json"
  put "$WORK/passed.json" "releases/$release/passed-$ENV_NAME.json"
  printf '%s\n' "$release" >"$WORK/by-tree"
  put "$WORK/by-tree" "releases/by-tree/$(jq -r .tree "$dir/manifest.json")"
  log "done: $release is live in $ENV_NAME and passed"
}

cmd_rollback() {
  local live previous lambda_live lambda_after writes dir="$WORK/previous"
  load_env "$1"
  get "$BUCKET" releases/live.json "$WORK/live-record.json" || die "$ENV_NAME has no live release"
  live=$(jq -r .release "$WORK/live-record.json")
  previous=$(jq -r '.previous // ""' "$WORK/live-record.json")
  lambda_live=$(jq -r '.lambda // .release' "$WORK/live-record.json")
  [ -n "$previous" ] || die "$ENV_NAME has no previous release to go back to"
  # The previous release was promoted here when it was deployed; no promotion check again.
  PROMOTED_FROM="" fetch_release "$previous" "$dir"
  mkdir -p "$WORK/lambda"
  get "$BUCKET" "releases/$lambda_live/manifest.json" "$WORK/lambda/manifest.json" \
    || die "the live Lambda's release $lambda_live has no manifest"
  log "rolling $ENV_NAME back from $live to $previous"

  # Writers before readers: the API goes back first, so the dispatcher live meanwhile reads
  # what it writes (the deploy of $live checked that it reads $previous's version).
  export_output bluegreen_env
  run "$HERE/bluegreen.sh" rollback

  writes=$(jq -r .message.writes "$WORK/lambda/manifest.json")
  lambda_after=$lambda_live
  if [ "$lambda_live" = "$previous" ]; then
    log "the Lambda already runs $previous"
  elif reads_version "$dir/manifest.json" "$writes"; then
    set_lambda "$(cat "$dir/lambda-s3-key")" "$previous"
    lambda_after=$previous
  else
    log "the Lambda stays on $lambda_live: $previous's dispatcher cannot read message version $writes, which the queue may still hold"
  fi
  record_live "$previous" "$live" "$lambda_after"
  publish_portal "$dir"
  log "done: $previous is live in $ENV_NAME (Lambda: $lambda_after); the schema stays as it is"
}

cmd_status() {
  load_env "$1"
  if get "$BUCKET" releases/live.json "$WORK/live-record.json"; then
    jq -r '"release: \(.release)\nprevious: \(.previous)\nlambda: \(.lambda)\nsince: \(.at)"' \
      "$WORK/live-record.json"
  else
    echo "release: none"
  fi
  export_output bluegreen_env
  "$HERE/bluegreen.sh" status
}

on_exit() {
  local status=$?
  if [ "$status" -ne 0 ] && [ -n "$LAMBDA_FALLBACK_KEY" ]; then
    log "the API cutover failed: the Lambda goes back to $LAMBDA_FALLBACK_KEY"
    set_lambda "$LAMBDA_FALLBACK_KEY" previous || true
  fi
  rm -rf "$WORK"
  exit "$status"
}

main() {
  local command="" args=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --deploy-request) DEPLOY_REQUEST=${2:?--deploy-request needs a value}; shift 2 ;;
      --dry-run) DRY_RUN=true; shift ;;
      -h | --help) usage ;;
      -*) die "unknown option $1 (see --help)" ;;
      *)
        if [ -z "$command" ]; then command=$1; else args+=("$1"); fi
        shift
        ;;
    esac
  done
  [ -z "$DEPLOY_REQUEST" ] || [[ $DEPLOY_REQUEST =~ ^([0-9]+|none)$ ]] \
    || die "--deploy-request must be a number or none"
  trap on_exit EXIT
  case "$command ${#args[@]}" in
    "build 0") cmd_build ;;
    "publish 1") cmd_publish "${args[@]}" ;;
    "resolve 0") cmd_resolve ;;
    "promote 2") cmd_promote "${args[@]}" ;;
    "propose 2")
      valid_release "${args[1]}"
      load_env "${args[0]}"
      fetch_release "${args[1]}" "$WORK/release"
      propose "${args[1]}" "$WORK/release/orders-api/bin/migrate"
      ;;
    "deploy 2") cmd_deploy "${args[@]}" ;;
    "rollback 1") cmd_rollback "${args[@]}" ;;
    "status 1") cmd_status "${args[@]}" ;;
    " 0") usage ;;
    *) die "usage: release.sh [options] build | publish <env> | resolve | promote <env> <release> | propose <env> <release> | deploy <env> <release> | rollback <env> | status <env>" ;;
  esac
}

main "$@"
