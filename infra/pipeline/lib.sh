# shellcheck shell=bash
# Shared by the pipeline scripts beside it (release.sh, bluegreen.sh, publish-portal.sh), which
# source it right after `set -euo pipefail`:
#   inherit_errexit     on: a function run inside $(...) stops at its first failing command, as
#                       it would outside (bash otherwise clears `set -e` in command
#                       substitutions)
#   log <text>          progress on stderr
#   warn <text>         "warning: <text>" on stderr
#   die <text>          "<script name without .sh>: <text>" on stderr, exit 1
#   usage               the script's header comment (line 2 up to `set -euo pipefail`) on
#                       stderr, exit 2
#   DRY_RUN             false; the script sets it to true for --dry-run
#   run <cmd...>        runs the command, or in a dry run prints it as "DRY-RUN: <cmd...>"
#   run_out <answer> <cmd...>
#                       runs a command whose stdout is needed; in a dry run prints it and
#                       answers <answer> instead
# Dry-run lines go to the original stdout (fd 3), even from inside $(...).

shopt -s inherit_errexit
exec 3>&1

DRY_RUN=false

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf '==> warning: %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "$(basename "$0" .sh)" "$*" >&2; exit 1; }

usage() {
  sed -n '2,/^set -euo pipefail$/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

# Prints one argument so that a shell would read it back unchanged.
quote() {
  if [[ $1 =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

# Prints exactly its arguments, quoted, as one "DRY-RUN: ..." line.
print_call() {
  local arg line="DRY-RUN:"
  for arg in "$@"; do line+=" $(quote "$arg")"; done
  printf '%s\n' "$line" >&3
}

run() {
  if $DRY_RUN; then
    print_call "$@"
  else
    "$@"
  fi
}

run_out() {
  local placeholder=$1
  shift
  if $DRY_RUN; then
    print_call "$@"
    printf '%s\n' "$placeholder"
  else
    "$@"
  fi
}
