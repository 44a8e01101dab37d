#!/usr/bin/env bash
# End-to-end tests of `hindcast check`: verdicts and exit codes on the Elle conformance
# histories, explanations, and one-line errors (with line numbers) for bad usage and
# malformed files. Usage: check_test.sh path/to/hindcast path/to/testdata/elle
set -u
hindcast=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
passed=0

source "$(dirname "$0")/test_lib.sh"

# Invalid histories exit 1 and name the anomaly, the weakest violated model and a cycle.
expect 1 "g1c under read-committed" -- "$hindcast" check "$data/g1c.edn" --consistency=read-committed
contains "$tmp/out" "verdict: INVALID under read-committed" "g1c verdict"
contains "$tmp/out" "^\[G1c\]" "g1c anomaly"
contains "$tmp/out" "^not: read-committed" "g1c weakest model"
contains "$tmp/out" "a contradiction!" "g1c explanation"

expect 1 "paper example" -- "$hindcast" check "$data/paper-example.edn" --model=list-append \
  --consistency=serializable --dot
contains "$tmp/out" "^\[G-single-item\]" "paper example G-single"
contains "$tmp/out" "Let:" "paper example explanation"
contains "$tmp/out" "digraph \"G-single-item\"" "paper example DOT"

expect 1 "stale read under strict-serializable" -- "$hindcast" check "$data/stale-read.edn"
contains "$tmp/out" "G-single-item-realtime.*a stale read" "stale read named"

expect 1 "garbage read" -- "$hindcast" check "$data/rw-register.edn" --model=rw-register
contains "$tmp/out" "^\[garbage-read\]" "garbage read named"
contains "$tmp/out" "read 3" "garbage value"

expect 1 "huge SCC" -- "$hindcast" check "$data/huge-scc.edn"
contains "$tmp/out" "^not: " "huge SCC names models"

# Valid histories exit 0.
expect 0 "stale read is serializable" -- "$hindcast" check "$data/stale-read.edn" \
  --consistency=serializable
contains "$tmp/out" "verdict: valid under serializable" "valid verdict"
expect 0 "write skew under SI and RC" -- "$hindcast" check "$data/write-skew.edn" \
  --consistency=snapshot-isolation,read-committed
expect 1 "write skew under serializable" -- "$hindcast" check "$data/write-skew.edn" \
  --consistency=serializable

# Bad usage and bad input exit 2 with one line.
expect 2 "no file" -- "$hindcast" check
one_line_error "no file"
expect 2 "missing file" -- "$hindcast" check "$tmp/nope.edn"
one_line_error "missing file"
contains "$tmp/err" "cannot read" "missing file message"
expect 2 "bad model" -- "$hindcast" check "$data/g0.edn" --model=bank
one_line_error "bad model"
expect 2 "bad consistency" -- "$hindcast" check "$data/g0.edn" --consistency=serializable,acid
one_line_error "bad consistency"
contains "$tmp/err" "acid" "bad consistency names the model"
expect 2 "unknown flag" -- "$hindcast" check "$data/g0.edn" --seeds=1..2
one_line_error "unknown flag"

printf '%s\n' '{:type :invoke, :process 0, :value [[:append :x 1]]}' \
  '{:type :ok, :process 0, :value [[:append :x 1]]}' \
  '{:type :invoke, :process 1, :value [[:frobnicate :x 1]]}' >"$tmp/bad.edn"
expect 2 "malformed micro-op" -- "$hindcast" check "$tmp/bad.edn"
one_line_error "malformed micro-op"
contains "$tmp/err" "line 3: unknown micro-operation" "malformed micro-op line number"

printf '%s\n' '{:type :invoke, :process 0, :value [[:append :x 1]]}' \
  '{:type :ok, :process 0, :value [[:append :x 1]' >"$tmp/cut.edn"
expect 2 "truncated file" -- "$hindcast" check "$tmp/cut.edn"
one_line_error "truncated file"
contains "$tmp/err" "line 2:" "truncated file line number"

printf '%s\n' '{:type :ok, :process 4, :value [[:r :x [1]]]}' >"$tmp/orphan.edn"
expect 2 "completion without invocation" -- "$hindcast" check "$tmp/orphan.edn"
contains "$tmp/err" "line 1: .*no invocation" "orphan completion"

expect 0 "help" -- "$hindcast" check --help
contains "$tmp/out" "consistency" "help lists flags"

echo "check_test: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
