//! The workload runner: times the `kl_fn!`-generated kernels on random valid inputs against the
//! time it takes to stream-read the same input bytes once (the memory floor).
//!
//! ```sh
//! cargo run --release --example workloads -- --json [NAME ...]
//! ```
//!
//! With `--json`, one line per workload:
//! `{"system": "kl", "workload": NAME, "batch": B, "dim": d, "dtype": "f32"|"f64", "seconds": MEDIAN,
//! "ns_per_batch_elem": X, "floor_seconds": F}`, where `seconds` is the median of the timed runs
//! (at least 7, after a warm-up, single-threaded) of the checked `NAME_into` function, and
//! `floor_seconds` the median, measured in the same run and interleaved with it, of one
//! streaming read of the workload's input arrays. Options:
//!
//! * `--unchecked`: time `NAME_into_unchecked` instead (the JSON lines then also carry
//!   `"variant": "unchecked"`);
//! * `--reps N`: timed runs per workload (default 11, at least 7);
//! * `--list`: print the workload names.
//!
//! Built with `--features rayon`, the checked functions split large batches across threads
//! (`kl::runtime::batch::PARALLEL`); their JSON lines then carry `"parallel": true`, since they are not
//! the single-threaded measurement of the contract.
//!
//! Without `--json` it prints a table with both variants and their ratios to the floor.
//!
//! The `grad_*` workloads time the value plus every gradient: the checked `NAME_vjp_into` (and
//! `_vjp_into_unchecked`) of the value workload without the prefix, with an upstream gradient
//! of ones; their `floor_seconds` is one streaming read of the inputs plus one streaming write
//! of every gradient buffer.
//!
//! Inputs are contiguous row-major (batch-major) arrays, as a tensor library hands them over:
//! positive scales, and well-conditioned lower-triangular factors with positive diagonals (zeros
//! above the diagonal); covariance matrices are full symmetric `L Lᵀ`.

use kl::kl_fn;
use std::hint::black_box;
use std::time::Instant;

kl_fn! {
    /// `diag_kl_d8`.
    pub fn diag_kl_d8(m1: [B, 8], s1: [B, 8], m2: [B, 8], s2: [B, 8]) -> f32 {
        Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)
    }
}

kl_fn! {
    /// `diag_kl_d64`.
    pub fn diag_kl_d64(m1: [B, 64], s1: [B, 64], m2: [B, 64], s2: [B, 64]) -> f32 {
        Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)
    }
}

kl_fn! {
    /// `diag_kl_d64_f64`.
    pub fn diag_kl_d64_f64(m1: [B, 64], s1: [B, 64], m2: [B, 64], s2: [B, 64]) -> f64 {
        Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)
    }
}

kl_fn! {
    /// `std_prior_d64`.
    pub fn std_prior_d64(m: [B, 64], s: [B, 64]) -> f32 {
        Normal(m, s).to_event(1) || Normal(0, 1).expand([64]).to_event(1)
    }
}

kl_fn! {
    /// `tril_kl_d3`.
    pub fn tril_kl_d3(m1: [B, 3], l1: [B, 3, 3], m2: [B, 3], l2: [B, 3, 3]) -> f64 {
        MultivariateNormal(m1, scale_tril = l1) || MultivariateNormal(m2, scale_tril = l2)
    }
}

kl_fn! {
    /// `tril_kl_d8`.
    pub fn tril_kl_d8(m1: [B, 8], l1: [B, 8, 8], m2: [B, 8], l2: [B, 8, 8]) -> f64 {
        MultivariateNormal(m1, scale_tril = l1) || MultivariateNormal(m2, scale_tril = l2)
    }
}

kl_fn! {
    /// `tril_kl_d32`.
    pub fn tril_kl_d32(m1: [B, 32], l1: [B, 32, 32], m2: [B, 32], l2: [B, 32, 32]) -> f64 {
        MultivariateNormal(m1, scale_tril = l1) || MultivariateNormal(m2, scale_tril = l2)
    }
}

