#!/usr/bin/env bash
# Tests of infra/pipeline/release.sh without AWS, PlanetScale, cargo or npm: releases of a small
# git repository walk from commit to production against stubs (stub/: aws with S3, Signer,
# Lambda, ELB and SSM; terraform; cargo, whose binaries log their calls; npm; curl), running the
# real bluegreen.sh and publish-portal.sh:
# - build: one manifest naming the commit, its tree, each artifact's SHA-256, the message
#   versions and the migrations; untracked files and a migration file mixing contract
#   statements with others are refused;
# - built once: publishing a release again is a no-op with the same bytes, refused with others;
# - promotion: production takes only a release that passed QA, found by the tree a merge into
#   main carries, copied as the release-reader role with every SHA-256 checked; a release QA
#   never ran, a tree QA never ran, an artifact changed in QA's bucket and a release QA rolled
#   back are refused;
# - schema: a failing migration on the release branch opens and deploys no request; a release
#   branch without a deploy request is deleted by propose, and by every production deploy;
# - order: expand migrations, terraform, the Lambda, the API, smoke, portal, then contract
#   migrations; a release mixing expand and contract is refused;
# - message versions: a dispatcher that cannot read what the live API's release or the live
#   Lambda's release writes is refused; rollback moves the API first and keeps a Lambda the
#   previous release could not follow; a failed cutover puts the Lambda back and stops the idle
#   colour;
# - rollback: refused when the live API does not run live.json's release; installs the previous
#   release where the other colour has none; withdraws the rolled-back release's pass;
# - after the cutover: an old colour that does not stop still completes the deploy; a deploy
#   that failed after its cutover is resumed by deploying the release again;
# - a dry run changes nothing.
# Prints "N passed, N failed" and exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
script="$here/../pipeline/release.sh"
refused_before='update-function-code|send-command'
refused_before_what='a Lambda or instance change'
# shellcheck source=infra/tests/lib.sh
. "$here/lib.sh"

readonly QA_BUCKET=mechanica-qa-artifacts-444455556666
readonly PROD_BUCKET=mechanica-prod-artifacts-111122223333
state="$work/state"
repo="$work/repo"
mkdir -p "$state/tf" "$repo"
export STUB_STATE="$state" STUB_LOG="$work/calls"
export PATH="$here/stub:$PATH"
export AWS_REGION=eu-west-1 RELEASE_REPO="$repo" RELEASE_DIST="$work/dist" \
  CARGO_TARGET_DIR="$work/target" PORTAL_WEB_DIR="$repo/web" BG_STEP_WAIT_SECONDS=0 \
  PLANETSCALE_ORG=mechanica-org
unset BG_STEPS BG_PROMOTED_FROM BG_CURRENT PORTAL_DIST RELEASE_SOURCE_BUCKET RELEASE_SOURCE_ROLE_ARN

# What `terraform output -json` gives for each environment.
outputs() { # <env> <bucket> <promoted from>
  jq -n --arg env "$1" --arg bucket "$2" --arg from "$3" '{
    artifacts_bucket: {value: $bucket},
    lambda_signing_profile_name: {value: "mechanica_\($env)_webhook_dispatch"},
    dispatch_function_name: {value: "mechanica-\($env)-webhook-dispatch"},
    portal_url: {value: "https://portal.\($env).example.com/portal/"},
    portal_env: {value: {PORTAL_BUCKET: "mechanica-\($env)-portal-1", PORTAL_DISTRIBUTION_ID: "E\($env | ascii_upcase)"}},
    bluegreen_env: {value: ({
      AWS_REGION: "eu-west-1", BG_LISTENER_ARN: "arn:listener-\($env)",
      BG_BLUE_TG_ARN: "arn:tg-\($env)-blue", BG_GREEN_TG_ARN: "arn:tg-\($env)-green",
      BG_BLUE_INSTANCE_ID: "i-\($env)-blue", BG_GREEN_INSTANCE_ID: "i-\($env)-green",
      BG_ARTIFACTS_BUCKET: $bucket} + (if $from == "" then {} else {BG_PROMOTED_FROM: $from} end))}}'
}
outputs qa "$QA_BUCKET" "" >"$state/tf/qa.json"
outputs prod "$PROD_BUCKET" qa >"$state/tf/prod.json"

