#!/usr/bin/env bash
# Stand-in for `aws` and `npm` in infra/tests/publish_portal_test.sh (linked under both names).
# Appends each call to $STUB_LOG in publish-portal.sh's dry-run format ("<command> <args quoted
# the same way>"); answers create-invalidation with an id, and fails `npm run build` when
# STUB_FAIL_BUILD=1.
set -euo pipefail

quote() {
  if [[ $1 =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

name=$(basename "$0")
line=$name
for arg in "$@"; do line+=" $(quote "$arg")"; done
printf '%s\n' "$line" >>"$STUB_LOG"

case "$name $*" in
  "aws cloudfront create-invalidation"*) echo I2J0STUBINVALIDATION ;;
  "npm "*" run build")
    if [ "${STUB_FAIL_BUILD:-0}" = 1 ]; then
      echo "stub npm: build failed" >&2
      exit 1
    fi
    ;;
esac
