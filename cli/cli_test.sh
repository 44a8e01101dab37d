#!/usr/bin/env bash
# End-to-end tests of the `hindcast` command: exit codes, the final line, bad input, the
# determinism check, sweeps and replay. Usage: cli_test.sh path/to/hindcast
set -u
hindcast=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
passed=0

source "$(dirname "$0")/test_lib.sh"

# A run ends with the fingerprint line and exit 0 when it holds.
expect 0 "run ok" -- "$hindcast" run --seed=3 --faults=light
contains "$tmp/out" '^fingerprint=[0-9a-f]{16} verdict=ok$' "run final line"
tail -n1 "$tmp/out" >"$tmp/first"
expect 0 "run again" -- "$hindcast" run --seed=3 --faults=light
tail -n1 "$tmp/out" >"$tmp/second"
if cmp -s "$tmp/first" "$tmp/second"; then passed=$((passed + 1)); else
  echo "FAIL: same seed, different final line"; failures=$((failures + 1)); fi

# --check-determinism runs twice and compares every event.
expect 0 "check determinism" -- "$hindcast" run --seed=9 --faults=heavy --check-determinism
contains "$tmp/out" '^determinism: 2 runs, [0-9]+ events identical$' "determinism line"

# A planted bug gives exit 1, verdict=violation and a replay command that reproduces it.
expect 1 "violation" -- "$hindcast" run --seed=77 --faults=light --bug=ack_before_replicate
contains "$tmp/out" 'verdict=violation$' "violation final line"
contains "$tmp/out" '^replay: hindcast run .*--seed=77' "replay command"
tail -n1 "$tmp/out" >"$tmp/violation"
replay=$(sed -n 's/^replay: hindcast //p' "$tmp/out")
expect 1 "replay command" -- "$hindcast" $replay
tail -n1 "$tmp/out" >"$tmp/replayed"
if cmp -s "$tmp/violation" "$tmp/replayed"; then passed=$((passed + 1)); else
  echo "FAIL: replay command gave a different final line"; failures=$((failures + 1)); fi

# --bug=list: name, settings as key=value words, a sentence.
expect 0 "bug list" -- "$hindcast" run --bug=list
contains "$tmp/out" '^ack_before_replicate( [a-z_]+=[a-z_0-9]+)+ [A-Za-z]' "bug list line"
contains "$tmp/out" '^rc_lost_update( [a-z_]+=[a-z_0-9]+)+ [A-Za-z]' "cluster bug list line"

# --save writes a seed case that `replay` reproduces; a mismatch is exit 1.
expect 1 "save" -- "$hindcast" run --seed=77 --faults=light --bug=ack_before_replicate \
  --save="$tmp/case.textproto"
expect 0 "replay saved case" -- "$hindcast" replay "$tmp/case.textproto"
contains "$tmp/out" '^replayed: fingerprint and verdict match' "replay match"
sed 's/expected_fingerprint: "[0-9a-f]*"/expected_fingerprint: "0000000000000000"/' \
  "$tmp/case.textproto" >"$tmp/wrong.textproto"
expect 1 "replay mismatch" -- "$hindcast" replay "$tmp/wrong.textproto"
contains "$tmp/out" '^MISMATCH: fingerprint' "mismatch named"

# A fault plan from a file.
cat >"$tmp/plan.textproto" <<'PLAN'
actions { at_ns: 100000000 type: "crash" nodes: 0 }
actions { at_ns: 300000000 type: "restart" nodes: 0 }
PLAN
expect 0 "plan file" -- "$hindcast" run --seed=5 --plan="$tmp/plan.textproto"
contains "$tmp/out" '^faults: 2 planned, 2 applied' "plan applied"

# Sweeps: JSON lines for failing seeds, in seed order, with replay commands; shards split.
expect 1 "sweep with bug" -- "$hindcast" sweep --seeds=1..300 --faults=heavy \
  --bug=ack_before_replicate --jobs=2
contains "$tmp/out" '^\{"seed":[0-9]+,"verdict":"violation",.*"replay":"hindcast run ' "sweep json"
contains "$tmp/err" '^sweep: 300 seeds' "sweep summary"
cut -d, -f1 "$tmp/out" | tr -dc '0-9\n' >"$tmp/seeds"
if sort -n -c "$tmp/seeds" 2>/dev/null; then passed=$((passed + 1)); else
  echo "FAIL: sweep output not in seed order"; failures=$((failures + 1)); fi
