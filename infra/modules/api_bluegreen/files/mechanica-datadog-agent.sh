#!/usr/bin/env bash
# Installs the Datadog agent on an orders-api instance, run once by cloud-init (runcmd) at first
# boot as /usr/local/sbin/mechanica-datadog-agent:
#   - reads the Datadog API key from its SSM SecureString parameter (never from user data),
#   - installs Agent 7 from Datadog's repository with the instance's env and host tags
#     (role:orders-api, colour:<blue|green>), which also enables its host metrics (CPU, network),
#   - installs the OpenMetrics check that scrapes the API's /metrics
#     (/etc/mechanica/datadog/openmetrics.yaml, written by cloud-init) and restarts the agent.
# /etc/mechanica/datadog.conf (written by cloud-init from Terraform) gives DD_SITE, DD_ENV,
# DD_API_KEY_PARAMETER, AWS_REGION and COLOUR. Running it again reinstalls the check and restarts
# the agent with the current key.
set -euo pipefail

readonly CONF=/etc/mechanica/datadog.conf
readonly CHECK_SOURCE=/etc/mechanica/datadog/openmetrics.yaml
readonly CHECK_DIR=/etc/datadog-agent/conf.d/openmetrics.d
readonly INSTALLER_URL=https://install.datadoghq.com/scripts/install_script_agent7.sh

die() { printf 'mechanica-datadog-agent: %s\n' "$*" >&2; exit 1; }

# shellcheck source=/dev/null
. "$CONF"
: "${DD_SITE:?missing in $CONF}" "${DD_ENV:?missing in $CONF}" \
  "${DD_API_KEY_PARAMETER:?missing in $CONF}" "${AWS_REGION:?missing in $CONF}" \
  "${COLOUR:?missing in $CONF}"
[ -f "$CHECK_SOURCE" ] || die "missing $CHECK_SOURCE"

api_key=$(aws ssm get-parameter --region "$AWS_REGION" --name "$DD_API_KEY_PARAMETER" \
  --with-decryption --query Parameter.Value --output text)
[ -n "$api_key" ] || die "empty API key in $DD_API_KEY_PARAMETER"

installer=$(mktemp)
trap 'rm -f "$installer"' EXIT
curl -fsSL --retry 5 --proto '=https' -o "$installer" "$INSTALLER_URL"
# The key reaches the installer through its environment only; it writes it into
# /etc/datadog-agent/datadog.yaml, readable by root and the dd-agent group.
DD_API_KEY=$api_key DD_SITE=$DD_SITE DD_ENV=$DD_ENV \
  DD_HOST_TAGS="role:orders-api,colour:$COLOUR" DD_AGENT_MAJOR_VERSION=7 bash "$installer"
unset api_key

install -d -o dd-agent -g dd-agent -m 0755 "$CHECK_DIR"
install -o dd-agent -g dd-agent -m 0640 "$CHECK_SOURCE" "$CHECK_DIR/conf.yaml"
systemctl restart datadog-agent
