#!/usr/bin/env bash
# sanitize-threads.sh — ThreadSanitizer over the code that runs on more than one thread: the
# kernel thread pool and everything that splits across it (the concurrency and fast-form
# tests), then compare-levels on a slice of both tasks, every level, two threads.
#
# Builds in debug mode with `--sanitize=thread` into its own folder (.build-tsan, so the release
# build is left alone); the first build takes several minutes. Any report fails the script
# (TSAN_OPTIONS halt_on_error=1, exit status 66).
#
#     bash scripts/sanitize-threads.sh            # everything (what CI runs)
#     QUICK=1 bash scripts/sanitize-threads.sh    # the tests only
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="${SANITIZE_SCRATCH:-.build-tsan}"
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"

echo "== build (debug, ThreadSanitizer) into $scratch"
build_log="$(mktemp)"
if ! swift build --sanitize=thread --scratch-path "$scratch" --build-tests >"$build_log" 2>&1; then
    grep -E "error" "$build_log" | head -40 || tail -40 "$build_log"
    echo "sanitize-threads: the ThreadSanitizer build failed"
    rm -f "$build_log"
    exit 1
fi
grep -E "Build complete" "$build_log" || true
rm -f "$build_log"

echo "== concurrency tests under ThreadSanitizer"
log="$(mktemp)"
status=0
swift test --sanitize=thread --scratch-path "$scratch" --skip-build \
    --filter "ParallelTests|GuardedTests|BatchLoaderTests|FastFormTests|FloatGradientTests|KernelTests|FastKernelTests" \
    >"$log" 2>&1 || status=$?
grep -E "ThreadSanitizer|SUMMARY|Test run|✘|idle pool" "$log" || true
if [ "$status" -ne 0 ]; then
    tail -60 "$log"
    echo "sanitize-threads: the tests failed or ThreadSanitizer reported (exit $status)"
    exit 1
fi
rm -f "$log"

if [ -z "${QUICK:-}" ]; then
    reports="$(mktemp -d)"
    trap 'rm -rf "$reports"' EXIT
    for task in classification regression; do
        echo "== compare-levels --task $task on a slice, 2 threads, under ThreadSanitizer"
        "$scratch/debug/compare-levels" --task "$task" --train-limit 2000 --test-limit 500 --epochs 1 \
            --threads 2 --report-dir "$reports/$task" 2>&1 | grep -E "ThreadSanitizer|SUMMARY|styles are bitwise|styles agree|error"
    done
fi
echo "sanitize-threads: no ThreadSanitizer reports"
