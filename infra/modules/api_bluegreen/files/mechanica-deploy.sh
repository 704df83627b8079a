#!/usr/bin/env bash
# Deploy agent of the orders-api instances, installed by cloud-init as
# /usr/local/sbin/mechanica-deploy and run as root through SSM Run Command by
# infra/pipeline/bluegreen.sh:
#
#   mechanica-deploy install <version>  download orders-api/<version>/orders-api.tar.gz from the
#                                       artifacts bucket, verify its SHA-256, install the binary
#                                       and the systemd unit, render the environment file from the
#                                       app secret, restart orders-api
#   mechanica-deploy start|stop         start or stop orders-api (stop sends SIGTERM: /readyz
#                                       answers 503, in-flight requests finish)
#   mechanica-deploy status             installed version and unit state
#
# /etc/mechanica/agent.conf (written by cloud-init from Terraform) gives ARTIFACTS_BUCKET,
# SECRET_ID and AWS_REGION. The release tarball holds bin/orders-api, bin/migrate and
# orders-api.service.
set -euo pipefail

readonly CONF=/etc/mechanica/agent.conf
readonly BASE_ENV=/etc/mechanica/orders-api.base.env
readonly ENV_FILE=/etc/mechanica/orders-api.env
readonly RELEASES=/opt/mechanica/releases
readonly BIN=/opt/mechanica/bin
readonly KEEP_RELEASES=3

die() { printf 'mechanica-deploy: %s\n' "$*" >&2; exit 1; }

# shellcheck source=/dev/null
. "$CONF"
: "${ARTIFACTS_BUCKET:?missing in $CONF}" "${SECRET_ID:?missing in $CONF}" "${AWS_REGION:?missing in $CONF}"

# Appends the secret's keys (SECRETS_KEY, DSN) to the non-secret base settings, as systemd
# EnvironmentFile lines with double-quoted values; the file is readable by root only (systemd
# reads it before dropping to the service user).
render_env() {
  local secret tmp
  secret=$(aws secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$SECRET_ID" \
    --query SecretString --output text)
  tmp=$(mktemp "$ENV_FILE.XXXXXX")
  chmod 0600 "$tmp"
  {
    cat "$BASE_ENV"
    python3 -c '
import json, re, sys
for key, value in json.load(sys.stdin).items():
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", key) or "\n" in value:
        sys.exit("refusing secret key %r: not an environment variable line" % key)
    print("%s=\"%s\"" % (key, value.replace("\\", "\\\\").replace("\"", "\\\"")))
' <<<"$secret"
  } >"$tmp"
  mv -f "$tmp" "$ENV_FILE"
}

install_release() {
  local version=$1 work dest
  [[ $version =~ ^[A-Za-z0-9._-]{1,128}$ ]] || die "invalid version '$version'"
  work=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: $work is local to this function
  trap "rm -rf '$work'" EXIT
  aws s3 cp --region "$AWS_REGION" --only-show-errors \
    "s3://$ARTIFACTS_BUCKET/orders-api/$version/orders-api.tar.gz" "$work/orders-api.tar.gz"
  aws s3 cp --region "$AWS_REGION" --only-show-errors \
    "s3://$ARTIFACTS_BUCKET/orders-api/$version/orders-api.tar.gz.sha256" "$work/orders-api.tar.gz.sha256"
  (cd "$work" && sha256sum --check --strict --quiet orders-api.tar.gz.sha256) \
    || die "checksum mismatch for release $version"

  dest="$RELEASES/$version"
  rm -rf "$dest.partial"
  mkdir -p "$dest.partial"
  tar -xzf "$work/orders-api.tar.gz" -C "$dest.partial" --no-same-owner
  [ -x "$dest.partial/bin/orders-api" ] || die "release $version has no bin/orders-api"
  [ -f "$dest.partial/orders-api.service" ] || die "release $version has no orders-api.service"
  rm -rf "$dest"
  mv "$dest.partial" "$dest"

  render_env
  install -m 0644 "$dest/orders-api.service" /etc/systemd/system/orders-api.service
  install -m 0755 "$dest/bin/orders-api" "$BIN/orders-api.new"
  mv -f "$BIN/orders-api.new" "$BIN/orders-api"
  printf '%s\n' "$version" >/opt/mechanica/VERSION

  systemctl daemon-reload
  systemctl enable orders-api.service
  systemctl restart orders-api.service

  # Keep the newest releases for inspection; the running binary is the copy in $BIN.
  find "$RELEASES" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn \
    | tail -n +"$((KEEP_RELEASES + 1))" | cut -d' ' -f2- | xargs -r rm -rf
  printf 'installed orders-api %s\n' "$version"
}

case "${1:-}" in
  install)
    [ $# -eq 2 ] || die "usage: mechanica-deploy install <version>"
    install_release "$2"
    ;;
  start)
    [ -x "$BIN/orders-api" ] || die "no release installed on this instance"
    render_env
    systemctl start orders-api.service
    ;;
  stop)
    if [ -f /etc/systemd/system/orders-api.service ]; then
      systemctl stop orders-api.service
    else
      echo "orders-api was never installed here: nothing to stop"
    fi
    ;;
  status)
    if [ -f /opt/mechanica/VERSION ]; then version=$(cat /opt/mechanica/VERSION); else version=none; fi
    printf 'version: %s\nstate: %s\n' "$version" "$(systemctl show --property=ActiveState --value orders-api.service)"
    ;;
  *)
    die "usage: mechanica-deploy install <version> | start | stop | status"
    ;;
esac
