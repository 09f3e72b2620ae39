#!/usr/bin/env bash
# kl against PyTorch and JAX: installs both into benches/compare/.venv (git-ignored) on first use,
# then runs compare.py, which runs the kl workload runner too and writes RESULTS.md.
# Not run by CI (it downloads a few GB). Arguments go to compare.py, e.g. `--only diag_kl_d8`, or
# `--kl-bin PATH` to time an already built runner (then nothing is compiled here).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    # The PyPI wheels: torch brings CUDA libraries it does not use on a CPU-only machine.
    "$venv/bin/pip" install --quiet torch jax numpy
fi
cd "$here/../.."
# With `--kl-bin PATH` (an already built runner) or `--skip-kl`, nothing is compiled.
case " $* " in
    *" --kl-bin"* | *" --skip-kl "*) ;;
    *) cargo build --release --example workloads ;;
esac
exec "$venv/bin/python" "$here/compare.py" "$@"
