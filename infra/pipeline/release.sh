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
#   releases/<release>/rejected-<env>.json  the release was rolled back here: its pass is
#                                         withdrawn (by-tree deleted) until a deploy passes again
#   releases/<release>/promoted.json      (prod) copied from the environment it passed, checked
#   releases/live.json                    {release, previous, lambda}: what runs here now
#
#   release.sh build
#       build the release of HEAD into dist/: binaries, Lambda zip, portal, manifest. Refuses a
#       checkout with any change, untracked files included (the binary embeds every .sql of
#       migrations/), and a migration file mixing contract statements (a drop marked with a
#       `-- contract: <reason>` comment, as `migrate lint` reads it) with others
#   release.sh publish <env>
#       upload dist/ to the environment's bucket and sign the Lambda zip (qa: the environment
#       that takes builds; one with BG_PROMOTED_FROM takes promoted releases only). A release
#       already there with the same SHA-256s is left as it is; with others it is refused
#   release.sh resolve
#       print the release that passed the source environment with HEAD's tree (a merge into
#       main carries the tree QA ran, not its commit); a release rejected there is refused
#   release.sh promote <env> <release>
#       copy a release that passed the source environment, and was not rejected there since,
#       into <env>, checking every SHA-256 against the manifest that passed, sign its Lambda
#       zip, write promoted.json
#   release.sh propose <env> <release>
#       (PlanetScale) branch release-<release> from main, apply the release's migrations with its
#       own migrate, open the deploy request into main; prints its number, or nothing when there
#       is no change (the branch is then deleted); a failing step opens no request
#   release.sh deploy <env> <release>
#       1. refuse a release not published (or, with BG_PROMOTED_FROM, not promoted, or rejected
#          in the source environment since) here, one whose dispatcher cannot read the message
#          version the live API's release writes or the one the live Lambda's release writes,
#          and one bringing expand and contract migrations together
#       2. expand: the release's migrations, when they only add (qa: migrate on its branch;
#          prod: the deploy request)
#       3. terraform apply of the environment
#       4. the Lambda (the reader of queue messages) to the release's signed zip
#       5. the API (the writer): bluegreen.sh deploy <release>; a failure puts the Lambda back
#       6. record live.json; smoke: an empty batch through the Lambda, /openapi.json through
#          CloudFront and the ALB
#       7. the portal's bundle (publish-portal.sh --dist)
#       8. contract: the release's migrations, when they drop something, once nothing older runs
#       9. record passed-<env>.json and by-tree/<tree>, withdraw an earlier rejected-<env>.json
#      10. (with BG_PROMOTED_FROM) delete the PlanetScale branch release-<release>
#       Deploying the release live.json names (a deploy that failed after its cutover) resumes
#       at step 6's smoke: smoke, portal, contract, pass record.
#   release.sh rollback <env>
#       refuse unless the API carrying the traffic runs the release live.json names (a deploy
#       that stopped midway: see status); write rejected-<env>.json for that release and delete
#       its by-tree record; then the API back to the previous release (bluegreen.sh rollback
#       <previous>, which installs it where the other colour has another release) first, then
#       the Lambda, only if the previous dispatcher reads the message versions the rolled-back
#       release and the live Lambda write, then the previous portal; schema stays
#       (expand-compatible)
#   release.sh status <env>
#       live.json and the blue/green status (weights, health, each colour's installed release)
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
remove() { # <key> in this environment's bucket (no error when it is not there)
  run aws s3 rm --region "$AWS_REGION" --only-show-errors "s3://$BUCKET/$1" >&2
}

# The answer of a failed head-object: 1 when the object does not exist; any other error (a
# denial, the network) is no answer, and dies.
absent_or_die() { # <s3 url> <stderr of head-object>
  case "$2" in *"(404)"* | *"Not Found"*) return 1 ;; esac
  die "cannot tell whether $1 exists: $2"
}
exists() { # <bucket> <key>: 0 when the object exists, 1 when it does not
  local err
  err=$(aws s3api head-object --region "$AWS_REGION" --bucket "$1" --key "$2" 2>&1 >/dev/null) \
    && return 0
  absent_or_die "s3://$1/$2" "$err"
}

