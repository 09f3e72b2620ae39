//! Times the Gamma, Beta and Dirichlet KL kernels in `f32` over the data of the `kl` workload
//! runner (`gamma_kl_1e6`, `beta_kl_1e6`, `dirichlet_kl_k16`: parameters uniform in
//! `[0.5, 5)`), in loops shaped like the emitted ones (one call per batch element inside an
//! `avx2,fma` function), without building the compiler:
//!
//! ```sh
//! cargo run --release -p kl-runtime --example special_speed [-- REPS]
//! ```
//!
//! Prints the median milliseconds of each (the workload runner's numbers are the contract;
//! these are for iterating on the kernels).

use kl_runtime::testing::SplitMix64;
use kl_runtime::{beta_kl, dirichlet_kl_term, dirichlet_kl_total, gamma_kl};
use std::hint::black_box;
use std::time::Instant;

const K: usize = 16;

macro_rules! emitted {
    ($name:ident, $body:expr) => {
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $name(x: &[&[f32]], out: &mut [f32]) {
            #[allow(clippy::redundant_closure_call, clippy::needless_range_loop)]
            ($body)(x, out)
        }
    };
}

// The loops `klc emit` writes for the three workloads (`--dtype f32`), one function each.
emitted!(gamma_avx2, |x: &[&[f32]], out: &mut [f32]| {
    let (a1, b1, a2, b2) = (x[0], x[1], x[2], x[3]);
    for i0 in 0..out.len() {
        let kl = gamma_kl(a1[i0], b1[i0], a2[i0], b2[i0]);
        out[i0] = kl;
    }
});

emitted!(beta_avx2, |x: &[&[f32]], out: &mut [f32]| {
    let (a1, b1, a2, b2) = (x[0], x[1], x[2], x[3]);
    for i0 in 0..out.len() {
        let kl = beta_kl(a1[i0], b1[i0], a2[i0], b2[i0]);
        out[i0] = kl;
    }
});

emitted!(dirichlet_avx2, |x: &[&[f32]], out: &mut [f32]| {
    let (c1, c2) = (x[0], x[1]);
    for i0 in 0..out.len() {
        let mut sum_terms = [0.0_f32; K];
        let c1_row = <&[f32; K]>::try_from(&c1[i0 * K..i0 * K + K]).unwrap();
        let c2_row = <&[f32; K]>::try_from(&c2[i0 * K..i0 * K + K]).unwrap();
        for l in 0..K {
            sum_terms[l] = dirichlet_kl_term(c1_row[l], c2_row[l]);
        }
        let sum: f32 = sum_terms.iter().fold(0.0, |a, &t| a + t);
        let sum_1: f32 = c1_row.iter().fold(0.0, |a, &t| a + t);
        let sum_2: f32 = (0..K).fold(0.0, |a, l| a + (c2_row[l] - c1_row[l]));
        out[i0] = dirichlet_kl_total(sum, sum_1, sum_2);
    }
});

type Kernel = unsafe fn(&[&[f32]], &mut [f32]);

fn median_ms(reps: usize, k: Kernel, x: &[&[f32]], out: &mut [f32]) -> f64 {
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            // SAFETY: `main` checked for AVX2 and FMA.
            unsafe { k(black_box(x), out) };
            black_box(&out);
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[reps / 2]
}

fn main() {
    let reps = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(9);
    if !(is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")) {
        eprintln!("special_speed: needs AVX2 and FMA");
        return;
    }
    let mut rng = SplitMix64(7);
    let mut arrays = |n: usize, count: usize| -> Vec<Vec<f32>> {
        (0..count).map(|_| rng.vec(n, 0.5, 5.0).into_iter().map(|v| v as f32).collect()).collect()
    };
    let four = arrays(1_000_000, 4);
    let two = arrays(100_000 * K, 2);
    let four: Vec<&[f32]> = four.iter().map(|v| &v[..]).collect();
    let two: Vec<&[f32]> = two.iter().map(|v| &v[..]).collect();
    let mut out = vec![0.0_f32; 1_000_000];
    let runs: [(&str, Kernel, &[&[f32]], usize); 3] = [
        ("gamma_kl_1e6", gamma_avx2, &four, 1_000_000),
        ("beta_kl_1e6", beta_avx2, &four, 1_000_000),
        ("dirichlet_kl_k16", dirichlet_avx2, &two, 100_000),
    ];
    for (name, k, x, b) in runs {
        let ms = median_ms(reps, k, x, &mut out[..b]);
        println!("{name:<18} {ms:9.3} ms  {:7.2} ns/elem", ms * 1e6 / b as f64);
    }
}
