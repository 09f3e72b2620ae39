//! Times the batched kernels of `kl_runtime::mvn_rows` on the sizes of the root crate's workload
//! runner (`examples/workloads.rs`), against one streaming read of the same input bytes.
//!
//! ```sh
//! cargo run --release -p kl-runtime --example mvn_rows -- [--reps N] [--min] [--batch B --inner K] [NAME ...]
//! ```
//!
//! Names: `tril_kl_d3`, `tril_kl_d8`, `tril_kl_d32`, `cov_kl_d4`, `diag_vs_tril_d8` (f64), and
//! the same with an `_f32` suffix. Prints the medians (`--min`: the fastest runs) of the checked
//! and unchecked calls and of the floor, their ratios, and the same per row in ns. `--batch B
//! --inner K` times `K` calls on `B` rows instead (a cache-resident batch: the compute alone).

use kl_runtime::{cov_kl_rows, diag_tril_kl_rows, tril_kl_rows, Real};
use std::hint::black_box;
use std::time::Instant;

/// SplitMix64, as in the workload runner.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }
    fn vec(&mut self, n: usize, lo: f64, hi: f64) -> Vec<f64> {
        (0..n).map(|_| self.uniform(lo, hi)).collect()
    }
    fn trils(&mut self, batch: usize, d: usize) -> Vec<f64> {
        let off = 0.5 / (d as f64).sqrt();
        let mut v = vec![0.0; batch * d * d];
        for m in v.chunks_exact_mut(d * d) {
            for i in 0..d {
                for j in 0..i {
                    m[i * d + j] = self.uniform(-off, off);
                }
                m[i * d + i] = self.uniform(0.5, 1.5);
            }
        }
        v
    }
    fn covs(&mut self, batch: usize, d: usize) -> Vec<f64> {
        let l = self.trils(batch, d);
        let mut c = vec![0.0; batch * d * d];
        for (c, l) in c.chunks_exact_mut(d * d).zip(l.chunks_exact(d * d)) {
            for i in 0..d {
                for j in 0..d {
                    c[i * d + j] = (0..=i.min(j)).map(|k| l[i * d + k] * l[j * d + k]).sum();
                }
            }
        }
        c
    }
}

fn stream<T: Real>(xs: &[T]) -> u64 {
    // Reads the bytes as u64 words, vectorized integer adds.
    let bytes = core::mem::size_of_val(xs);
    let words = unsafe { core::slice::from_raw_parts(xs.as_ptr().cast::<u64>(), bytes / 8) };
    let mut acc = [0u64; 16];
    let chunks = words.chunks_exact(16);
    let tail = chunks.remainder();
    for c in chunks {
        for k in 0..16 {
            acc[k] = acc[k].wrapping_add(c[k]);
        }
    }
    let mut s = tail.iter().fold(0u64, |a, &x| a.wrapping_add(x));
    for a in acc {
        s = s.wrapping_add(a);
    }
    s
}

/// The median, or with `--min` the fastest run (steadier on a busy machine).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if unsafe { MIN } {
        v[0]
    } else {
        v[v.len() / 2]
    }
}

static mut MIN: bool = false;

fn time(f: impl FnOnce() -> bool) -> f64 {
    let t = Instant::now();
    let ok = black_box(f());
    assert!(ok, "kernel returned false");
    t.elapsed().as_secs_f64()
}

type K<T> = fn(&[T], &[T], &[T], &[T], &mut [T], bool) -> bool;

/// `--batch N --inner K`: time K calls on a batch of N rows (a cache-resident batch measures
/// the compute alone); the printed times are per call.
static mut BATCH: usize = 0;
static mut INNER: usize = 1;

fn batch(b: usize) -> usize {
    match unsafe { BATCH } {
        0 => b,
        n => n,
    }
}

fn measure<T: Real>(name: &str, b: usize, inputs: [Vec<f64>; 4], k: K<T>, reps: usize) {
    let inner = unsafe { INNER };
    let xs: Vec<Vec<T>> = inputs.into_iter().map(|v| v.into_iter().map(T::from_f64).collect()).collect();
    let mut out = vec![T::ZERO; b];
    let floor = || (0..inner).fold(0u64, |a, _| xs.iter().fold(a, |a, x| a.wrapping_add(stream(black_box(x)))));
    let run = |out: &mut [T], check: bool| (0..inner).all(|_| k(black_box(&xs[0]), &xs[1], &xs[2], &xs[3], out, check));
    for _ in 0..2 {
        black_box(floor());
        run(&mut out, true);
        run(&mut out, false);
    }
    assert!(out.iter().all(|v| v.is_finite()));
    let (mut f, mut c, mut u) = (vec![], vec![], vec![]);
    for _ in 0..reps {
        f.push(time(|| black_box(floor()) != 1));
        c.push(time(|| run(&mut out, true)));
        u.push(time(|| run(&mut out, false)));
    }
    let n = inner as f64;
    let (f, c, u) = (median(f) / n, median(c) / n, median(u) / n);
    let per = 1e9 / b as f64;
    println!(
        "{name:<20} {b:>7} {:>9.3} {:>9.3} {:>9.3} {:>7.2} {:>7.2} {:>8.2} {:>8.2} {:>8.2}",
        c * 1e3,
        u * 1e3,
        f * 1e3,
        c / f,
        u / f,
        c * per,
        u * per,
        f * per
    );
}

