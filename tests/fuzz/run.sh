#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of the pure HTTP code for SECONDS each (default 600).
# Corpora grow under build-fuzz/corpus/<target> (gitignored); seeds are tests/fuzz/corpus/<target>.
# Prints libFuzzer's final stats per target; exits non-zero if any target finds a crash.
# Usage: tests/fuzz/run.sh [SECONDS]
set -u
seconds="${1:-600}"
cd "$(dirname "$0")/../.."
out=build-fuzz
mkdir -p "$out"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -Iinclude)
status=0
for target in http_parser form wal; do
    binary="$out/${target}_fuzz"
    if ! clang++ "${flags[@]}" "tests/fuzz/${target}_fuzz.cpp" http/parser.cpp http/query.cpp \
            -o "$binary"; then
        echo "$target: build failed"
        exit 2
    fi
    corpus="$out/corpus/$target"
    mkdir -p "$corpus"
    log="$out/$target.log"
    "$binary" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$out/${target}-" "$corpus" "tests/fuzz/corpus/$target" >"$log" 2>&1
    rc=$?
    echo "== $target (exit $rc): $(grep -E '^#[0-9]+' "$log" | tail -n 1)"
    grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$log" | sed 's/^/   /'
    if [ "$rc" -ne 0 ]; then
        echo "   CRASH: see $log and $out/${target}-*"
        grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 5 | sed 's/^/   /'
        status=1
    fi
done
exit "$status"
