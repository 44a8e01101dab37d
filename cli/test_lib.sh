# Helpers shared by cli_test.sh and check_test.sh. The sourcing script sets $tmp (a scratch
# directory) and the counters `passed` and `failures`, and prints the tally at the end.

# expect CODE DESCRIPTION -- COMMAND...: runs COMMAND, checks its exit code, keeps its output.
expect() {
  local want=$1 what=$2
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: $what: exit $got, want $want"; sed 's/^/  | /' "$tmp/out" "$tmp/err" | head -20
    failures=$((failures + 1))
  else
    passed=$((passed + 1))
  fi
}
# contains FILE PATTERN DESCRIPTION
contains() {
  if grep -qE -- "$2" "$1"; then passed=$((passed + 1)); else
    echo "FAIL: $3: no /$2/ in output"; sed 's/^/  | /' "$1" | head -20
    failures=$((failures + 1))
  fi
}
one_line_error() {
  if [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^hindcast: " "$tmp/err"; then
    passed=$((passed + 1))
  else
    echo "FAIL: $1: stderr is not one 'hindcast: ...' line"; sed 's/^/  | /' "$tmp/err"
    failures=$((failures + 1))
  fi
}