# Each environment's listener, one file per environment (the stub has one: swap them in and out).
for env in qa prod; do
  printf 'arn:tg-%s-blue\t100\narn:tg-%s-green\t0\n' "$env" "$env" >"$state/weights-$env"
done
printf 'healthy\n' >"$state/health"
printf '0\n' >"$state/drain"

# --- the repository ----------------------------------------------------------------------------

git_() { git -C "$repo" -c user.name=test -c user.email=test@example.com "$@" >/dev/null 2>&1; }
mkdir -p "$repo/crates/domain/src" "$repo/migrations" "$repo/infra/pipeline" "$repo/web" \
  "$repo/infra/envs/qa" "$repo/infra/envs/prod"
message_rs() { # <writes> [<reads, e.g. 1, 2>]
  {
    printf 'pub const MESSAGE_VERSION: u32 = %s;\n' "$1"
    if [ -n "${2:-}" ]; then printf 'pub const MESSAGE_VERSIONS_READ: &[u32] = &[%s];\n' "$2"; fi
  } >"$repo/crates/domain/src/message.rs"
}
message_rs 1
printf 'create table orders (id int primary key);\n' >"$repo/migrations/0001_initial.sql"
printf '[Service]\nExecStart=/opt/mechanica/bin/orders-api\n' >"$repo/infra/pipeline/orders-api.service"
printf '{"name":"portal","private":true}\n' >"$repo/web/package.json"
printf 'dist/\n' >"$repo/.gitignore"
touch "$repo/infra/envs/qa/backend.hcl" "$repo/infra/envs/prod/backend.hcl"
git_ init -b main
git_ add -A
git_ commit -m initial
git_ checkout -b qa

commit() { # <message>: commits everything on qa, prints the release id
  git_ add -A
  git_ commit -m "$1"
  git -C "$repo" rev-parse --short=12 HEAD
}

# --- helpers -----------------------------------------------------------------------------------

# in_env <env> <args...>: runs release.sh with that environment's listener, and, for
# production, QA's bucket readable only through the release-reader role.
in_env() {
  local env=$1 status=0
  shift
  cp "$state/weights-$env" "$state/weights"
  : >"$STUB_LOG"
  if [ "$env" = prod ]; then
    STUB_SOURCE_BUCKET=$QA_BUCKET RELEASE_SOURCE_BUCKET=$QA_BUCKET \
      RELEASE_SOURCE_ROLE_ARN=arn:aws:iam::444455556666:role/mechanica-qa-release-reader \
      run_script "$@" || status=$?
  else
    DSN=mysql://qa-dev run_script "$@" || status=$?
  fi
  cp "$state/weights" "$state/weights-$env"
  return "$status"
}

line_of() { # <extended regex>: first line of the call log matching it, 0 if none
  local n
  n=$(grep -nE -- "$1" "$STUB_LOG" | head -n 1 | cut -d: -f1)
  echo "${n:-0}"
}

# expect_order <name> <regex>...: each pattern occurs in the call log, in this order.
expect_order() {
  local name=$1 previous=0 previous_pattern="" n pattern
  shift
  for pattern in "$@"; do
    n=$(line_of "$pattern")
    if [ "$n" -eq 0 ]; then
      fail "$name: no call matches '$pattern'"
      return
    elif [ "$n" -le "$previous" ]; then
      fail "$name: '$pattern' (line $n) does not come after '$previous_pattern' (line $previous)"
      return
    fi
    previous=$n
    previous_pattern=$pattern
  done
  pass "$name"
}

expect_ok() { # <name> -- <env> <args...>
  local name=$1
  shift 2
  if in_env "$@"; then
    pass "$name"
  else
    fail "$name: exited non-zero"
    sed 's/^/    /' "$work/err"
  fi
}

expect_refused() { # <name> <message part> -- <env> <args...>
  local name=$1 message=$2
  shift 3
  if in_env "$@"; then
    fail "$name: exited 0"
  elif ! grep -qF -- "$message" "$work/err"; then
    fail "$name: stderr lacks '$message'"
    sed 's/^/    /' "$work/err"
  elif grep -qE -- "$refused_before|terraform .*apply|^migrate " "$STUB_LOG"; then
    fail "$name: changed something before refusing"
  else
    pass "$name"
  fi
}

