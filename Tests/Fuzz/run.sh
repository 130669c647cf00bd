#!/usr/bin/env bash
# Builds Herald's libFuzzer targets and runs each for a fixed time on a copy of its seed corpus.
#
#   Tests/Fuzz/run.sh [seconds per target, default 10] [target ...]
#
# Targets: ingest-herald ingest-store ingest-envelope decompress config rules slack mattermost button id-token
# console.
# Each target uses its dictionary in Tests/Fuzz/Dictionaries (the keys it reads, numbers at the edges).
# Findings (crash-*, timeout-*, oom-*) are kept in .build-fuzz/findings/<target>/; the script exits 1 if
# any target found one. The grown corpora stay in .build-fuzz/corpus/<target>/ for the next run; the seeds
# in Tests/Fuzz/Corpus/ are never changed by a run.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds="${1:-10}"
shift || true
all=(ingest-herald ingest-store ingest-envelope decompress config rules slack mattermost button id-token console)
targets=("${@:-${all[@]}}")
[[ $# -eq 0 ]] && targets=("${all[@]}")

HERALD_FUZZ=1 swift build --scratch-path .build-fuzz --product HeraldFuzz --sanitize=fuzzer 2>&1 | grep -v '^\[' || true
binary="$(HERALD_FUZZ=1 swift build --scratch-path .build-fuzz --product HeraldFuzz --sanitize=fuzzer --show-bin-path)/HeraldFuzz"
[[ -x "$binary" ]] || { echo "the fuzz build failed" >&2; exit 1; }

failed=0
printf '%-16s %12s %8s %8s %s\n' target executions coverage features findings
for target in "${targets[@]}"; do
    corpus=".build-fuzz/corpus/$target"
    findings=".build-fuzz/findings/$target"
    mkdir -p "$corpus" "$findings"
    cp -n "Tests/Fuzz/Corpus/$target"/* "$corpus"/ 2>/dev/null || true
    log=".build-fuzz/findings/$target.log"
    # -timeout: one input taking over 5 s is a finding; -rss_limit_mb: so is memory past 2 GB.
    set +e
    dictionary=()
    [[ -f "Tests/Fuzz/Dictionaries/$target.dict" ]] && dictionary=(-dict="Tests/Fuzz/Dictionaries/$target.dict")
    HERALD_FUZZ_TARGET="$target" "$binary" "$corpus" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
        -max_len=65536 -artifact_prefix="$findings/" -print_final_stats=1 "${dictionary[@]}" >"$log" 2>&1
    status=$?
    set -e
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
    found=$(find "$findings" -maxdepth 1 -type f | wc -l)
    printf '%-16s %12s %8s %8s %s\n' "$target" "$runs" "$cov" "$ft" "$found"
    if [[ $status -ne 0 || $found -ne 0 ]]; then
        failed=1
        tail -40 "$log" >&2
    fi
done
exit $failed