expect 0 "sweep clean" -- "$hindcast" sweep --seeds=1..100 --faults=heavy
if [ ! -s "$tmp/out" ]; then passed=$((passed + 1)); else
  echo "FAIL: clean sweep printed failures"; failures=$((failures + 1)); fi
expect 1 "shard 1/2" -- "$hindcast" sweep --seeds=1..300 --faults=heavy \
  --bug=ack_before_replicate --shard=1/2
cp "$tmp/out" "$tmp/shard1"
expect 1 "shard 2/2" -- "$hindcast" sweep --seeds=1..300 --faults=heavy \
  --bug=ack_before_replicate --shard=2/2
cat "$tmp/shard1" "$tmp/out" | sort >"$tmp/shards"
"$hindcast" sweep --seeds=1..300 --faults=heavy --bug=ack_before_replicate 2>/dev/null |
  sort >"$tmp/whole"
if cmp -s "$tmp/shards" "$tmp/whole"; then passed=$((passed + 1)); else
  echo "FAIL: shards 1/2 + 2/2 differ from the whole sweep"; failures=$((failures + 1)); fi

# The transaction cluster: a clean run, a planted bug caught with its replay command.
expect 0 "cluster run" -- "$hindcast" run --system=cluster --workload=bank --faults=light --seed=4
contains "$tmp/out" '^scenario: system=cluster workload=bank isolation=si mode=pessimistic' "cluster scenario line"
contains "$tmp/out" '^outcomes: [0-9]+ committed, [0-9]+ aborted, [0-9]+ unknown$' "cluster outcomes"
expect 1 "cluster bug" -- "$hindcast" run --system=cluster --workload=counter --isolation=rc \
  --bug=rc_lost_update --seed=2
contains "$tmp/out" '^VIOLATION: counter: final value' "lost update named"
replay=$(sed -n 's/^replay: hindcast //p' "$tmp/out")
tail -n1 "$tmp/out" >"$tmp/violation"
expect 1 "cluster replay command" -- "$hindcast" $replay
tail -n1 "$tmp/out" >"$tmp/replayed"
if cmp -s "$tmp/violation" "$tmp/replayed"; then passed=$((passed + 1)); else
  echo "FAIL: cluster replay command gave a different final line"; failures=$((failures + 1)); fi
expect 2 "bad workload" -- "$hindcast" run --system=cluster --workload=nope
one_line_error "bad workload"
expect 2 "bad isolation" -- "$hindcast" run --system=cluster --isolation=serializable
one_line_error "bad isolation"
expect 2 "register bug on cluster" -- "$hindcast" run --system=cluster --bug=ack_before_replicate
one_line_error "register bug on cluster"
expect 2 "bad system" -- "$hindcast" run --system=mainframe
one_line_error "bad system"
expect 2 "one account" -- "$hindcast" run --system=cluster --accounts=1
one_line_error "one account"
expect 2 "accounts outside bank" -- "$hindcast" run --system=cluster --workload=counter --accounts=9
one_line_error "accounts outside bank"
contains "$tmp/err" 'bank workload only' "accounts outside bank named"
expect 0 "more accounts" -- "$hindcast" run --system=cluster --accounts=40 --faults=none --seed=2
contains "$tmp/out" 'accounts=40' "accounts in the scenario line"
expect 2 "even log replicas" -- "$hindcast" run --system=cluster --log-replicas=4
one_line_error "even log replicas"
expect 0 "five log replicas" -- "$hindcast" run --system=cluster --log-replicas=5 --faults=heavy --seed=4
contains "$tmp/out" 'log-replicas=5' "log replicas in the scenario line"
expect 2 "late copies past a million" -- "$hindcast" run --system=cluster --late-copy-ppm=1000001
one_line_error "late copies past a million"
expect 2 "late copies on the register" -- "$hindcast" run --late-copy-ppm=5
one_line_error "late copies on the register"
expect 0 "late copies" -- "$hindcast" run --system=cluster --late-copy-ppm=5000 --faults=heavy --seed=3
contains "$tmp/out" 'late-copy-ppm=5000' "late copies in the scenario line"
expect 1 "late copies and a bug" -- "$hindcast" run --system=cluster --workload=counter \
  --isolation=rc --bug=rc_lost_update --late-copy-ppm=100 --seed=2