object() { cat "$state/s3/$1/$2"; }
instance_file() { cat "$state/instances/i-$1/$2" 2>/dev/null || echo none; } # <env>-<colour> <file>
# The colour of an environment's instance that has <release> installed.
colour_with() { # <env> <release>
  local colour
  for colour in blue green; do
    if [ "$(instance_file "$1-$colour" version)" = "$2" ]; then echo "$colour"; return; fi
  done
  echo none
}
changes_instances() { grep -qE 'mechanica-deploy (install|start|stop)|modify-listener' "$STUB_LOG"; }
live_field() { jq -r "$2" "$state/s3/$1/releases/live.json"; }

# build_and_qa <name> <release>: build, publish to QA and deploy there.
build_and_qa() {
  expect_ok "$1: build" -- qa build
  expect_ok "$1: publish to qa" -- qa publish qa
  expect_ok "$1: deploy to qa" -- qa deploy qa "$2"
}

# --- release 1: the first, from commit to production -------------------------------------------

printf 'create table customers (id int primary key);\n' >"$repo/migrations/0002_customers.sql"
r1=$(commit "customers")
printf 'alter table orders add column stray int null;\n' >"$repo/migrations/0099_stray.sql"
expect_refused "build: an untracked migration (the binary would embed it) is refused" \
  "untracked files" -- qa build
rm "$repo/migrations/0099_stray.sql"
expect_ok "build" -- qa build
manifest="$work/dist/manifest.json"
if [ "$(jq -r '[.release, .commit, .tree] | join(" ")' "$manifest")" \
  != "$r1 $(git -C "$repo" rev-parse HEAD) $(git -C "$repo" rev-parse 'HEAD^{tree}')" ]; then
  fail "build: the manifest names the commit and its tree ($(jq -c . "$manifest"))"
elif [ "$(jq -c .message "$manifest")" != '{"writes":1,"reads":[1]}' ]; then
  fail "build: the manifest's message versions ($(jq -c .message "$manifest"))"
elif [ "$(jq -r '.artifacts["bootstrap.zip"]' "$manifest")" != "$(sha256sum "$work/dist/bootstrap.zip" | cut -d' ' -f1)" ]; then
  fail "build: the manifest's SHA-256 of the Lambda zip"
elif [ "$(jq -c '[.migrations[] | [.name, .contract]]' "$manifest")" \
  != '[["0001_initial.sql",false],["0002_customers.sql",false]]' ]; then
  fail "build: the manifest's migrations ($(jq -c .migrations "$manifest"))"
else
  pass "build: one manifest names the commit, its tree, each artifact, message versions, migrations"
fi

expect_refused "publish: production takes no build, only promotions" "promoted from qa only" \
  -- prod publish prod
expect_ok "publish to qa" -- qa publish qa
if [ "$(object "$QA_BUCKET" "releases/$r1/lambda-s3-key")" != "signed/$r1/job-0001.zip" ] \
  || [ ! -f "$state/s3/$QA_BUCKET/signed/$r1/job-0001.zip" ]; then
  fail "publish: the Lambda zip is signed under signed/$r1/ and its key recorded"