# Runs an AWS CLI call as the source environment's release-reader role when one is given.
source_aws() { # <aws args...>
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
    AWS_ACCESS_KEY_ID=$id AWS_SECRET_ACCESS_KEY=$secret AWS_SESSION_TOKEN=$token aws "$@"
  else
    aws "$@"
  fi
}
# Reads from the source environment's bucket; fails quietly when the object is missing.
source_get() { # <key> <file>
  source_aws s3 cp --region "$AWS_REGION" --only-show-errors "s3://$SOURCE_BUCKET/$1" "$2" 2>/dev/null
}
source_exists() { # <key>: 0 when it exists in the source bucket, 1 when it does not
  local err
  err=$(source_aws s3api head-object --region "$AWS_REGION" --bucket "$SOURCE_BUCKET" --key "$1" \
    2>&1 >/dev/null) && return 0
  absent_or_die "s3://$SOURCE_BUCKET/$1" "$err"
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

# Every migration of migrations/ and whether it is a contract: [{name, contract}]. A statement
# is a contract statement when it only drops (DROP ..., or ALTER TABLE whose every clause is a
# DROP) and carries the marker `migrate lint` reads (crates/migrations/src/lint.rs): a comment
# (`-- `, `#`, `/* */`; not inside a string or a quoted identifier) between the previous `;`
# and its first DROP whose text starts with `contract:` and gives a reason. A file is a contract when
# all its statements are; a file mixing contract statements with others, or a marked statement
# that does more than drop, is refused: its expand part would run only after the cutover.
migrations_json() {
  python3 - "$REPO"/migrations/*.sql <<'PY'
import json, os, sys

def is_word(ch):
    return not ch.isascii() or ch.isalnum() or ch in "_$"

def lex(text):
    tokens, comments, i, n = [], [], 0, len(text)
    while i < n:
        c, nxt = text[i], text[i + 1] if i + 1 < n else ""
        if c.isspace():
            i += 1
        elif c == "#" or (c == "-" and nxt == "-" and (i + 2 >= n or text[i + 2].isspace())):
            end = text.find("\n", i)
            end = n if end < 0 else end
            comments.append((i, text[i + (1 if c == "#" else 2):end]))
            i = end
        elif c == "/" and nxt == "*":
            end = text.find("*/", i + 2)
            end = n if end < 0 else end
            comments.append((i, text[i + 2:end]))
            i = min(end + 2, n)
        elif c in "'\"`":
            j = i + 1
            while j < n:
                if text[j] == "\\" and c != "`":
                    j += 2
                elif text[j] == c:
                    if j + 1 < n and text[j + 1] == c:
                        j += 2
                    else:
                        j += 1
                        break
                else:
                    j += 1
            tokens.append((i, "str", text[i:min(j, n)]))
            i = min(j, n)
        elif is_word(c):
            j = i
            while j < n and is_word(text[j]):
                j += 1
            tokens.append((i, "word", text[i:j].lower()))
            i = j
        else:
            tokens.append((i, "punct", c))
            i += 1
    return tokens, comments

def is_marker(text):
    text = text.strip()
    return text[:9].lower() == "contract:" and text[9:].strip() != ""

def word(tokens, i, *words):
    return i < len(tokens) and tokens[i][1] == "word" and tokens[i][2] in words

def only_drops(tokens):
    if word(tokens, 0, "drop"):
        return True
    if not word(tokens, 0, "alter"):
        return False
    at = next((i for i in range(1, 4) if word(tokens, i, "table")), None)
    if at is None:
        return False
    at += 1
    if word(tokens, at, "if") and word(tokens, at + 1, "exists"):
        at += 2
    at += 1  # the table's name, maybe qualified
    while at + 1 < len(tokens) and tokens[at][2] == ".":
        at += 2
    clauses, depth, current = [], 0, []
    for token in tokens[at:]:
        if token[2] == "(":
            depth += 1
        elif token[2] == ")":
            depth -= 1
        if token[2] == "," and depth == 0:
            clauses.append(current)
            current = []
        else:
            current.append(token)
    clauses.append(current)
    return all(word(clause, 0, "drop") for clause in clauses)

def kinds(text):
    tokens, comments = lex(text)
    start, current = 0, []
    for token in tokens + [(len(text), "punct", ";")]:
        if token[2] != ";" or token[1] != "punct":
            current.append(token)
            continue
        if current:
            # As the lint: the marker comes before the DROP (anywhere, in a statement without one).
            limit = next((t[0] for t in current if t[1] == "word" and t[2] == "drop"), token[0])
            marked = any(start <= offset < limit and is_marker(body) for offset, body in comments)
            if not marked:
                yield "other", current[0][0]
            elif only_drops(current):
                yield "contract", current[0][0]
            else:
                yield "marked-other", current[0][0]
        start, current = token[0] + 1, []

out, bad = [], []
for path in sys.argv[1:]:
    if not os.path.isfile(path):
        continue
    with open(path, encoding="utf-8") as f:
        text = f.read()
    found = list(kinds(text))
    name = os.path.basename(path)
    line = lambda offset: text.count("\n", 0, offset) + 1
    for kind, offset in found:
        if kind == "marked-other":
            bad.append(f"migrations/{name}:{line(offset)}: a statement marked `contract:` does more than drop")
    if {"contract", "other"} <= {kind for kind, _ in found}:
        first = next(offset for kind, offset in found if kind == "other")
        bad.append(f"migrations/{name}:{line(first)}: a statement that is not a marked drop, in a file of contract statements")
    out.append({"name": name, "contract": bool(found) and all(kind == "contract" for kind, _ in found)})
for message in bad:
    print(message, file=sys.stderr)
if bad:
    sys.exit(1)
print(json.dumps(out, separators=(",", ":")))
PY
}

cmd_build() {
  local release commit tree migrations
  ! $DRY_RUN || die "build has no dry run: it only writes dist/ and target/"
  [ -z "$(git -C "$REPO" status --porcelain --untracked-files=all)" ] \
    || die "the checkout has changes or untracked files: a release is exactly one commit"
  migrations=$(migrations_json) \
    || die "a migration file mixes contract statements with others: put the contract (the marked drops) in a file of its own, in a later release than what it stops using"
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
    --argjson message "$(message_versions)" --argjson migrations "$migrations" '
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
# A release is built once: when its manifest is already here, the same SHA-256s make this a
# no-op (a retry) and others are refused (new bytes would not be the ones that passed).
upload_release() {
  local dir=$1 release=$2 artifact version job key
  verify_dir "$dir"
  if exists "$BUCKET" "releases/$release/manifest.json"; then
    get "$BUCKET" "releases/$release/manifest.json" "$WORK/published.json" \
      || die "cannot read releases/$release/manifest.json in $BUCKET"
    [ "$(jq -cS .artifacts "$WORK/published.json")" = "$(jq -cS .artifacts "$dir/manifest.json")" ] \
      || die "release $release is already in $BUCKET with other bytes: a release is built once (deploy the published one: release.sh deploy $ENV_NAME $release)"
    log "release $release is already in $BUCKET with these SHA-256s: nothing to upload"
    return 0
  fi
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
  local tree release
  tree=$(git -C "$REPO" rev-parse 'HEAD^{tree}')
  source_get "releases/by-tree/$tree" "$WORK/by-tree" \
    || die "no release with HEAD's tree ($tree) passed the source environment: push this tree to qa first"
  release=$(cat "$WORK/by-tree")
  valid_release "$release"
  refuse_rejected "$release"
  printf '%s\n' "$release"
}

# Refuses a release rolled back in the source environment (rejected-<env>.json there).
refuse_rejected() { # <release>
  local dir env
  for dir in "$REPO"/infra/envs/*/; do
    env=$(basename "$dir")
    [ "$env" != test ] || continue
    if source_exists "releases/$1/rejected-$env.json"; then
      die "release $1 was rolled back in $env (releases/$1/rejected-$env.json in $SOURCE_BUCKET): it may not go further"
    fi
  done
}

cmd_promote() {
  local release=$2 dir="$WORK/release" artifact
  valid_release "$release"
  load_env "$1"
  [ -n "$PROMOTED_FROM" ] || die "$ENV_NAME takes builds (release.sh publish), not promotions"
  mkdir -p "$dir"
  refuse_rejected "$release"
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

drop_branch() { # <release> <migrate>: deletes release-<release> (no error when it is gone)
  ps_args
  run "$2" branch delete "${PS_ARGS[@]}" --branch "release-$1" >&2
}

propose() { # <release> <migrate>: prints the deploy request's number, nothing on no change
  local release=$1 migrate=$2 dsn number
  ps_args
  log "schema: branch release-$release from main, the release's migrations, deploy request"
  dsn=$(run_out '<branch-dsn>' "$migrate" branch create "${PS_ARGS[@]}" \
    --branch "release-$release" --from main) \
    || die "cannot create the PlanetScale branch release-$release"
  if ! DSN=$dsn run "$migrate" >&2; then
    drop_branch "$release" "$migrate" \
      || warn "release-$release could not be deleted: delete it with migrate branch delete"
    die "the release's migrations failed on release-$release: no deploy request"
  fi
  number=$(run_out '<deploy-request>' "$migrate" deploy-request "${PS_ARGS[@]}" \
    --branch "release-$release" --into main --no-deploy) \
    || die "the deploy request from release-$release failed"
  if [ -z "$number" ]; then
    log "schema: no change: the branch release-$release goes"
    drop_branch "$release" "$migrate"
  else
    printf '%s\n' "$number"
  fi
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
  drop_branch "$release" "$migrate"
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

# The release the API carrying all traffic runs, as its colour's deploy agent reports it.
live_api_release() {
  local status colour version
  export_output bluegreen_env
  status=$("$HERE/bluegreen.sh" status) \
    || die "cannot read the blue/green status of $ENV_NAME: see release.sh status $ENV_NAME"
  colour=$(sed -nE 's/^live: //p' <<<"$status")
  [[ $colour =~ ^(blue|green)$ ]] \
    || die "traffic is split between blue and green in $ENV_NAME: see release.sh status $ENV_NAME"
  version=$(awk -v colour="$colour" '$1 == colour {
    for (i = 2; i <= NF; i++) if ($i ~ /^version=/) { sub(/^version=/, "", $i); print $i } }' <<<"$status")
  [ -n "$version" ] || die "no installed release reported for $colour: see release.sh status $ENV_NAME"
  printf '%s\n' "$version"
}

# Readers before writers: the new dispatcher must read what <who> writes.
check_reads() { # <candidate manifest> <who> <its release> <its manifest>
  local writes
  writes=$(jq -r .message.writes "$4")
  reads_version "$1" "$writes" \
    || die "release $(jq -r .release "$1")'s dispatcher reads message versions $(jq -c .message.reads "$1"), but $2 $3 writes version $writes: ship a release that reads both first"
}

pass_record() { # <release> <dir>
  local release=$1 dir=$2
  jq -n --arg release "$release" --arg env "$ENV_NAME" --arg at "$(now)" \
    --arg manifest "$(sha_of "$dir/manifest.json")" --slurpfile m "$dir/manifest.json" \
    '{release: $release, env: $env, manifest_sha256: $manifest, tree: $m[0].tree,
      commit: $m[0].commit, passed_at: $at}' >"$WORK/passed.json"
  put "$WORK/passed.json" "releases/$release/passed-$ENV_NAME.json"
  printf '%s\n' "$release" >"$WORK/by-tree"
  put "$WORK/by-tree" "releases/by-tree/$(jq -r .tree "$dir/manifest.json")"
  # A rejection (an earlier rollback here) is withdrawn last: until then it still holds.
  remove "releases/$release/rejected-$ENV_NAME.json"
}

# Withdraws a rolled-back release's pass here: rejected-<env>.json, and its by-tree record goes
# (resolve and promote refuse it; a deploy that passes again withdraws the rejection).
reject() { # <release> <why>
  local release=$1 tree
  jq -n --arg release "$release" --arg env "$ENV_NAME" --arg why "$2" --arg at "$(now)" \
    '{release: $release, env: $env, reason: $why, rejected_at: $at}' >"$WORK/rejected.json"
  put "$WORK/rejected.json" "releases/$release/rejected-$ENV_NAME.json"
  get "$BUCKET" "releases/$release/manifest.json" "$WORK/rejected-manifest.json" \
    || die "the release $release has no manifest in $ENV_NAME"
  tree=$(jq -r .tree "$WORK/rejected-manifest.json")
  if get "$BUCKET" "releases/by-tree/$tree" "$WORK/rejected-by-tree" \
    && [ "$(cat "$WORK/rejected-by-tree")" = "$release" ]; then
    remove "releases/by-tree/$tree"
  fi
  log "release $release is rejected in $ENV_NAME: its pass is withdrawn"
}

cmd_deploy() {
  local release=$2 dir="$WORK/release" live="" previous="" live_dir="$WORK/live" lambda_live=""
  local change resume=false api
  valid_release "$release"
  load_env "$1"
  fetch_release "$release" "$dir"
  if get "$BUCKET" releases/live.json "$WORK/live-record.json"; then
    live=$(jq -r .release "$WORK/live-record.json")
    previous=$(jq -r '.previous // ""' "$WORK/live-record.json")
    lambda_live=$(jq -r '.lambda // .release' "$WORK/live-record.json")
    mkdir -p "$live_dir"
    if [ "$live" = "$release" ]; then resume=true; fi
  fi

  if $resume; then
    # The cutover is done (live.json is written after it): what failed came after it.
    [ "$lambda_live" = "$release" ] \
      || die "release $release is live in $ENV_NAME but the Lambda runs $lambda_live (a rollback kept it): deploy a newer release"
    api=$(live_api_release)
    [ "$api" = "$release" ] \
      || die "live.json names $release but the live API in $ENV_NAME runs $api: see release.sh status $ENV_NAME"
    if [ -n "$previous" ] && get "$BUCKET" "releases/$previous/manifest.json" "$live_dir/api-manifest.json"; then
      change=$(schema_change "$dir/manifest.json" "$live_dir/api-manifest.json")
    else
      change=$(schema_change "$dir/manifest.json")
    fi
    log "release $release is already live in $ENV_NAME: resuming after its cutover (smoke, portal, schema: $change, pass record)"
  else
    if [ -n "$PROMOTED_FROM" ] && [ -n "$SOURCE_BUCKET" ]; then refuse_rejected "$release"; fi
    if [ -n "$live" ]; then
      get "$BUCKET" "releases/$lambda_live/manifest.json" "$live_dir/manifest.json" \
        || die "the live Lambda's release $lambda_live has no manifest in $ENV_NAME"
      get "$BUCKET" "releases/$live/manifest.json" "$live_dir/api-manifest.json" \
        || die "the live release $live has no manifest in $ENV_NAME"
      # The live API's release writes until the cutover; the live Lambda's release requeues
      # what it cannot deliver yet in its own version. After a rollback that kept the newer
      # Lambda these are two releases.
      check_reads "$dir/manifest.json" "the live API's release" "$live" "$live_dir/api-manifest.json"
      check_reads "$dir/manifest.json" "the live Lambda's release" "$lambda_live" "$live_dir/manifest.json"
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
    # Exits 0 once all traffic is on the new colour, whatever happens to the old one after.
    run "$HERE/bluegreen.sh" deploy "$release"
    LAMBDA_FALLBACK_KEY=""
    record_live "$release" "$live" "$release"
  fi

  smoke
  publish_portal "$dir"
  if [ "$change" = contract ]; then apply_schema "$release" "$dir/orders-api/bin/migrate"; fi
  pass_record "$release" "$dir"
  # propose leaves the branch only with a deploy request; whatever happened, it goes now.
  if [ -n "$PROMOTED_FROM" ]; then drop_branch "$release" "$dir/orders-api/bin/migrate"; fi
  log "done: $release is live in $ENV_NAME and passed"
}

cmd_rollback() {
  local live previous lambda_live lambda_after dir="$WORK/previous" api
  load_env "$1"
  get "$BUCKET" releases/live.json "$WORK/live-record.json" || die "$ENV_NAME has no live release"
  live=$(jq -r .release "$WORK/live-record.json")
  previous=$(jq -r '.previous // ""' "$WORK/live-record.json")
  lambda_live=$(jq -r '.lambda // .release' "$WORK/live-record.json")
  [ -n "$previous" ] || die "$ENV_NAME has no previous release to go back to"
  # live.json's previous is only right if the API runs live.json's release: a deploy that
  # stopped between its cutover and live.json would otherwise be rolled back two releases.
  api=$(live_api_release)
  [ "$api" = "$live" ] \
    || die "the live API in $ENV_NAME runs $api, but live.json names $live (a deploy or rollback stopped midway): nothing was changed; see release.sh status $ENV_NAME"
  # The previous release was promoted here when it was deployed; no promotion check again.
  PROMOTED_FROM="" fetch_release "$previous" "$dir"
  mkdir -p "$WORK/lambda"
  get "$BUCKET" "releases/$lambda_live/manifest.json" "$WORK/lambda/manifest.json" \
    || die "the live Lambda's release $lambda_live has no manifest"
  get "$BUCKET" "releases/$live/manifest.json" "$WORK/lambda/api-manifest.json" \
    || die "the live release $live has no manifest"
  log "rolling $ENV_NAME back from $live to $previous"
  reject "$live" "rolled back to $previous"

  # Writers before readers: the API goes back first, so the dispatcher live meanwhile reads
  # what it writes (the deploy of $live checked that it reads $previous's version). The other
  # colour gets $previous installed when it has anything else.
  export_output bluegreen_env
  run "$HERE/bluegreen.sh" rollback "$previous"

  lambda_after=$lambda_live
  if [ "$lambda_live" = "$previous" ]; then
    log "the Lambda already runs $previous"
  elif reads_version "$dir/manifest.json" "$(jq -r .message.writes "$WORK/lambda/manifest.json")" \
    && reads_version "$dir/manifest.json" "$(jq -r .message.writes "$WORK/lambda/api-manifest.json")"; then
    set_lambda "$(cat "$dir/lambda-s3-key")" "$previous"
    lambda_after=$previous
  else
    log "the Lambda stays on $lambda_live: $previous's dispatcher cannot read every message version $live and $lambda_live wrote, which the queue may still hold"
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
    set_lambda "$LAMBDA_FALLBACK_KEY" previous \
      || warn "the Lambda could not go back and still runs this release's code: set it to $LAMBDA_FALLBACK_KEY"
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
