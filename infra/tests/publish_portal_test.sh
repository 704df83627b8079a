#!/usr/bin/env bash
# Tests of infra/pipeline/publish-portal.sh without npm's registry or AWS, on a fake build
# (web/dist with index.html, a favicon and two hashed assets):
# - dry runs, configured by flags and by the environment, compared line by line with
#   publish_portal/expected/publish.txt;
# - the order of the calls (build, assets, other files, index.html, invalidation), their
#   Cache-Control headers, and that nothing is ever deleted;
# - refusals (missing or invalid configuration, no build) exit non-zero before any AWS call;
# - the same publish against stubs of `npm` and `aws` (publish_portal/stub.sh), which must
#   receive exactly the calls the dry run printed, and a failing build, which must upload
#   nothing.
# Prints "N passed, N failed" and exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
script="$here/../pipeline/publish-portal.sh"
expected="$here/publish_portal/expected/publish.txt"
# A refusal comes before any AWS call.
refused_before='^DRY-RUN: aws'
refused_before_what='an AWS call'
# shellcheck source=infra/tests/lib.sh
. "$here/lib.sh"

# The fixture: a built portal, and what Terraform's portal_env output gives the pipeline.
# Every run starts in $work with --web-dir web, so the printed paths do not depend on $work.
mkdir -p "$work/web/dist/assets" "$work/bin"
printf '{"name":"portal","private":true}\n' >"$work/web/package.json"
printf '<!doctype html><script type="module" src="/portal/assets/index-3f9a1c2b.js"></script>\n' \
  >"$work/web/dist/index.html"
printf '<svg xmlns="http://www.w3.org/2000/svg"/>\n' >"$work/web/dist/favicon.svg"
printf 'console.log("portal")\n' >"$work/web/dist/assets/index-3f9a1c2b.js"
printf 'body{margin:0}\n' >"$work/web/dist/assets/index-8b2e4d1a.css"
readonly BUCKET=mechanica-prod-portal-111122223333
readonly DISTRIBUTION_ID=E2QWRUHAPOMQZL
unset PORTAL_BUCKET PORTAL_DISTRIBUTION_ID PORTAL_WEB_DIR PORTAL_DIST
cd "$work"

# line_of <fixed string>: number of the first line of $work/out containing it (0 if none).
line_of() {
  local n
  n=$(grep -nF -- "$1" "$work/out" | head -n 1 | cut -d: -f1)
  echo "${n:-0}"
}

# --- dry runs ----------------------------------------------------------------------------------

expect_output "dry run, configuration from flags: build, assets, other files, index.html, invalidation" \
  "$expected" -- --dry-run --bucket "$BUCKET" --distribution-id "$DISTRIBUTION_ID" --web-dir web

PORTAL_BUCKET=$BUCKET PORTAL_DISTRIBUTION_ID=$DISTRIBUTION_ID PORTAL_WEB_DIR=web \
  expect_output "dry run, configuration from PORTAL_* (Terraform's portal_env)" "$expected" \
  -- --dry-run

if ! run_script --dry-run --bucket "$BUCKET" --distribution-id "$DISTRIBUTION_ID" --web-dir web; then
  fail "order: the dry run exited non-zero"
fi
ci=$(line_of 'npm --prefix web ci')
build=$(line_of 'npm --prefix web run build')
assets=$(line_of 'aws s3 sync web/dist/assets ')
others=$(line_of 'aws s3 sync web/dist ')
index=$(line_of 'aws s3 cp web/dist/index.html ')
invalidate=$(line_of 'aws cloudfront create-invalidation')
if [ "$ci" -gt 0 ] && [ "$ci" -lt "$build" ] && [ "$build" -lt "$assets" ] \
  && [ "$assets" -lt "$others" ] && [ "$others" -lt "$index" ] && [ "$index" -lt "$invalidate" ]; then
  pass "order: npm ci, build, assets, other files, index.html, then the invalidation"
else
  fail "order: ci=$ci build=$build assets=$assets others=$others index=$index invalidate=$invalidate"
fi

if sed -n "${assets}p" "$work/out" | grep -qF -- "--cache-control 'public, max-age=31536000, immutable'" \
  && [ "$(grep -cF 'immutable' "$work/out")" -eq 1 ]; then
  pass "cache: only the hashed assets are public, max-age=31536000, immutable"