fn tril<T: Real, const D: usize>(name: &str, b: usize, reps: usize) {
    let mut r = Rng(0x5eed_0000 + name.len() as u64 * 7919 + D as u64);
    let (l1, l2) = (r.trils(b, D), r.trils(b, D));
    let (m1, m2) = (r.vec(b * D, -1., 1.), r.vec(b * D, -1., 1.));
    measure::<T>(name, b, [m1, l1, m2, l2], tril_kl_rows::<T, D>, reps);
}

fn diag<T: Real, const D: usize>(name: &str, b: usize, reps: usize) {
    let mut r = Rng(0x5eed_0000 + name.len() as u64 * 7919 + D as u64);
    let l2 = r.trils(b, D);
    let (m1, m2) = (r.vec(b * D, -1., 1.), r.vec(b * D, -1., 1.));
    let s1 = r.vec(b * D, 0.5, 2.0);
    measure::<T>(name, b, [m1, s1, m2, l2], diag_tril_kl_rows::<T, D>, reps);
}

fn cov<T: Real, const D: usize>(name: &str, b: usize, reps: usize) {
    let mut r = Rng(0x5eed_0000 + name.len() as u64 * 7919 + D as u64);
    let (c1, c2) = (r.covs(b, D), r.covs(b, D));
    let (m1, m2) = (r.vec(b * D, -1., 1.), r.vec(b * D, -1., 1.));
    measure::<T>(name, b, [m1, c1, m2, c2], cov_kl_rows::<T, D>, reps);
}

fn main() {
    let mut reps = 15;
    let mut names = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--reps" => reps = args.next().and_then(|n| n.parse().ok()).expect("--reps N"),
            "--bench" => {}
            "--min" => unsafe { MIN = true },
            "--batch" => unsafe { BATCH = args.next().and_then(|n| n.parse().ok()).expect("--batch N") },
            "--inner" => unsafe { INNER = args.next().and_then(|n| n.parse().ok()).expect("--inner K") },
            _ => names.push(a),
        }
    }
    let all = [
        "tril_kl_d3",
        "tril_kl_d8",
        "tril_kl_d32",
        "cov_kl_d4",
        "diag_vs_tril_d8",
        "tril_kl_d3_f32",
        "tril_kl_d8_f32",
        "tril_kl_d32_f32",
        "cov_kl_d4_f32",
        "diag_vs_tril_d8_f32",
    ];
    if names.is_empty() {
        names = all[..5].iter().map(|s| s.to_string()).collect();
    }
    println!(
        "{:<20} {:>7} {:>9} {:>9} {:>9} {:>7} {:>7} {:>8} {:>8} {:>8}",
        "workload", "batch", "chk ms", "unc ms", "floor ms", "chk/fl", "unc/fl", "chk ns/r", "unc ns/r", "fl ns/r"
    );
    for n in &names {
        match n.as_str() {
            "tril_kl_d3" => tril::<f64, 3>(n, batch(200_000), reps),
            "tril_kl_d8" => tril::<f64, 8>(n, batch(100_000), reps),
            "tril_kl_d32" => tril::<f64, 32>(n, batch(10_000), reps),
            "cov_kl_d4" => cov::<f64, 4>(n, batch(100_000), reps),
            "diag_vs_tril_d8" => diag::<f64, 8>(n, batch(100_000), reps),
            "tril_kl_d3_f32" => tril::<f32, 3>(n, batch(200_000), reps),
            "tril_kl_d8_f32" => tril::<f32, 8>(n, batch(100_000), reps),
            "tril_kl_d32_f32" => tril::<f32, 32>(n, batch(10_000), reps),
            "cov_kl_d4_f32" => cov::<f32, 4>(n, batch(100_000), reps),
            "diag_vs_tril_d8_f32" => diag::<f32, 8>(n, batch(100_000), reps),
            other => panic!("unknown workload {other}; known: {all:?}"),
        }
    }
}