elif [ "$(line_of "s3 cp .* s3://$QA_BUCKET/releases/$r1/manifest.json")" -lt "$(line_of "s3://$QA_BUCKET/portal/$r1/portal.tar.gz")" ]; then
  fail "publish: the manifest goes up after the artifacts"
else
  pass "publish: artifacts under the release's id, the Lambda zip signed, the manifest last"
fi

expect_refused "promote: a release QA never ran is refused" "never passed qa" -- prod promote prod "$r1"
expect_refused "deploy: production refuses a release never promoted" "never published to prod" \
  -- prod deploy prod "$r1"

expect_ok "deploy to qa (the first release there)" -- qa deploy qa "$r1"
expect_order "deploy to qa: migrate, terraform, Lambda, API, live record, smoke, portal, pass record" \
  "^migrate  DSN=mysql://qa-dev" "^terraform .*apply" "lambda update-function-code .*signed/$r1/" \
  "mechanica-deploy install $r1" "live.json s3://.*releases/live.json" "lambda invoke" "^curl .*/openapi.json" \
  "s3 sync .*mechanica-qa-portal-1/portal/assets" "releases/$r1/passed-qa.json"
if [ "$(object "$QA_BUCKET" "releases/by-tree/$(git -C "$repo" rev-parse 'HEAD^{tree}')")" != "$r1" ]; then
  fail "deploy to qa: the passing release is found by its tree"
else
  pass "deploy to qa: the passing release is found by its tree"
fi

# The pull request merges qa into main: a new commit, the same tree.
git_ checkout main
git_ merge --no-ff -m "merge qa" qa
expect_ok "resolve: main's merge commit resolves to the release QA ran" -- prod resolve
if [ "$(cat "$work/out")" = "$r1" ]; then pass "resolve: prints $r1"; else fail "resolve: printed '$(cat "$work/out")', expected $r1"; fi

expect_ok "promote to prod" -- prod promote prod "$r1"
for artifact in "orders-api/$r1/orders-api.tar.gz" "lambda/$r1/bootstrap.zip" "portal/$r1/portal.tar.gz" \
  "releases/$r1/manifest.json"; do
  if ! cmp -s "$state/s3/$QA_BUCKET/$artifact" "$state/s3/$PROD_BUCKET/$artifact"; then
    fail "promote: production's $artifact is not QA's"
    continue 2
  fi
done
pass "promote: production gets QA's exact bytes (tarball, Lambda zip, portal, manifest)"
if grep -E "s3://$QA_BUCKET" "$STUB_LOG" | grep -qvE '^aws s3 cp '; then
  fail "promote: only reads reach QA's bucket"
else
  pass "promote: QA's bucket is only read, as the release-reader role (the stub refuses anything else)"
fi

expect_ok "deploy to prod: proposes and deploys the request itself" -- prod deploy prod "$r1"
expect_order "deploy to prod: release branch, its migrations, deploy request, then terraform, Lambda, API" \
  "^migrate branch create .*--branch release-$r1 --from main" "^migrate  DSN=mysql://release-branch" \
  "^migrate deploy-request .*--into main --no-deploy" "^migrate deploy-request .*--number 42" \
  "^migrate branch delete" "^terraform .*apply" "lambda update-function-code" \
  "mechanica-deploy install $r1"
if [ "$(live_field "$PROD_BUCKET" .release)" = "$r1" ]; then pass "deploy to prod: live.json names $r1"
else fail "deploy to prod: live.json names $(live_field "$PROD_BUCKET" .release)"; fi

# --- release 2: an expand migration, the deploy request proposed before approval ----------------

git_ checkout qa
printf 'alter table orders add column note text null;\n' >"$repo/migrations/0003_note.sql"
r2=$(commit "note")
build_and_qa "release 2" "$r2"
expect_order "release 2 in qa: its expand migration before the cutover" \
  "^migrate  DSN=mysql://qa-dev" "mechanica-deploy install $r2"

git_ checkout -b hotfix main
printf 'alter table orders add column hotfix int null;\n' >"$repo/migrations/0003_hotfix.sql"
commit "hotfix" >/dev/null
expect_refused "resolve: a tree QA never ran is refused" "push this tree to qa first" -- prod resolve
git_ checkout main
git_ merge --no-ff -m "merge qa" qa
expect_ok "release 2: resolve" -- prod resolve

cp "$state/s3/$QA_BUCKET/portal/$r2/portal.tar.gz" "$work/portal-$r2.tar.gz"
printf 'changed in place\n' >>"$state/s3/$QA_BUCKET/portal/$r2/portal.tar.gz"
expect_refused "promote: an artifact changed after QA passed is refused" \
  "portal.tar.gz of release $r2 is not the one its manifest names" -- prod promote prod "$r2"
# Publishing does not repair it (the release is built once): its previous version comes back.
cp "$work/portal-$r2.tar.gz" "$state/s3/$QA_BUCKET/portal/$r2/portal.tar.gz"
git_ checkout qa
expect_ok "release 2: publish to qa again (same bytes)" -- qa publish qa
if grep -qE '^aws s3 cp --region [^ ]+ --only-show-errors /|signer start-signing-job' "$STUB_LOG"; then
  fail "publish again with the same bytes: uploaded or signed something"
else
  pass "publish again with the same bytes: a no-op"
fi
cp "$work/dist/manifest.json" "$work/manifest-$r2.json"
printf 'rebuilt\n' >>"$work/dist/bootstrap.zip"
jq --arg sha "$(sha256sum "$work/dist/bootstrap.zip" | cut -d' ' -f1)" '.artifacts["bootstrap.zip"] = $sha' \
  "$work/manifest-$r2.json" >"$work/dist/manifest.json"
expect_refused "publish: a release already published with other bytes is refused" \
  "already in $QA_BUCKET with other bytes" -- qa publish qa
if grep -qE 'signer start-signing-job|^aws s3 cp --region [^ ]+ --only-show-errors /' "$STUB_LOG"; then
  fail "publish of other bytes: uploaded something before refusing"
else
  pass "publish of other bytes: nothing uploaded"
fi
expect_ok "release 2: promote" -- prod promote prod "$r2"
expect_ok "release 2: propose" -- prod propose prod "$r2"
if [ "$(cat "$work/out")" = 42 ]; then pass "propose: prints the deploy request's number"
else fail "propose: printed '$(cat "$work/out")'"; fi

# A half-failed migrate on the release branch: no deploy request is opened or deployed.
touch "$state/migrate-fail"
if in_env prod deploy prod "$r2"; then
  fail "a failing migrate on the release branch: the deploy exited 0"
elif grep -qE '^migrate deploy-request|^terraform .*apply|update-function-code|send-command' "$STUB_LOG"; then
  fail "a failing migrate on the release branch: went on ($(grep -E '^migrate deploy-request|apply|update-function-code|send-command' "$STUB_LOG" | head -n 1))"
elif ! grep -qE "^migrate branch delete .*--branch release-$r2" "$STUB_LOG"; then
  fail "a failing migrate on the release branch: the branch stays"
else
  pass "a failing migrate on the release branch: no deploy request, nothing deployed, branch deleted"
fi
rm "$state/migrate-fail"

touch "$state/no-schema-change"
expect_ok "propose without a schema change" -- prod propose prod "$r2"
if [ -s "$work/out" ]; then
  fail "propose without a schema change: printed '$(cat "$work/out")'"
elif ! grep -qE "^migrate branch delete .*--branch release-$r2" "$STUB_LOG"; then
  fail "propose without a schema change: the branch release-$r2 stays"
else
  pass "propose without a schema change: prints nothing, deletes the branch"
fi
rm "$state/no-schema-change"
expect_ok "release 2: deploy the proposed request" -- prod --deploy-request 42 deploy prod "$r2"
expect_order "release 2 in prod: the proposed request deployed, then the cutover" \
  "^migrate deploy-request .*--number 42" "lambda update-function-code .*signed/$r2/" \
  "mechanica-deploy install $r2"
if grep -q 'no-deploy' "$STUB_LOG"; then fail "release 2 in prod: proposes again"; else pass "release 2 in prod: does not propose again"; fi

# --- release 2n: no schema change; production deletes the branch anyway ---------------------------

git_ checkout qa
printf 'portal copy\n' >"$repo/web/notes.txt"
r2n=$(commit "no schema change")
build_and_qa "release 2n" "$r2n"
git_ checkout main
git_ merge --no-ff -m "merge qa" qa
git_ checkout qa
expect_ok "release 2n: promote" -- prod promote prod "$r2n"
expect_ok "release 2n: deploy without a deploy request" -- prod --deploy-request none deploy prod "$r2n"
expect_order "release 2n in prod: no schema step, the pass, then the release branch deleted" \
  "mechanica-deploy install $r2n" "releases/$r2n/passed-prod.json" "^migrate branch delete .*--branch release-$r2n"

# --- a dry run ---------------------------------------------------------------------------------

printf 'alter table orders add column tag text null;\n' >"$repo/migrations/0004_tag.sql"
r3=$(commit "tag")
expect_ok "release 3: build" -- qa build
expect_ok "release 3: publish" -- qa publish qa
expect_ok "dry run of a deploy" -- qa --dry-run deploy qa "$r3"
if grep -qE "update-function-code|send-command|^migrate|terraform .*apply|s3 cp /|s3 sync" "$STUB_LOG"; then
  fail "dry run: changed something ($(grep -E "update-function-code|send-command|^migrate|apply|s3 cp /|s3 sync" "$STUB_LOG" | head -n 3))"
elif ! grep -qE "^DRY-RUN: .*bluegreen.sh deploy $r3" "$work/out" \
  || ! grep -qE "^DRY-RUN: aws lambda update-function-code .*signed/$r3/" "$work/out"; then
  fail "dry run: does not print the Lambda and API steps"
else
  pass "dry run: prints the Lambda and API steps, changes nothing"
fi

# --- a failed cutover puts the Lambda back -----------------------------------------------------

printf 'unhealthy\n' >"$state/health"
if BG_STEPS=10,100 in_env qa deploy qa "$r3"; then
  fail "failed cutover: exited 0"
elif [ "$(cat "$state/lambda-code")" != "signed/$r2n/job-0001.zip" ]; then
  fail "failed cutover: the Lambda runs $(cat "$state/lambda-code"), expected release $r2n's zip"
elif [ "$(live_field "$QA_BUCKET" .release)" != "$r2n" ]; then
  fail "failed cutover: live.json moved to $(live_field "$QA_BUCKET" .release)"
elif [ "$(colour_with qa "$r3")" = none ] \
  || [ "$(instance_file "qa-$(colour_with qa "$r3")" state)" != inactive ]; then
  fail "failed cutover: the idle colour with $r3 still runs it"
else
  pass "failed cutover: traffic and the Lambda stay on (or go back to) $r2n; the idle colour is stopped"
fi
printf 'healthy\n' >"$state/health"
expect_ok "release 3: deploy to qa" -- qa deploy qa "$r3"

# live.json not written after a cutover (a deploy that stopped in between): rollback must not
# take live.json's previous release for the one before the API's.
cp "$state/s3/$QA_BUCKET/releases/live.json" "$work/live-$r3.json"
jq -n --arg r "$r2n" --arg p "$r2" '{release: $r, previous: $p, lambda: $r, at: "x"}' \
  >"$state/s3/$QA_BUCKET/releases/live.json"
if in_env qa rollback qa; then
  fail "rollback when the API does not run live.json's release: exited 0"
elif ! grep -qF "see release.sh status qa" "$work/err"; then
  fail "rollback when the API does not run live.json's release: stderr lacks the pointer to status"
  sed 's/^/    /' "$work/err"
elif changes_instances || grep -qE 'update-function-code|rejected-qa' "$STUB_LOG"; then
  fail "rollback when the API does not run live.json's release: changed something"
else
  pass "rollback when the API does not run live.json's release: refused, pointing to status"
fi
cp "$work/live-$r3.json" "$state/s3/$QA_BUCKET/releases/live.json"

# --- rollback ----------------------------------------------------------------------------------

r3_tree=$(jq -r .tree "$state/s3/$QA_BUCKET/releases/$r3/manifest.json")
expect_ok "rollback in qa" -- qa rollback qa
expect_order "rollback: the rejection, then the API (the other colour has $r2n: started), then the Lambda, then the portal" \
  "releases/$r3/rejected-qa.json" "mechanica-deploy start" "lambda update-function-code .*signed/$r2n/" \
  "s3 sync .*portal/assets"
if [ "$(live_field "$QA_BUCKET" '[.release, .previous, .lambda] | join(" ")')" = "$r2n $r3 $r2n" ]; then
  pass "rollback: live.json names $r2n, previous $r3"
else
  fail "rollback: live.json is $(jq -c . "$state/s3/$QA_BUCKET/releases/live.json")"
fi
if [ ! -f "$state/s3/$QA_BUCKET/releases/$r3/rejected-qa.json" ]; then
  fail "rollback: no releases/$r3/rejected-qa.json"
elif [ -f "$state/s3/$QA_BUCKET/releases/by-tree/$r3_tree" ]; then
  fail "rollback: $r3's by-tree record stays"
else
  pass "rollback: $r3 is rejected in qa and its by-tree record is gone"
fi

# QA rejected it: production may not take it.
git_ checkout main
git_ merge --no-ff -m "merge qa" qa
expect_refused "resolve: the tree of a release QA rolled back finds nothing" "push this tree to qa first" \
  -- prod resolve
printf '%s\n' "$r3" >"$state/s3/$QA_BUCKET/releases/by-tree/$r3_tree"
expect_refused "resolve: a release QA rolled back is refused even by its by-tree record" \
  "was rolled back in qa" -- prod resolve
rm "$state/s3/$QA_BUCKET/releases/by-tree/$r3_tree"
git_ checkout qa
expect_refused "promote: a release QA rolled back is refused" "was rolled back in qa" \
  -- prod promote prod "$r3"

# A replaced instance: the other colour has no release at all.
rm "$state/instances/i-qa-$(colour_with qa "$r3")/version"
expect_ok "roll forward onto a replaced instance" -- qa rollback qa
if grep -q "mechanica-deploy install $r3" "$STUB_LOG" && [ "$(live_field "$QA_BUCKET" .release)" = "$r3" ]; then
  pass "roll forward onto a replaced instance: installs $r3 there, then switches"
else
  fail "roll forward onto a replaced instance: $(grep -c 'mechanica-deploy install' "$STUB_LOG") installs, live $(live_field "$QA_BUCKET" .release)"
fi
expect_ok "deploy of the live release: resumes after its cutover" -- qa deploy qa "$r3"
if grep -qE "mechanica-deploy install|update-function-code|terraform .*apply" "$STUB_LOG"; then
  fail "deploy of the live release: cut over again"
elif [ -f "$state/s3/$QA_BUCKET/releases/$r3/rejected-qa.json" ] \
  || [ "$(object "$QA_BUCKET" "releases/by-tree/$r3_tree")" != "$r3" ]; then
  fail "deploy of the live release: a pass again does not withdraw its rejection"
else
  pass "deploy of the live release: smoke, portal and pass again, and its rejection withdrawn"
fi

# --- message versions --------------------------------------------------------------------------

message_rs 2
r4=$(commit "messages v2 only")
expect_ok "release 4 (reads only v2): build" -- qa build
expect_ok "release 4: publish" -- qa publish qa
expect_refused "deploy: a dispatcher that cannot read the live release's messages is refused" \
  "writes version 1: ship a release that reads both first" -- qa deploy qa "$r4"

message_rs 2 "1, 2"
r5=$(commit "messages v2, reads v1")
expect_ok "release 5 (reads v1 and v2, writes v2): build" -- qa build
expect_ok "release 5: publish" -- qa publish qa
# The smoke fails after the cutover: the release is live, without a pass.
touch "$state/curl-fail"
if in_env qa deploy qa "$r5"; then
  fail "release 5: a smoke failing after the cutover fails the deploy (exited 0)"
elif [ "$(live_field "$QA_BUCKET" '[.release, .lambda] | join(" ")')" != "$r5 $r5" ] \
  || [ -f "$state/s3/$QA_BUCKET/releases/$r5/passed-qa.json" ]; then
  fail "release 5: after a failed smoke, live.json is $(jq -c . "$state/s3/$QA_BUCKET/releases/live.json") (pass recorded: $(test -f "$state/s3/$QA_BUCKET/releases/$r5/passed-qa.json" && echo yes || echo no))"
else
  pass "release 5: a smoke failing after the cutover leaves it live, the Lambda new, no pass"
fi
expect_order "release 5: the Lambda that reads v2 before the API that writes it" \
  "lambda update-function-code .*signed/$r5/" "mechanica-deploy install $r5"
rm "$state/curl-fail"
expect_ok "release 5: deploy again resumes after the cutover" -- qa deploy qa "$r5"
if grep -qE "mechanica-deploy install|update-function-code|terraform .*apply" "$STUB_LOG"; then
  fail "release 5: the resumed deploy cut over again"
else
  expect_order "release 5: the resumed deploy runs smoke, portal and the pass record only" \
    "lambda invoke" "^curl .*/openapi.json" "s3 sync .*portal/assets" "releases/$r5/passed-qa.json"
fi
expect_ok "rollback of release 5" -- qa rollback qa
if grep -q 'update-function-code' "$STUB_LOG"; then
  fail "rollback of release 5: the Lambda went back to a dispatcher that cannot read v2"
elif [ "$(live_field "$QA_BUCKET" '[.release, .lambda] | join(" ")')" != "$r3 $r5" ]; then
  fail "rollback of release 5: live.json is $(jq -c . "$state/s3/$QA_BUCKET/releases/live.json")"
else
  pass "rollback of release 5: the API goes back to $r3, the Lambda stays on $r5 (v2 may be queued)"
fi
# The live Lambda (release 5) writes v2, but the live API (release 3) still writes v1 until a
# cutover: a dispatcher reading only v2 would strand those.
expect_refused "deploy: a dispatcher that cannot read what the live API's release writes is refused, whatever the Lambda writes" \
  "the live API's release $r3 writes version 1" -- qa deploy qa "$r4"
expect_ok "roll forward to release 5" -- qa rollback qa

# --- contract migrations -----------------------------------------------------------------------

printf -- '-- contract: orders.tag unused since release %s\nalter table orders drop column tag;\nalter table orders add column weight int null;\n' \
  "$r3" >"$repo/migrations/0005_drop_tag.sql"
commit "a contract and an expand in one file" >/dev/null
expect_refused "build: a migration file mixing a marked drop with an add is refused" \
  "migrations/0005_drop_tag.sql:3: a statement that is not a marked drop" -- qa build
printf -- 'alter table orders\n  -- contract: orders.tag unused since release %s\n  drop column tag,\n  add column weight int null;\n' \
  "$r3" >"$repo/migrations/0005_drop_tag.sql"
commit "a contract and an expand in one statement" >/dev/null
expect_refused "build: a statement marked contract that also adds is refused" \
  "migrations/0005_drop_tag.sql:1: a statement marked \`contract:\` does more than drop" -- qa build
printf -- "insert into notes values ('-- contract: not a comment');\nalter table orders drop column tag;\n" \
  >"$repo/migrations/0005_drop_tag.sql"
commit "a marker inside a string" >/dev/null
expect_ok "build: a marker inside a string literal is no marker" -- qa build
if [ "$(jq -c '.migrations[] | select(.name == "0005_drop_tag.sql") | .contract' "$work/dist/manifest.json")" = false ]; then
  pass "build: a file whose only marker is inside a string is not a contract"
else
  fail "build: a marker inside a string made 0005_drop_tag.sql a contract"
fi
printf -- '-- contract: orders.tag unused since release %s\nalter table orders drop column tag;\n' \
  "$r3" >"$repo/migrations/0005_drop_tag.sql"
printf 'alter table orders add column weight int null;\n' >"$repo/migrations/0006_weight.sql"
r6=$(commit "mixed")
expect_ok "release 6 (expand and contract): build" -- qa build
expect_ok "release 6: publish" -- qa publish qa
expect_refused "deploy: expand and contract migrations together are refused" \
  "ship the contract migrations in a later release" -- qa deploy qa "$r6"

rm "$repo/migrations/0006_weight.sql"
r7=$(commit "contract only")
expect_ok "release 7 (contract): build" -- qa build
expect_ok "release 7: publish" -- qa publish qa
# The old colour does not stop after the switch: the release is live all the same.
printf 'stop\n' >"$state/agent-fail"
expect_ok "release 7: deploy to qa, the old colour failing to stop" -- qa deploy qa "$r7"
rm "$state/agent-fail"
expect_order "release 7: the contract migration after the cutover, the smoke and the portal" \
  "mechanica-deploy install $r7" "lambda invoke" "s3 sync .*portal/assets" \
  "^migrate  DSN=mysql://qa-dev" "releases/$r7/passed-qa.json"
if [ "$(live_field "$QA_BUCKET" '[.release, .lambda] | join(" ")')" = "$r7 $r7" ] \
  && grep -q 'warning: orders-api on .* did not stop' "$work/err"; then
  pass "release 7: an old colour that does not stop is a warning; live.json and the Lambda name $r7"
else
  fail "release 7: after an old colour that did not stop, live.json is $(jq -c . "$state/s3/$QA_BUCKET/releases/live.json")"
fi

summary