kl_fn! {
    /// `cov_kl_d4`.
    pub fn cov_kl_d4(m1: [B, 4], c1: [B, 4, 4], m2: [B, 4], c2: [B, 4, 4]) -> f64 {
        MultivariateNormal(m1, covariance_matrix = c1) || MultivariateNormal(m2, covariance_matrix = c2)
    }
}

kl_fn! {
    /// `diag_vs_tril_d8`.
    pub fn diag_vs_tril_d8(m1: [B, 8], s1: [B, 8], m2: [B, 8], l2: [B, 8, 8]) -> f64 {
        Normal(m1, s1).to_event(1) || MultivariateNormal(m2, scale_tril = l2)
    }
}

kl_fn! {
    /// `diag_logprob_d8`.
    pub fn diag_logprob_d8(m: [B, 8], s: [B, 8], x: [B, 8]) -> f32 {
        log_prob(Normal(m, s).to_event(1), x)
    }
}

kl_fn! {
    /// `gamma_kl_1e6`.
    pub fn gamma_kl_1e6(a1: [B], b1: [B], a2: [B], b2: [B]) -> f32 {
        Gamma(a1, b1) || Gamma(a2, b2)
    }
}

kl_fn! {
    /// `bernoulli_logits_kl_1e6`.
    pub fn bernoulli_logits_kl_1e6(l1: [B], l2: [B]) -> f32 {
        Bernoulli(logits=l1) || Bernoulli(logits=l2)
    }
}

kl_fn! {
    /// `categorical_kl_k64`.
    pub fn categorical_kl_k64(l1: [B, 64], l2: [B, 64]) -> f32 {
        Categorical(logits=l1) || Categorical(logits=l2)
    }
}

kl_fn! {
    /// `beta_kl_1e6`.
    pub fn beta_kl_1e6(a1: [B], b1: [B], a2: [B], b2: [B]) -> f32 {
        Beta(a1, b1) || Beta(a2, b2)
    }
}

kl_fn! {
    /// `dirichlet_kl_k16`.
    pub fn dirichlet_kl_k16(c1: [B, 16], c2: [B, 16]) -> f32 {
        Dirichlet(c1) || Dirichlet(c2)
    }
}

/// SplitMix64: small, fast and good enough for benchmark inputs; fixed seeds make runs
/// comparable.
use kl::runtime::testing::SplitMix64 as Rng;

/// A floating-point element type of the workloads.
trait Elem: Copy + Default + Send + Sync + 'static {
    const NAME: &'static str;
    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
    /// One streaming read of `xs`, folded into a checksum so that it cannot be optimized away.
    fn stream(xs: &[Self]) -> u64;
}

/// Integer lanes that LLVM vectorizes into full-width loads and adds: the loop does one load
/// and one add per vector, far less than the memory system delivers, so it measures the read.
macro_rules! stream_bits {
    ($xs:expr, $u:ty) => {{
        const LANES: usize = 64 / core::mem::size_of::<$u>() * 2;
        let mut acc = [0 as $u; LANES];
        let chunks = $xs.chunks_exact(LANES);
        let tail = chunks.remainder();
        for c in chunks {
            for k in 0..LANES {
                acc[k] = acc[k].wrapping_add(c[k].to_bits());
            }
        }
        let mut s = tail.iter().fold(0 as $u, |a, x| a.wrapping_add(x.to_bits()));
        for a in acc {
            s = s.wrapping_add(a);
        }
        s as u64
    }};
}

impl Elem for f32 {
    const NAME: &'static str = "f32";
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn stream(xs: &[Self]) -> u64 {
        stream_bits!(xs, u32)
    }
}

