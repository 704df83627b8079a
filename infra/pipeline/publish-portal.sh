#!/usr/bin/env bash
# Publishes the customer portal (web/: a Vite single-page app with base path /portal/) to its
# S3 bucket behind CloudFront (infra/modules/portal).
#
#   publish-portal.sh [options]
#       1. build: npm ci, npm run build in the web directory (-> <web-dir>/dist)
#       2. upload dist/assets/ (content-hashed names) to s3://<bucket>/portal/assets/ with
#          Cache-Control: public, max-age=31536000, immutable
#       3. upload every other file but index.html with Cache-Control: no-cache
#       4. upload index.html (no-cache) last, so a new index never names a file that is not
#          there yet
#       5. invalidate /portal/index.html and /portal/ on CloudFront, so no edge keeps an index
#          it cached before
#   Nothing is deleted: a browser still running the previous index keeps finding its assets.
#   Publish after the API release the portal calls is live: the API only ever grows
#   (expand-compatible), so the previous portal keeps working against the new API meanwhile.
#
# Options (each also read from the environment variable in brackets; Terraform's output
# `portal_env` of infra/envs/<env> gives the first two):
#   --bucket NAME           [PORTAL_BUCKET]           the portal's bucket
#   --distribution-id ID    [PORTAL_DISTRIBUTION_ID]  its CloudFront distribution
#   --web-dir DIR           [PORTAL_WEB_DIR]          the app (default: web/ of this repository)
#   --dist DIR              [PORTAL_DIST]             publish this finished build (a release's
#                                                     portal bundle) instead: no npm step
#   --dry-run                                         print every npm and AWS CLI call as
#                                                     "DRY-RUN: ..." on stdout instead of
#                                                     making it; the build must already be in
#                                                     <web-dir>/dist
# Progress goes to stderr; stdout carries only the dry-run lines.
set -euo pipefail

# shellcheck source=infra/pipeline/lib.sh
. "$(dirname "$0")/lib.sh"

readonly ASSETS_CACHE_CONTROL='public, max-age=31536000, immutable'
readonly PAGES_CACHE_CONTROL='no-cache'
readonly INVALIDATION_ID_PLACEHOLDER='<invalidation-id>'

BUCKET=${PORTAL_BUCKET:-}
DISTRIBUTION_ID=${PORTAL_DISTRIBUTION_ID:-}
WEB_DIR=${PORTAL_WEB_DIR:-"$(cd "$(dirname "$0")/../.." && pwd)/web"}
DIST=${PORTAL_DIST:-}

require_config() {
  [ -n "$BUCKET" ] || die "missing configuration: BUCKET (--bucket or PORTAL_BUCKET)"
  [ -n "$DISTRIBUTION_ID" ] \
    || die "missing configuration: DISTRIBUTION_ID (--distribution-id or PORTAL_DISTRIBUTION_ID)"
  [[ $BUCKET =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] || die "invalid bucket name '$BUCKET'"
  [[ $DISTRIBUTION_ID =~ ^[A-Z0-9]{1,32}$ ]] || die "invalid distribution id '$DISTRIBUTION_ID'"
  [ -n "$DIST" ] || [ -f "$WEB_DIR/package.json" ] || die "no package.json in $WEB_DIR (--web-dir)"
}

main() {
  local dist target invalidation
  while [ $# -gt 0 ]; do
    case "$1" in
      --bucket) BUCKET=${2:?--bucket needs a value}; shift 2 ;;
      --distribution-id) DISTRIBUTION_ID=${2:?--distribution-id needs a value}; shift 2 ;;
      --web-dir) WEB_DIR=${2:?--web-dir needs a value}; shift 2 ;;
      --dist) DIST=${2:?--dist needs a value}; shift 2 ;;
      --dry-run) DRY_RUN=true; shift ;;
      -h | --help) usage ;;
      *) die "unknown argument $1 (see --help)" ;;
    esac
  done
  require_config
  target="s3://$BUCKET/portal"

  if [ -n "$DIST" ]; then
    dist=$DIST
    log "publishing the finished build in $dist"
  else
    dist="$WEB_DIR/dist"
    log "building the portal in $WEB_DIR"
    run npm --prefix "$WEB_DIR" ci >&2
    run npm --prefix "$WEB_DIR" run build >&2
  fi
  [ -f "$dist/index.html" ] || die "no build to publish: $dist/index.html is missing"
  [ -d "$dist/assets" ] || die "no build to publish: $dist/assets/ is missing"

  log "uploading the hashed assets to $target/assets/ (immutable)"
  run aws s3 sync "$dist/assets" "$target/assets" \
    --cache-control "$ASSETS_CACHE_CONTROL" --only-show-errors
  # .vite/ holds the build's manifest, which the test command reads and nobody needs to fetch.
  log "uploading the other files but index.html to $target/ (no-cache)"
  run aws s3 sync "$dist" "$target" --exclude 'assets/*' --exclude index.html --exclude '.vite/*' \
    --cache-control "$PAGES_CACHE_CONTROL" --only-show-errors
  log "uploading index.html (no-cache)"
  run aws s3 cp "$dist/index.html" "$target/index.html" \
    --cache-control "$PAGES_CACHE_CONTROL" --content-type 'text/html; charset=utf-8' \
    --only-show-errors

  invalidation=$(run_out "$INVALIDATION_ID_PLACEHOLDER" aws cloudfront create-invalidation \
    --distribution-id "$DISTRIBUTION_ID" --paths /portal/index.html /portal/ \
    --query Invalidation.Id --output text)
  log "done: CloudFront invalidation $invalidation of /portal/index.html and /portal/"
}

main "$@"
