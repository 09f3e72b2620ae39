#!/usr/bin/env bash
# Run one fuzz target with the seed corpus and the language dictionary.
# usage: fuzz/run.sh TARGET [SECONDS]     (TARGET: parse, check, emit, expand)
# Stable toolchain: no sanitizer (ASan needs nightly); debug assertions and overflow checks on.
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?target: parse, check, emit or expand}
secs=${2:-600}
mkdir -p "corpus/$target"
cp -n ../tests/inputs/*.kl ../tests/errors/*.kl seeds/* "corpus/$target/"
cargo fuzz run --sanitizer none "$target" "corpus/$target" -- \
    -dict=kl.dict -max_len=512 -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 \
    -print_final_stats=1