impl Elem for f64 {
    const NAME: &'static str = "f64";
    fn from_f64(x: f64) -> Self {
        x
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn stream(xs: &[Self]) -> u64 {
        stream_bits!(xs, u64)
    }
}

/// A kernel over flat input slices (in the generated functions' argument order), the batch
/// size and the output buffer.
type Kernel<T> = fn(&[&[T]], usize, &mut [T]) -> Result<(), kl::Error>;

/// A vector–Jacobian product (`NAME_vjp_into`): inputs, batch size, upstream gradient, output
/// buffer and one gradient buffer per input.
type GradKernel<T> = fn(&[&[T]], usize, &[T], &mut [T], &mut [Vec<T>]) -> Result<(), kl::Error>;

/// What a workload times: the value, or the value plus every gradient.
enum Run<T: Elem> {
    Value { checked: Kernel<T>, unchecked: Kernel<T> },
    Grad { checked: GradKernel<T>, unchecked: GradKernel<T> },
}

struct Workload<T: Elem> {
    name: &'static str,
    batch: usize,
    dim: usize,
    inputs: fn(&mut Rng, usize, usize) -> Vec<Vec<f64>>,
    run: Run<T>,
}

/// Means in `[-1, 1)`, scales in `[0.5, 2)`.
fn means(rng: &mut Rng, b: usize, d: usize) -> Vec<f64> {
    rng.vec(b * d, -1.0, 1.0)
}
fn scales(rng: &mut Rng, b: usize, d: usize) -> Vec<f64> {
    rng.vec(b * d, 0.5, 2.0)
}

/// Inputs of the two-sided diagonal KL, in argument order `m1, s1, m2, s2` (drawn in the order
/// `m1, m2, s1, s2`, so the data stay those of earlier runs).
fn diag_inputs(r: &mut Rng, b: usize, d: usize) -> Vec<Vec<f64>> {
    let (m1, m2, s1, s2) = (means(r, b, d), means(r, b, d), scales(r, b, d), scales(r, b, d));
    vec![m1, s1, m2, s2]
}

/// `m1, l1, m2, l2` (or `m1, c1, m2, c2` with covariances), drawn as `l1, l2, m1, m2`.
fn tril_inputs(r: &mut Rng, b: usize, d: usize) -> Vec<Vec<f64>> {
    let (l1, l2, m1, m2) = (r.trils(b, d), r.trils(b, d), means(r, b, d), means(r, b, d));
    vec![m1, l1, m2, l2]
}
fn cov_inputs(r: &mut Rng, b: usize, d: usize) -> Vec<Vec<f64>> {
    let (c1, c2, m1, m2) = (r.covs(b, d), r.covs(b, d), means(r, b, d), means(r, b, d));
    vec![m1, c1, m2, c2]
}

/// Adapts a generated function with `N` slice arguments (`kernel!(f, 0, 1, ..)`) to [`Kernel`].
macro_rules! kernel {
    ($f:path, $($k:literal),+) => {
        |xs, b, out| $f($(xs[$k],)+ b, out)
    };
}

/// Adapts a generated VJP with `N` inputs (`grad_kernel!(f, 0 => g0, 1 => g1, ..)`) to
/// [`GradKernel`].
macro_rules! grad_kernel {
    ($f:path, $($k:literal => $g:ident),+) => {
        |xs, b, up, out, g| match g {
            [$($g),+] => $f($(xs[$k],)+ b, up, out, $($g),+),
            _ => unreachable!("one gradient buffer per input"),
        }
    };
}

/// The gradient workloads of the issue's table: each is the value workload of the same data
/// (`grad_X` times `X`'s VJP).
fn grad<T: Elem>(
    name: &'static str,
    of: &[Workload<T>],
    checked: GradKernel<T>,
    unchecked: GradKernel<T>,
) -> Workload<T> {
    let w = of.iter().find(|w| name.strip_prefix("grad_") == Some(w.name)).expect("a value workload of this name");
    Workload { name, batch: w.batch, dim: w.dim, inputs: w.inputs, run: Run::Grad { checked, unchecked } }
}

fn f32_workloads() -> Vec<Workload<f32>> {
    let mut all = f32_value_workloads();
    all.extend([
        grad(
            "grad_diag_kl_d8",
            &all,
            grad_kernel!(diag_kl_d8_vjp_into, 0 => g0, 1 => g1, 2 => g2, 3 => g3),
            grad_kernel!(diag_kl_d8_vjp_into_unchecked, 0 => g0, 1 => g1, 2 => g2, 3 => g3),
        ),
        grad(
            "grad_diag_kl_d64",
            &all,
            grad_kernel!(diag_kl_d64_vjp_into, 0 => g0, 1 => g1, 2 => g2, 3 => g3),
            grad_kernel!(diag_kl_d64_vjp_into_unchecked, 0 => g0, 1 => g1, 2 => g2, 3 => g3),
        ),
        grad(
            "grad_std_prior_d64",
            &all,
            grad_kernel!(std_prior_d64_vjp_into, 0 => g0, 1 => g1),
            grad_kernel!(std_prior_d64_vjp_into_unchecked, 0 => g0, 1 => g1),
        ),
    ]);
    all
}

fn f32_value_workloads() -> Vec<Workload<f32>> {
    vec![
        Workload {
            name: "diag_kl_d8",
            batch: 1_000_000,
            dim: 8,
            inputs: diag_inputs,
            run: Run::Value {
                checked: kernel!(diag_kl_d8_into, 0, 1, 2, 3),
                unchecked: kernel!(diag_kl_d8_into_unchecked, 0, 1, 2, 3),
            },
        },
        Workload {
            name: "diag_kl_d64",
            batch: 100_000,
            dim: 64,
            inputs: diag_inputs,
            run: Run::Value {
                checked: kernel!(diag_kl_d64_into, 0, 1, 2, 3),
                unchecked: kernel!(diag_kl_d64_into_unchecked, 0, 1, 2, 3),
            },
        },
        Workload {
            name: "std_prior_d64",
            batch: 100_000,
            dim: 64,
            // `m, s`
            inputs: |r, b, d| vec![means(r, b, d), scales(r, b, d)],
            run: Run::Value {
                checked: kernel!(std_prior_d64_into, 0, 1),
                unchecked: kernel!(std_prior_d64_into_unchecked, 0, 1),
            },
        },
        Workload {
            name: "diag_logprob_d8",
            batch: 1_000_000,
            dim: 8,
            // `m, s, x`
            inputs: |r, b, d| vec![means(r, b, d), scales(r, b, d), r.vec(b * d, -3.0, 3.0)],
            run: Run::Value {
                checked: kernel!(diag_logprob_d8_into, 0, 1, 2),
                unchecked: kernel!(diag_logprob_d8_into_unchecked, 0, 1, 2),
            },
        },
        Workload {
            name: "gamma_kl_1e6",
            batch: 1_000_000,
            dim: 1,
            inputs: concentrations::<4>,
            run: Run::Value {
                checked: kernel!(gamma_kl_1e6_into, 0, 1, 2, 3),
                unchecked: kernel!(gamma_kl_1e6_into_unchecked, 0, 1, 2, 3),
            },
        },
        Workload {
            name: "bernoulli_logits_kl_1e6",
            batch: 1_000_000,
            dim: 1,
            inputs: logits,
            run: Run::Value {
                checked: kernel!(bernoulli_logits_kl_1e6_into, 0, 1),
                unchecked: kernel!(bernoulli_logits_kl_1e6_into_unchecked, 0, 1),
            },
        },
        Workload {
            name: "categorical_kl_k64",
            batch: 100_000,
            dim: 64,
            inputs: logits,
            run: Run::Value {
                checked: kernel!(categorical_kl_k64_into, 0, 1),
                unchecked: kernel!(categorical_kl_k64_into_unchecked, 0, 1),
            },
        },
        Workload {
            name: "beta_kl_1e6",
            batch: 1_000_000,
            dim: 1,
            inputs: concentrations::<4>,
            run: Run::Value {
                checked: kernel!(beta_kl_1e6_into, 0, 1, 2, 3),
                unchecked: kernel!(beta_kl_1e6_into_unchecked, 0, 1, 2, 3),
            },
        },
        Workload {
            name: "dirichlet_kl_k16",
            batch: 100_000,
            dim: 16,
            inputs: concentrations::<2>,
            run: Run::Value {
                checked: kernel!(dirichlet_kl_k16_into, 0, 1),
                unchecked: kernel!(dirichlet_kl_k16_into_unchecked, 0, 1),
            },
        },
    ]
}

/// `N` arrays of `b x d` concentrations (or rates), uniform in `[0.5, 5)`.
/// Two standard normal logits arrays (Box–Muller).
fn logits(r: &mut Rng, b: usize, d: usize) -> Vec<Vec<f64>> {
    let mut normal = || {
        let (u, v) = (r.uniform(f64::MIN_POSITIVE, 1.0), r.uniform(0.0, 1.0));
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    };
    (0..2).map(|_| (0..b * d).map(|_| normal()).collect()).collect()
}

fn concentrations<const N: usize>(r: &mut Rng, b: usize, d: usize) -> Vec<Vec<f64>> {
    (0..N).map(|_| r.vec(b * d, 0.5, 5.0)).collect()
}

fn f64_workloads() -> Vec<Workload<f64>> {
    let mut all = f64_value_workloads();
    all.extend([
        grad(
            "grad_tril_kl_d8",
            &all,
            grad_kernel!(tril_kl_d8_vjp_into, 0 => g0, 1 => g1, 2 => g2, 3 => g3),
            grad_kernel!(tril_kl_d8_vjp_into_unchecked, 0 => g0, 1 => g1, 2 => g2, 3 => g3),
        ),
        grad(
            "grad_diag_vs_tril_d8",
            &all,
            grad_kernel!(diag_vs_tril_d8_vjp_into, 0 => g0, 1 => g1, 2 => g2, 3 => g3),
            grad_kernel!(diag_vs_tril_d8_vjp_into_unchecked, 0 => g0, 1 => g1, 2 => g2, 3 => g3),
        ),
    ]);
    all
}

fn f64_value_workloads() -> Vec<Workload<f64>> {
    vec![
        Workload {
            name: "diag_kl_d64_f64",
            batch: 100_000,
            dim: 64,
            inputs: diag_inputs,
            run: Run::Value {
                checked: kernel!(diag_kl_d64_f64_into, 0, 1, 2, 3),
                unchecked: kernel!(diag_kl_d64_f64_into_unchecked, 0, 1, 2, 3),
            },
        },
        Workload {
            name: "tril_kl_d3",
            batch: 200_000,
            dim: 3,
            inputs: tril_inputs,
            run: Run::Value {
                checked: kernel!(tril_kl_d3_into, 0, 1, 2, 3),
                unchecked: kernel!(tril_kl_d3_into_unchecked, 0, 1, 2, 3),
            },
        },
        Workload {
            name: "tril_kl_d8",
            batch: 100_000,
            dim: 8,
            inputs: tril_inputs,
            run: Run::Value {
                checked: kernel!(tril_kl_d8_into, 0, 1, 2, 3),
                unchecked: kernel!(tril_kl_d8_into_unchecked, 0, 1, 2, 3),
            },
        },
        Workload {
            name: "tril_kl_d32",
            batch: 10_000,
            dim: 32,
            inputs: tril_inputs,
            run: Run::Value {
                checked: kernel!(tril_kl_d32_into, 0, 1, 2, 3),
                unchecked: kernel!(tril_kl_d32_into_unchecked, 0, 1, 2, 3),
            },
        },
        Workload {
            name: "cov_kl_d4",
            batch: 100_000,
            dim: 4,
            inputs: cov_inputs,
            run: Run::Value {
                checked: kernel!(cov_kl_d4_into, 0, 1, 2, 3),
                unchecked: kernel!(cov_kl_d4_into_unchecked, 0, 1, 2, 3),
            },
        },
        Workload {
            name: "diag_vs_tril_d8",
            batch: 100_000,
            dim: 8,
            // `m1, s1, m2, l2`, drawn as `l2, m1, m2, s1`
            inputs: |r, b, d| {
                let (l2, m1, m2, s1) = (r.trils(b, d), means(r, b, d), means(r, b, d), scales(r, b, d));
                vec![m1, s1, m2, l2]
            },
            run: Run::Value {
                checked: kernel!(diag_vs_tril_d8_into, 0, 1, 2, 3),
                unchecked: kernel!(diag_vs_tril_d8_into_unchecked, 0, 1, 2, 3),
            },
        },
    ]
}

/// The order of the issues' tables.
const ORDER: [&str; 20] = [
    "diag_kl_d8",
    "diag_kl_d64",
    "diag_kl_d64_f64",
    "std_prior_d64",
    "tril_kl_d3",
    "tril_kl_d8",
    "tril_kl_d32",
    "cov_kl_d4",
    "diag_vs_tril_d8",
    "diag_logprob_d8",
    "gamma_kl_1e6",
    "beta_kl_1e6",
    "dirichlet_kl_k16",
    "bernoulli_logits_kl_1e6",
    "categorical_kl_k64",
    "grad_diag_kl_d8",
    "grad_diag_kl_d64",
    "grad_std_prior_d64",
    "grad_tril_kl_d8",
    "grad_diag_vs_tril_d8",
];

struct Timing {
    checked: f64,
    unchecked: f64,
    floor: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn time<R>(f: impl FnOnce() -> R) -> f64 {
    let start = Instant::now();
    black_box(f());
    start.elapsed().as_secs_f64()
}

/// Warm up, then `reps` rounds of (floor, checked, unchecked), interleaved so that all three
/// see the same machine state; medians of each. For a gradient workload the floor is one
/// streaming read of the inputs plus one streaming write of the gradients (a fill of buffers
/// of the inputs' sizes), and the upstream gradient is all ones (the gradient of the sum).
fn measure<T: Elem>(w: &Workload<T>, reps: usize) -> Timing {
    let mut rng = Rng(0x5eed_0000 + w.name.trim_start_matches("grad_").len() as u64 * 7919 + w.dim as u64);
    let inputs: Vec<Vec<T>> =
        (w.inputs)(&mut rng, w.batch, w.dim).into_iter().map(|v| v.into_iter().map(T::from_f64).collect()).collect();
    let slices: Vec<&[T]> = inputs.iter().map(|v| &v[..]).collect();
    let mut out = vec![T::default(); w.batch];
    let ones = vec![T::from_f64(1.0); w.batch];
    let grad = matches!(w.run, Run::Grad { .. });
    let mut grads: Vec<Vec<T>> =
        if grad { inputs.iter().map(|v| vec![T::default(); v.len()]).collect() } else { Vec::new() };
    let floor = |s: &[&[T]], g: &mut [Vec<T>]| {
        let read = s.iter().fold(0u64, |a, x| a.wrapping_add(T::stream(black_box(x))));
        for (k, g) in g.iter_mut().enumerate() {
            g.fill(T::from_f64(k as f64));
            black_box(&g[..]);
        }
        read
    };
    let run = |checked: bool, out: &mut [T], grads: &mut [Vec<T>]| {
        let r = match (&w.run, checked) {
            (Run::Value { checked, .. }, true) => checked(black_box(&slices), w.batch, out),
            (Run::Value { unchecked, .. }, false) => unchecked(black_box(&slices), w.batch, out),
            (Run::Grad { checked, .. }, true) => checked(black_box(&slices), w.batch, &ones, out, grads),
            (Run::Grad { unchecked, .. }, false) => unchecked(black_box(&slices), w.batch, &ones, out, grads),
        };
        r.unwrap_or_else(|e| panic!("{}: {e}", w.name));
    };
    for _ in 0..2 {
        black_box(floor(&slices, &mut grads));
        run(true, &mut out, &mut grads);
        run(false, &mut out, &mut grads);
    }
    // Both variants compute the same thing; a finite result guards against a broken input set.
    assert!(out.iter().all(|v| v.to_f64().is_finite()), "{}: non-finite result", w.name);
    assert!(grads.iter().flatten().all(|v| v.to_f64().is_finite()), "{}: non-finite gradient", w.name);
    let (mut f, mut c, mut u) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..reps {
        f.push(time(|| floor(&slices, &mut grads)));
        c.push(time(|| run(true, &mut out, &mut grads)));
        u.push(time(|| run(false, &mut out, &mut grads)));
    }
    black_box(&out);
    Timing { checked: median(c), unchecked: median(u), floor: median(f) }
}

struct Args {
    json: bool,
    unchecked: bool,
    reps: usize,
    names: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args { json: false, unchecked: false, reps: 11, names: Vec::new() };
    let mut it = std::env::args().skip(1);
    while let Some(s) = it.next() {
        match s.as_str() {
            "--json" => a.json = true,
            "--unchecked" => a.unchecked = true,
            "--reps" => {
                let n = it.next().ok_or("--reps needs a number")?;
                a.reps = n.parse().map_err(|_| format!("--reps: `{n}` is not a number"))?;
                if a.reps < 7 {
                    return Err("--reps: at least 7 timed runs".into());
                }
            }
            "--list" => {
                println!("{}", ORDER.join("\n"));
                std::process::exit(0);
            }
            "--bench" => {} // passed by `cargo bench --all-targets`; nothing to do
            flag if flag.starts_with("--") => return Err(format!("unknown option `{flag}`")),
            name if ORDER.contains(&name) => a.names.push(name.to_string()),
            name => return Err(format!("unknown workload `{name}`; known: {}", ORDER.join(", "))),
        }
    }
    if a.names.is_empty() {
        a.names = ORDER.iter().map(|s| s.to_string()).collect();
    }
    Ok(a)
}

fn main() {
    let args = parse_args().unwrap_or_else(|e| {
        eprintln!("workloads: {e}");
        std::process::exit(2)
    });
    let (f32s, f64s) = (f32_workloads(), f64_workloads());
    if !args.json {
        if kl::runtime::batch::PARALLEL {
            println!("# built with the `rayon` feature: the checked entry splits large batches across threads");
        }
        println!(
            "{:<16} {:>9} {:>4} {:>5} {:>11} {:>11} {:>11} {:>10} {:>9} {:>9}",
            "workload",
            "batch",
            "dim",
            "dtype",
            "checked s",
            "unchecked s",
            "floor s",
            "ns/elem",
            "chk/floor",
            "unc/floor"
        );
    }
    for name in &args.names {
        let (batch, dim, dtype, t) = if let Some(w) = f32s.iter().find(|w| w.name == name) {
            (w.batch, w.dim, f32::NAME, measure(w, args.reps))
        } else {
            let w = f64s.iter().find(|w| w.name == name).expect("every listed name has a workload");
            (w.batch, w.dim, f64::NAME, measure(w, args.reps))
        };
        let secs = if args.unchecked { t.unchecked } else { t.checked };
        if args.json {
            let mut variant = if args.unchecked { ", \"variant\": \"unchecked\"" } else { "" }.to_string();
            if kl::runtime::batch::PARALLEL && !args.unchecked {
                // Not the single-threaded contract: say so in the line.
                variant.push_str(", \"parallel\": true");
            }
            println!(
                "{{\"system\": \"kl\", \"workload\": \"{name}\", \"batch\": {batch}, \"dim\": {dim}, \"dtype\": \"{dtype}\", \
                 \"seconds\": {secs:.6e}, \"ns_per_batch_elem\": {:.4}, \"floor_seconds\": {:.6e}{variant}}}",
                secs * 1e9 / batch as f64,
                t.floor
            );
        } else {
            println!(
                "{name:<16} {batch:>9} {dim:>4} {dtype:>5} {:>11.6} {:>11.6} {:>11.6} {:>10.2} {:>9.2} {:>9.2}",
                t.checked,
                t.unchecked,
                t.floor,
                secs * 1e9 / batch as f64,
                t.checked / t.floor,
                t.unchecked / t.floor
            );
        }
    }
}
