"""kl against PyTorch and JAX on the workloads of `examples/workloads.rs`.

Runs each workload through `torch.distributions.kl_divergence` (default arguments, and with
`validate_args=False`) and through jitted JAX, single-threaded, on random valid inputs of the same
shapes and dtypes; runs the kl workload runner (checked `_into` and `_into_unchecked`); and writes
a markdown table of medians and ratios to `RESULTS.md` beside this file.

Usage (see run.sh, which also creates the venv):
    python compare.py [--reps N] [--skip-kl | --kl-bin PATH] [--only NAME ...] [--out PATH]

The kl runner is `cargo run --release --example workloads` by default; `--kl-bin PATH` runs an
already built runner binary instead (e.g. a copy of target/release/examples/workloads), so that
nothing is compiled. `--out` writes the table elsewhere than RESULTS.md (e.g. for a partial run).

Timings are medians of at least 7 runs after a warm-up. Distribution objects are built inside the
timed region, as a user's training step builds them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

# Single-threaded, like the kl runner: set before torch / jax are imported.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

# name: (kind, batch, dim, dtype) -- the table, the same as examples/workloads.rs.
WORKLOADS = {
    "diag_kl_d8": ("diag", 1_000_000, 8, "f32"),
    "diag_kl_d64": ("diag", 100_000, 64, "f32"),
    "diag_kl_d64_f64": ("diag", 100_000, 64, "f64"),
    "std_prior_d64": ("std_prior", 100_000, 64, "f32"),
    "tril_kl_d3": ("tril", 200_000, 3, "f64"),
    "tril_kl_d8": ("tril", 100_000, 8, "f64"),
    "tril_kl_d32": ("tril", 10_000, 32, "f64"),
    "cov_kl_d4": ("cov", 100_000, 4, "f64"),
    "diag_vs_tril_d8": ("diag_vs_tril", 100_000, 8, "f64"),
    "diag_logprob_d8": ("logprob", 1_000_000, 8, "f32"),
    "gamma_kl_1e6": ("gamma", 1_000_000, 1, "f32"),
    "beta_kl_1e6": ("beta", 1_000_000, 1, "f32"),
    "dirichlet_kl_k16": ("dirichlet", 100_000, 16, "f32"),
    "bernoulli_logits_kl_1e6": ("bernoulli_logits", 1_000_000, 1, "f32"),
    "categorical_kl_k64": ("categorical_logits", 100_000, 64, "f32"),
    # Value plus the gradient of the summed result with respect to every input: kl's emitted
    # VJP, PyTorch autograd (forward, then `.sum().backward()` through `torch.autograd.grad`),
    # and JAX `jit(value_and_grad)`.
    "grad_diag_kl_d8": ("grad:diag", 1_000_000, 8, "f32"),
    "grad_diag_kl_d64": ("grad:diag", 100_000, 64, "f32"),
    "grad_std_prior_d64": ("grad:std_prior", 100_000, 64, "f32"),
    "grad_tril_kl_d8": ("grad:tril", 100_000, 8, "f64"),
    "grad_diag_vs_tril_d8": ("grad:diag_vs_tril", 100_000, 8, "f64"),
}


def inputs(kind: str, b: int, d: int, dtype: str, seed: int = 0) -> dict[str, np.ndarray]:
    """Random valid inputs: means in [-1, 1), scales in [0.5, 2), lower-triangular factors with
    diagonals in [0.5, 1.5) and small off-diagonals, covariances L Lᵀ; concentrations and rates
    in [0.5, 5); logits standard normal (as the kl runner draws them)."""
    rng = np.random.default_rng(seed)
    dt = np.float32 if dtype == "f32" else np.float64
    kind = kind.removeprefix("grad:")

    def means():
        return rng.uniform(-1, 1, (b, d))

    def scales():
        return rng.uniform(0.5, 2.0, (b, d))

    def trils():
        off = 0.5 / np.sqrt(d)
        l = np.tril(rng.uniform(-off, off, (b, d, d)), -1)
        idx = np.arange(d)
        l[:, idx, idx] = rng.uniform(0.5, 1.5, (b, d))
        return l

    if kind == "diag":
        x = {"m1": means(), "s1": scales(), "m2": means(), "s2": scales()}
    elif kind == "std_prior":
        x = {"m": means(), "s": scales()}
    elif kind == "tril":
        x = {"m1": means(), "l1": trils(), "m2": means(), "l2": trils()}
    elif kind == "cov":
        l1, l2 = trils(), trils()
        x = {"m1": means(), "c1": l1 @ l1.transpose(0, 2, 1), "m2": means(), "c2": l2 @ l2.transpose(0, 2, 1)}
    elif kind == "diag_vs_tril":
        x = {"m1": means(), "s1": scales(), "m2": means(), "l2": trils()}
    elif kind == "logprob":
        x = {"m": means(), "s": scales(), "x": rng.uniform(-3, 3, (b, d))}
    elif kind in ("gamma", "beta"):
        # Concentrations and rates uniform in [0.5, 5), shape [B].
        x = {k: rng.uniform(0.5, 5.0, (b,)) for k in ("a1", "b1", "a2", "b2")}
    elif kind == "dirichlet":
        x = {k: rng.uniform(0.5, 5.0, (b, d)) for k in ("c1", "c2")}
    elif kind == "bernoulli_logits":
        # Standard normal logits, shape [B].
        x = {k: rng.standard_normal((b,)) for k in ("l1", "l2")}
    elif kind == "categorical_logits":
        # Standard normal logits, shape [B, K].
        x = {k: rng.standard_normal((b, d)) for k in ("l1", "l2")}
    else:
        raise ValueError(kind)
    return {k: np.ascontiguousarray(v.astype(dt)) for k, v in x.items()}


def median_time(fn, reps: int) -> float:
    fn()
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def torch_fn(kind: str, x: dict, validate: bool | None):
    """The workload as a PyTorch callable; for a `grad:` workload, the value and the gradients
    of its sum with respect to every input (autograd)."""
    import torch

    if kind.startswith("grad:"):
        f, leaves = torch_value_fn(kind.removeprefix("grad:"), x, validate, True)

        def value_and_grad():
            out = f()
            return out, torch.autograd.grad(out.sum(), list(leaves.values()))

        return value_and_grad
    return torch_value_fn(kind, x, validate, False)[0]


def torch_value_fn(kind: str, x: dict, validate: bool | None, grad: bool):
    """The workload's value as a PyTorch callable, and its input tensors (leaves that require
    grad when `grad`)."""
    import torch
    from torch.distributions import (
        Bernoulli,
        Beta,
        Categorical,
        Dirichlet,
        Gamma,
        Independent,
        MultivariateNormal,
        Normal,
        kl_divergence,
    )

    t = {k: torch.from_numpy(v).requires_grad_(grad) for k, v in x.items()}
    va = {} if validate is None else {"validate_args": validate}

    def build():
        if kind == "diag":
            return lambda: kl_divergence(
                Independent(Normal(t["m1"], t["s1"], **va), 1, **va),
                Independent(Normal(t["m2"], t["s2"], **va), 1, **va),
            )
        if kind == "std_prior":
            d = t["m"].shape[-1]
            zero, one = torch.zeros((), dtype=t["m"].dtype), torch.ones((), dtype=t["m"].dtype)
            return lambda: kl_divergence(
                Independent(Normal(t["m"], t["s"], **va), 1, **va),
                Independent(Normal(zero, one, **va).expand([d]), 1, **va),
            )
        if kind == "tril":
            return lambda: kl_divergence(
                MultivariateNormal(t["m1"], scale_tril=t["l1"], **va),
                MultivariateNormal(t["m2"], scale_tril=t["l2"], **va),
            )
        if kind == "cov":
            return lambda: kl_divergence(
                MultivariateNormal(t["m1"], covariance_matrix=t["c1"], **va),
                MultivariateNormal(t["m2"], covariance_matrix=t["c2"], **va),
            )
        if kind == "diag_vs_tril":
            # PyTorch has no KL(Independent(Normal) || MultivariateNormal): a user densifies the
            # diagonal into a scale_tril.
            return lambda: kl_divergence(
                MultivariateNormal(t["m1"], scale_tril=torch.diag_embed(t["s1"]), **va),
                MultivariateNormal(t["m2"], scale_tril=t["l2"], **va),
            )
        if kind == "logprob":
            return lambda: Independent(Normal(t["m"], t["s"], **va), 1, **va).log_prob(t["x"])
        if kind in ("gamma", "beta"):
            family = Gamma if kind == "gamma" else Beta
            return lambda: kl_divergence(family(t["a1"], t["b1"], **va), family(t["a2"], t["b2"], **va))
        if kind == "dirichlet":
            return lambda: kl_divergence(Dirichlet(t["c1"], **va), Dirichlet(t["c2"], **va))
        if kind == "bernoulli_logits":
            return lambda: kl_divergence(Bernoulli(logits=t["l1"], **va), Bernoulli(logits=t["l2"], **va))
        if kind == "categorical_logits":
            return lambda: kl_divergence(Categorical(logits=t["l1"], **va), Categorical(logits=t["l2"], **va))
        raise ValueError(kind)

    return build(), t

def jax_fn(kind: str, x: dict):
    import jax
    import jax.numpy as jnp
    from jax.scipy.linalg import solve_triangular

    jax.config.update("jax_enable_x64", True)
    a = {k: jnp.asarray(v) for k, v in x.items()}
    grad = kind.startswith("grad:")
    kind = kind.removeprefix("grad:")

    def tril_kl(m1, l1, m2, l2):
        d = m1.shape[-1]
        m = solve_triangular(l2, l1, lower=True)
        z = solve_triangular(l2, m2 - m1, lower=True)
        logdet = jnp.sum(jnp.log(jnp.abs(jnp.diag(l2)))) - jnp.sum(jnp.log(jnp.abs(jnp.diag(l1))))
        return 0.5 * (jnp.sum(m * m) + jnp.sum(z * z) - d) + logdet

    if kind == "diag":
        f = lambda m1, s1, m2, s2: jnp.sum(  # noqa: E731
            jnp.log(s2 / s1) + (s1 * s1 + (m1 - m2) ** 2) / (2 * s2 * s2) - 0.5, axis=-1
        )
        args = (a["m1"], a["s1"], a["m2"], a["s2"])
    elif kind == "std_prior":
        f = lambda m, s: jnp.sum(-jnp.log(s) + 0.5 * (s * s + m * m) - 0.5, axis=-1)  # noqa: E731
        args = (a["m"], a["s"])
    elif kind == "tril":
        f = jax.vmap(tril_kl)
        args = (a["m1"], a["l1"], a["m2"], a["l2"])
    elif kind == "cov":
        f = jax.vmap(lambda m1, c1, m2, c2: tril_kl(m1, jnp.linalg.cholesky(c1), m2, jnp.linalg.cholesky(c2)))
        args = (a["m1"], a["c1"], a["m2"], a["c2"])
    elif kind == "diag_vs_tril":
        f = jax.vmap(lambda m1, s1, m2, l2: tril_kl(m1, jnp.diag(s1), m2, l2))
        args = (a["m1"], a["s1"], a["m2"], a["l2"])
    elif kind == "logprob":
        c = 0.5 * np.log(2 * np.pi)
        f = lambda m, s, x: jnp.sum(-0.5 * ((x - m) / s) ** 2 - jnp.log(s) - c, axis=-1)  # noqa: E731
        args = (a["m"], a["s"], a["x"])
    elif kind in ("gamma", "beta", "dirichlet"):
        # torch.distributions' formulas, with jax.scipy.special.
        from jax.scipy.special import digamma, gammaln

        def gamma_kl(a1, b1, a2, b2):
            return (a1 - a2) * digamma(a1) - gammaln(a1) + gammaln(a2) + a2 * (jnp.log(b1) - jnp.log(b2)) + a1 * (b2 - b1) / b1

        def beta_kl(a1, b1, a2, b2):
            s1, s2 = a1 + b1, a2 + b2
            t1 = gammaln(a2) + gammaln(b2) + gammaln(s1)
            t2 = gammaln(a1) + gammaln(b1) + gammaln(s2)
            t3 = (a1 - a2) * digamma(a1) + (b1 - b2) * digamma(b1) + (s2 - s1) * digamma(s1)
            return t1 - t2 + t3

        def dirichlet_kl(c1, c2):
            s1, s2 = jnp.sum(c1, -1), jnp.sum(c2, -1)
            t1 = gammaln(s1) - gammaln(s2)
            t2 = jnp.sum(gammaln(c2) - gammaln(c1), -1)
            t3 = jnp.sum((c1 - c2) * (digamma(c1) - digamma(s1)[..., None]), -1)
            return t1 + t2 + t3

        f = {"gamma": gamma_kl, "beta": beta_kl, "dirichlet": dirichlet_kl}[kind]
        args = tuple(a[k] for k in (("c1", "c2") if kind == "dirichlet" else ("a1", "b1", "a2", "b2")))
    elif kind == "bernoulli_logits":
        # KL = p (l1 - l2) + softplus(l2) - softplus(l1) with p = sigmoid(l1): the closed form
        # p ln(p/q) + (1 - p) ln((1 - p)/(1 - q)) with ln sigmoid(l) = l - softplus(l).
        def bernoulli_kl(l1, l2):
            return jax.nn.sigmoid(l1) * (l1 - l2) + jax.nn.softplus(l2) - jax.nn.softplus(l1)

        f = bernoulli_kl
        args = (a["l1"], a["l2"])
    elif kind == "categorical_logits":
        def categorical_kl(l1, l2):
            lp1, lp2 = jax.nn.log_softmax(l1, axis=-1), jax.nn.log_softmax(l2, axis=-1)
            return jnp.sum(jnp.exp(lp1) * (lp1 - lp2), axis=-1)

        f = categorical_kl
        args = (a["l1"], a["l2"])
    else:
        raise ValueError(kind)
    if grad:
        # The value and the gradient of its sum with respect to every input.
        summed = lambda *xs: jnp.sum(f(*xs))  # noqa: E731
        jf = jax.jit(jax.value_and_grad(summed, argnums=tuple(range(len(args)))))
        return lambda: jax.block_until_ready(jf(*args))
    jf = jax.jit(f)
    return lambda: jf(*args).block_until_ready()


def run_kl(names: list[str], reps: int, kl_bin: str | None = None) -> dict[str, dict]:
    """The workload runner, checked and unchecked, as JSON lines: `cargo run` of the example, or
    the given runner binary (nothing is built then)."""
    out: dict[str, dict] = {}
    if kl_bin:
        runner = [str(Path(kl_bin).resolve())]
    else:
        runner = ["cargo", "run", "--release", "--quiet", "--example", "workloads", "--"]
    for variant in ([], ["--unchecked"]):
        cmd = runner + ["--json", "--reps", str(reps)]
        res = subprocess.run(cmd + variant + names, cwd=ROOT, check=True, capture_output=True, text=True)
        for line in res.stdout.splitlines():
            rec = json.loads(line)
            key = "unchecked" if variant else "checked"
            out.setdefault(rec["workload"], {})[key] = rec
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def ratio(x: float) -> str:
    """`2.7x`; below 1 (kl slower than the best other) with two significant digits: `0.025x`."""
    return f"{x:.1f}x" if x >= 1 else f"{x:.2g}x"


def fmt_ms(s: float | None) -> str:
    return "n/a" if s is None else f"{s * 1e3:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--skip-kl", action="store_true", help="do not run the kl runner")
    ap.add_argument(
        "--kl-bin",
        metavar="PATH",
        help="run this workload runner binary instead of `cargo run --release --example workloads`",
    )
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"))
    ap.add_argument("--save-others", help="write the PyTorch / JAX medians to this JSON file")
    ap.add_argument("--reuse-others", help="take the PyTorch / JAX medians from this JSON file")
    ap.add_argument("--worker", nargs=2, metavar=("NAME", "SYSTEM"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        # One workload on one system, in its own process (see below); prints JSON.
        name, system = args.worker
        kind, b, d, dtype = WORKLOADS[name]
        x = inputs(kind, b, d, dtype)
        if system == "torch":
            import torch

            torch.set_num_threads(1)
            r = {
                "torch": median_time(torch_fn(kind, x, None), args.reps),
                "torch_novalidate": median_time(torch_fn(kind, x, False), args.reps),
            }
        else:
            r = {"jax": median_time(jax_fn(kind, x), args.reps)}
        print(json.dumps(r))
        return

    names = args.only or list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        ap.error(f"unknown workload(s) {', '.join(unknown)}; known: {', '.join(WORKLOADS)}")
    import jax
    import torch

    rows = json.loads(Path(args.reuse_others).read_text()) if args.reuse_others else {}
    for name in names:
        if name in rows:
            continue
        # PyTorch and JAX each in a fresh process: with both loaded in one process, the batched
        # Cholesky of `cov_kl_d4` deadlocked (all threads waiting on a futex), twice.
        r = {}
        for system in ("torch", "jax"):
            cmd = [sys.executable, __file__, "--worker", name, system, "--reps", str(args.reps)]
            try:
                res = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=240)
                r.update(json.loads(res.stdout.strip().splitlines()[-1]))
            except subprocess.TimeoutExpired:
                # Recorded as n/a: JAX's `cov_kl_d4` (vmapped Cholesky and triangular solves,
                # jitted) hangs in XLA here even on its own.
                keys = ("torch", "torch_novalidate") if system == "torch" else ("jax",)
                r.update({k: None for k in keys})
        rows[name] = r
        print(name, {k: fmt_ms(v) for k, v in r.items()}, file=sys.stderr, flush=True)

    if args.save_others:
        Path(args.save_others).write_text(json.dumps(rows, indent=1))
    kl = {} if args.skip_kl else run_kl(names, args.reps, args.kl_bin)

    lines = [
        "# kl against PyTorch and JAX",
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine()}; PyTorch {torch.__version__}, "
        f"JAX {jax.__version__}, Python {platform.python_version()}. Everything single-threaded "
        "(`torch.set_num_threads(1)`, XLA without intra-op threads); medians of "
        f"{args.reps} runs after a warm-up, in milliseconds. `kl` is the checked `NAME_into` of a "
        "`kl_fn!` (validates every value), `kl unchecked` its `_into_unchecked`; floor is one "
        "streaming read of the inputs, measured in the same run. PyTorch builds its distribution "
        "objects inside the timed region; best of default and `validate_args=False`. "
        "`diag_vs_tril_d8` in PyTorch densifies the diagonal (`diag_embed`), since it has no KL "
        "between `Independent(Normal)` and `MultivariateNormal`. `bernoulli_logits_kl_1e6` and "
        "`categorical_kl_k64` are `Bernoulli(logits=..)` / `Categorical(logits=..)` in PyTorch and, "
        "in JAX, the closed forms with `jax.nn` (`sigmoid`, `softplus`; `log_softmax`). The `grad_` "
        "workloads compute the value and the gradient of its sum with respect to every input: kl's "
        "emitted vector-Jacobian product (`NAME_vjp_into`, upstream all ones), PyTorch autograd "
        "(`torch.autograd.grad` of the sum) and `jax.jit(jax.value_and_grad)`; their floor is one "
        "streaming read of the inputs plus one streaming write of the gradients.",
        "",
        "Produced by `benches/compare/run.sh`; the machine is shared and timings are noisy.",
        "",
        "| workload | B x d, dtype | kl | kl unchecked | floor | kl / floor | PyTorch | PyTorch no-validate "
        "| JAX jit | best other / kl |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        kind, b, d, dtype = WORKLOADS[name]
        r = rows[name]
        k = kl.get(name, {})
        chk = k.get("checked", {}).get("seconds")
        unc = k.get("unchecked", {}).get("seconds")
        floor = k.get("checked", {}).get("floor_seconds")
        best = min((v for v in (r["torch"], r["torch_novalidate"], r["jax"]) if v is not None), default=None)
        lines.append(
            f"| {name} | {b:,} x {d}, {dtype} | {fmt_ms(chk)} | {fmt_ms(unc)} | {fmt_ms(floor)} | "
            f"{'n/a' if not (chk and floor) else f'{chk / floor:.2f}'} | {fmt_ms(r['torch'])} | "
            f"{fmt_ms(r['torch_novalidate'])} | {'hung' if r['jax'] is None else fmt_ms(r['jax'])} | "
            f"{'n/a' if not (chk and best) else ratio(best / chk)} |"
        )
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