contains "$tmp/out" '^replay: hindcast run .* --late-copy-ppm=100 ' "late copies in the replay"
expect 2 "unknown knobs" -- "$hindcast" run --system=cluster --knobs=wild
one_line_error "unknown knobs"
expect 2 "knobs on the register" -- "$hindcast" run --knobs=random
one_line_error "knobs on the register"
expect 0 "random knobs" -- "$hindcast" run --system=cluster --knobs=random --faults=heavy --seed=3
contains "$tmp/out" 'knobs=random' "random knobs in the scenario line"
contains "$tmp/out" '^knobs: .*lock_wait_max=1.500s' "the knobs a run changed"
expect 1 "random knobs and a bug" -- "$hindcast" run --system=cluster --workload=counter \
  --isolation=rc --bug=rc_lost_update --knobs=random --seed=2
contains "$tmp/out" '^replay: hindcast run .* --knobs=random ' "random knobs in the replay"

# Bad input: one line on stderr naming the problem, exit 2, no output file written.
expect 2 "no command" -- "$hindcast"
expect 2 "unknown command" -- "$hindcast" frobnicate
one_line_error "unknown command"
expect 2 "unknown flag" -- "$hindcast" run --sed=3
one_line_error "unknown flag"
contains "$tmp/err" 'unknown flag --sed' "unknown flag named"
expect 2 "flag of another command" -- "$hindcast" run --seeds=1..3
one_line_error "flag of another command"
expect 2 "bad int" -- "$hindcast" run --seed=abc
one_line_error "bad int"
expect 2 "bad profile" -- "$hindcast" run --faults=medium
one_line_error "bad profile"
expect 2 "bad bug" -- "$hindcast" run --bug=nope
one_line_error "bad bug"
expect 2 "malformed seeds" -- "$hindcast" sweep --seeds=1-100
one_line_error "malformed seeds"
contains "$tmp/err" 'malformed --seeds' "malformed seeds named"
expect 2 "empty seeds" -- "$hindcast" sweep --seeds=9..1
expect 2 "malformed shard" -- "$hindcast" sweep --seeds=1..10 --shard=3/2
one_line_error "malformed shard"
expect 2 "zero shard" -- "$hindcast" sweep --seeds=1..10 --shard=0/2
expect 2 "bad jobs" -- "$hindcast" sweep --seeds=1..10 --jobs=0
expect 2 "missing plan" -- "$hindcast" run --plan="$tmp/nope.textproto"
one_line_error "missing plan"
echo 'actions { at_ns: 5 type: "crash" nodes: 0 ' >"$tmp/bad_plan.textproto"
expect 2 "malformed plan" -- "$hindcast" run --plan="$tmp/bad_plan.textproto"
one_line_error "malformed plan"
contains "$tmp/err" 'malformed textproto: line' "malformed plan names the line"
echo 'actions { at_ns: 5 type: "explode" nodes: 0 }' >"$tmp/bad_type.textproto"
expect 2 "bad fault type" -- "$hindcast" run --plan="$tmp/bad_type.textproto"
contains "$tmp/err" 'unknown type "explode"' "bad fault type named"
expect 2 "missing seed file" -- "$hindcast" replay "$tmp/nope.textproto"
one_line_error "missing seed file"
expect 2 "replay without file" -- "$hindcast" replay
echo 'scenario { seed: banana }' >"$tmp/bad_case.textproto"
expect 2 "malformed seed file" -- "$hindcast" replay "$tmp/bad_case.textproto"
one_line_error "malformed seed file"
expect 2 "empty seed file" -- "$hindcast" replay /dev/null
one_line_error "empty seed file"
contains "$tmp/err" 'needs expected_fingerprint and expected_verdict' "empty seed file named"
grep -v '^expected_verdict' "$tmp/case.textproto" >"$tmp/no_verdict.textproto"
expect 2 "seed file without verdict" -- "$hindcast" replay "$tmp/no_verdict.textproto"
# Plans the network, the clocks or the harness cannot carry out are bad input, not crashes.
echo 'actions { at_ns: 5 type: "swizzle" nodes: 1 nodes: 2 nodes: 1 duration_ns: 9 }' \
  >"$tmp/swizzle_twice.textproto"