else
  fail "cache: the assets line lacks the immutable Cache-Control, or another line has it"
fi

if sed -n "${others}p;${index}p" "$work/out" | grep -c -- '--cache-control no-cache' | grep -qx 2 \
  && sed -n "${others}p" "$work/out" | grep -qF -- "--exclude 'assets/*' --exclude index.html"; then
  pass "cache: the other files and index.html are no-cache; the assets are not uploaded twice"
else
  fail "cache: the other files or index.html lack Cache-Control: no-cache"
fi

if sed -n "${invalidate}p" "$work/out" | grep -qF -- "--distribution-id $DISTRIBUTION_ID --paths /portal/index.html /portal/"; then
  pass "invalidation: /portal/index.html and /portal/ on the distribution"
else
  fail "invalidation: $(sed -n "${invalidate}p" "$work/out")"
fi

if grep -qE -- '--delete|aws s3 rm' "$work/out"; then
  fail "nothing deleted: a browser on the previous index must still find its assets"
else
  pass "nothing deleted: a browser on the previous index still finds its assets"
fi

# --- refusals ----------------------------------------------------------------------------------

expect_refusal "refuses a missing bucket" "missing configuration: BUCKET" \
  -- --dry-run --distribution-id "$DISTRIBUTION_ID" --web-dir web
expect_refusal "refuses a missing distribution" "missing configuration: DISTRIBUTION_ID" \
  -- --dry-run --bucket "$BUCKET" --web-dir web
expect_refusal "refuses a bucket name with shell characters" "invalid bucket name" \
  -- --dry-run --bucket 'portal;reboot' --distribution-id "$DISTRIBUTION_ID" --web-dir web
expect_refusal "refuses an invalid distribution id" "invalid distribution id" \
  -- --dry-run --bucket "$BUCKET" --distribution-id 'e2-lower' --web-dir web
expect_refusal "refuses a directory without package.json" "no package.json" \
  -- --dry-run --bucket "$BUCKET" --distribution-id "$DISTRIBUTION_ID" --web-dir web/dist
expect_refusal "refuses an unknown argument" "unknown argument" \
  -- --dry-run --bucket "$BUCKET" --distribution-id "$DISTRIBUTION_ID" --web-dir web --delete
mv web/dist/index.html web/index.html.kept
expect_refusal "refuses a build without index.html" "web/dist/index.html is missing" \
  -- --dry-run --bucket "$BUCKET" --distribution-id "$DISTRIBUTION_ID" --web-dir web
mv web/index.html.kept web/dist/index.html

# --- against stubs of npm and aws --------------------------------------------------------------

ln -s "$here/publish_portal/stub.sh" "$work/bin/aws"
ln -s "$here/publish_portal/stub.sh" "$work/bin/npm"
export STUB_LOG="$work/calls"

: >"$STUB_LOG"
if ! PATH="$work/bin:$PATH" run_script --bucket "$BUCKET" --distribution-id "$DISTRIBUTION_ID" \
  --web-dir web; then
  fail "stub: publish exited non-zero"
  sed 's/^/    /' "$work/err"
elif ! diff -u <(sed 's/^DRY-RUN: //' "$expected") "$STUB_LOG" >"$work/diff"; then
  fail "stub: the calls differ from the dry run"
  sed 's/^/    /' "$work/diff"
elif [ -s "$work/out" ]; then
  fail "stub: stdout must stay empty outside a dry run (got: $(head -n 1 "$work/out"))"
elif ! grep -qF 'invalidation I2J0STUBINVALIDATION' "$work/err"; then
  fail "stub: the invalidation id is not reported"
else
  pass "stub: publish makes exactly the dry run's calls"
fi

: >"$STUB_LOG"
if PATH="$work/bin:$PATH" STUB_FAIL_BUILD=1 run_script --bucket "$BUCKET" \
  --distribution-id "$DISTRIBUTION_ID" --web-dir web; then
  fail "stub: a failing build fails the publish (exited 0)"
elif grep -q '^aws ' "$STUB_LOG"; then
  fail "stub: a failing build must upload nothing"
else
  pass "stub: a failing build uploads nothing"
fi

summary
