#!/usr/bin/env bash
# Instructions per rule evaluation on the 10,000-rule realistic workload, counted by callgrind: the
# difference between a run of 2 rounds of 1,000 events and a run that only builds the workload.
# Usage: Benchmarks/instructions.sh [--all-new]      (needs valgrind: apt-get install -y valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
export HERALD_BENCHMARKS=1
# Dictionary hashing is seeded per process unless told otherwise; fixed, the two runs build the same tables.
export SWIFT_DETERMINISTIC_HASHING=1
swift build -c release --scratch-path .build-benchmarks --product RuleEngineInstructions | grep -E "error|warning:" || true
binary=$(mktemp)
cp .build-benchmarks/release/RuleEngineInstructions "$binary"
# valgrind cannot read the DWARF the toolchain emits; symbols are enough.
chmod +x "$binary"
strip --strip-debug "$binary"
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$binary" "$1" "${@:2}" 2>&1 | awk '/Collected/ {print $4}'
}
setup=$(count 0 "$@")
measured=$(count 2 "$@")
rm -f "$binary"
echo "instructions per evaluation: $(( (measured - setup) / 2000 ))"
