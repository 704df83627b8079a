# shellcheck shell=bash
# The harness shared by the tests of infra/pipeline/ (bluegreen_test.sh, publish_portal_test.sh),
# which source it after setting
#   script          the script under test
#   refused_before  an extended regular expression no line of a refusal's stdout may match,
#                   e.g. the first call that changes something
#   refused_before_what  what it matches, for the failure message ("a weight change")
# It gives:
#   $work                a scratch directory, removed on exit
#   run_script <args...> runs $script, stdout to $work/out, stderr to $work/err
#   pass <name>, fail <text>   count and print one result
#   expect_output <name> <expected file> -- <args...>
#                        exit 0 and exactly that file on stdout
#   expect_refusal <name> <message part> -- <args...>
#                        non-zero exit, the message on stderr, and nothing matching
#                        $refused_before on stdout
#   summary              prints "N passed, N failed"; fails on any failure (the test's last
#                        command)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); printf 'ok   %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf 'FAIL %s\n' "$1"; }

run_script() { "${script:?}" "$@" >"$work/out" 2>"$work/err"; }

expect_output() {
  local name=$1 file=$2
  shift 3
  if ! run_script "$@"; then
    fail "$name: exited non-zero"
    sed 's/^/    /' "$work/err"
  elif diff -u "$file" "$work/out" >"$work/diff"; then
    pass "$name"
  else
    fail "$name: output differs from $(basename "$file")"
    sed 's/^/    /' "$work/diff"
  fi
}

expect_refusal() {
  local name=$1 message=$2
  shift 3
  if run_script "$@"; then
    fail "$name: exited 0"
  elif ! grep -qF -- "$message" "$work/err"; then
    fail "$name: stderr lacks '$message'"
    sed 's/^/    /' "$work/err"
  elif grep -qE -- "${refused_before:?}" "$work/out"; then
    fail "$name: printed ${refused_before_what:?} before refusing"
  else
    pass "$name"
  fi
}

summary() {
  printf '%d passed, %d failed\n' "$passed" "$failed"
  [ "$failed" -eq 0 ]
}