expect 2 "swizzle naming a node twice" -- "$hindcast" run --plan="$tmp/swizzle_twice.textproto"
one_line_error "swizzle naming a node twice"
echo 'actions { at_ns: 5 type: "clock_jump" nodes: 1 jump_ns: 9223372036854775807 }' \
  >"$tmp/huge_jump.textproto"
expect 2 "clock jump past an hour" -- "$hindcast" run --plan="$tmp/huge_jump.textproto"
echo 'actions { at_ns: 5 type: "crash" nodes: 9 }' >"$tmp/crash_client.textproto"
expect 2 "crash of a client" -- "$hindcast" run --system=cluster --plan="$tmp/crash_client.textproto"
contains "$tmp/err" 'node 9 is a client' "crash of a client named"
expect 2 "cluster flag on the register" -- "$hindcast" run --workload=flight
one_line_error "cluster flag on the register"
contains "$tmp/err" '^hindcast: --workload applies to --system=cluster only' "cluster flag named"
expect 2 "register flag on the cluster" -- "$hindcast" run --system=cluster --ops=5
expect 2 "save into missing dir" -- "$hindcast" run --seed=1 --save="$tmp/no/such/dir/x.textproto"
if [ ! -e "$tmp/no/such/dir/x.textproto.tmp" ]; then passed=$((passed + 1)); else
  echo "FAIL: half-written file left"; failures=$((failures + 1)); fi
expect 0 "help" -- "$hindcast" sweep --help
contains "$tmp/out" '--shard' "help lists flags"

# The cluster's workloads and the application bug.
for w in list-append register inventory profile flight; do
  expect 0 "cluster $w holds" -- "$hindcast" run --system=cluster --workload=$w --faults=none --seed=1
  contains "$tmp/out" 'verdict=ok$' "cluster $w verdict"
done
expect 2 "unknown workload" -- "$hindcast" run --system=cluster --workload=nope
one_line_error "unknown workload"
contains "$tmp/err" 'list-append, register, inventory' "unknown workload lists the workloads"
expect 2 "inventory bug outside inventory" -- "$hindcast" run --system=cluster \
  --bug=inventory_check_then_update
one_line_error "inventory bug outside inventory"
expect 0 "bug list" -- "$hindcast" run --bug=list
contains "$tmp/out" '^inventory_check_then_update system=cluster workload=inventory ' "bug list names inventory"

# sweep --save-failures writes replayable seed cases; a missing directory is bad usage.
mkdir "$tmp/failures"
expect 1 "sweep saves failures" -- "$hindcast" sweep --system=cluster --workload=inventory \
  --bug=inventory_check_then_update --seeds=1..12 --save-failures="$tmp/failures"
saved=$(ls "$tmp/failures" | head -1)
if [ -n "$saved" ]; then passed=$((passed + 1)); else
  echo "FAIL: sweep --save-failures wrote nothing"; failures=$((failures + 1)); fi
expect 0 "saved failure replays" -- "$hindcast" replay "$tmp/failures/$saved"
contains "$tmp/out" 'verdict=violation$' "saved failure is a violation"
expect 2 "save-failures into a missing directory" -- "$hindcast" sweep --seeds=1..2 \
  --save-failures="$tmp/no/such/dir"
one_line_error "save-failures into a missing directory"

# shrink: a failing scenario shrinks to a seed case that replays; a passing one is exit 1.
expect 0 "shrink" -- "$hindcast" shrink --system=cluster --workload=inventory \
  --bug=inventory_check_then_update --seed=10 --out="$tmp/min.textproto"
contains "$tmp/out" '^shrunk in [0-9]+ runs' "shrink reports"
expect 0 "shrunk case replays" -- "$hindcast" replay "$tmp/min.textproto"
contains "$tmp/out" 'verdict=violation$' "shrunk case still fails"
expect 1 "shrink a passing scenario" -- "$hindcast" shrink --system=cluster --faults=none \
  --seed=1 --out="$tmp/none.textproto"
if [ ! -e "$tmp/none.textproto" ]; then passed=$((passed + 1)); else
  echo "FAIL: shrink wrote a file for a passing scenario"; failures=$((failures + 1)); fi
expect 2 "shrink bad budget" -- "$hindcast" shrink --budget=0
one_line_error "shrink bad budget"
expect 2 "shrink missing file" -- "$hindcast" shrink "$tmp/nope.textproto"
one_line_error "shrink missing file"

echo "cli: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
