//! Finer-grained timings than the workload runner: single runtime kernels on one row or one
//! matrix, the value checks of the checked entry, and one generated function at several batch
//! sizes (cache-resident to memory-bound).
//!
//! ```sh
//! cargo bench --bench kernels            # everything
//! cargo bench --bench kernels -- cov_kl  # a filter
//! ```

use kl::kl_fn;
use kl::runtime as rt;
use std::hint::black_box;

fn main() {
    divan::main();
}

use rt::testing::SplitMix64;

/// Deterministic values in `[lo, hi)`.
fn values<T: rt::Real>(n: usize, lo: f64, hi: f64, seed: u64) -> Vec<T> {
    SplitMix64(seed).vec(n, lo, hi).into_iter().map(T::from_f64).collect()
}

/// A well-conditioned `d x d` lower factor, row-major.
fn tril(d: usize, seed: u64) -> Vec<f64> {
    SplitMix64(seed).trils(1, d)
}

/// `L Lᵀ`.
fn cov(l: &[f64], d: usize) -> Vec<f64> {
    rt::testing::cov_of_tril(l, d)
}

/// Elementwise kernels over one row of 64 (the event of the `*_d64` workloads).
mod elementwise {
    use super::*;

    #[divan::bench(types = [f32, f64])]
    fn normal_kl_row64<T: rt::Real>(b: divan::Bencher) {
        let (m1, s1, m2, s2) = (
            values::<T>(64, -1., 1., 1),
            values::<T>(64, 0.5, 2., 2),
            values::<T>(64, -1., 1., 3),
            values::<T>(64, 0.5, 2., 4),
        );
        b.bench(|| {
            let mut acc = T::ZERO;
            for k in 0..64 {
                acc += rt::normal_kl(black_box(m1[k]), s1[k], m2[k], s2[k]);
            }
            acc
        });
    }

    #[divan::bench(types = [f32, f64])]
    fn ln_row64<T: rt::Real>(b: divan::Bencher) {
        let x = values::<T>(64, 0.01, 100., 5);
        b.bench(|| black_box(&x).iter().map(|&v| rt::ln(v)).fold(T::ZERO, |a, v| a + v));
    }

    #[divan::bench(types = [f32, f64])]
    fn all_positive_4096<T: rt::Real>(b: divan::Bencher) {
        let x = values::<T>(4096, 0.5, 2., 6);
        b.bench(|| rt::all_positive(black_box(&x)));
    }
}

/// Multivariate kernels on one matrix pair, dynamic `d` (the runtime's loop kernels).
mod dense {
    use super::*;

    #[divan::bench(args = [3, 4, 8, 32])]
    fn cholesky(b: divan::Bencher, d: usize) {
        let c = cov(&tril(d, 7), d);
        let mut out = vec![0.0; d * d];
        b.bench_local(|| rt::cholesky(black_box(&c), d, &mut out).is_ok());
    }

    #[divan::bench(args = [3, 8, 32])]
    fn mvn_kl_tril(b: divan::Bencher, d: usize) {
        let (l1, l2) = (tril(d, 8), tril(d, 9));
        let (m1, m2) = (values::<f64>(d, -1., 1., 10), values::<f64>(d, -1., 1., 11));
        let mut scratch = vec![0.0; d];
        b.bench_local(|| rt::mvn_kl_tril(black_box(&m1), &l1, &m2, &l2, d, &mut scratch));
    }

    #[divan::bench(args = [4, 8])]
    fn cov_kl(b: divan::Bencher, d: usize) {
        let (c1, l2) = (cov(&tril(d, 12), d), tril(d, 13));
        let c2 = cov(&l2, d);
        let (m1, m2) = (values::<f64>(d, -1., 1., 14), values::<f64>(d, -1., 1., 15));
        let mut scratch = vec![0.0; rt::scratch_len_cov_kl(d)];
        b.bench_local(|| rt::cov_kl(black_box(&m1), &c1, &m2, &c2, &l2, d, &mut scratch).is_ok());
    }

    #[divan::bench(args = [4, 8])]
    fn check_spd(b: divan::Bencher, d: usize) {
        let c = cov(&tril(d, 16), d);
        let mut scratch = vec![0.0; d * d];
        b.bench_local(|| rt::check_spd("c", &[], black_box(&c), d, 1e-8, &mut scratch).is_ok());
    }

    #[divan::bench]
    fn spd_ok_n_4(b: divan::Bencher) {
        let c = cov(&tril(4, 16), 4);
        b.bench_local(|| rt::spd_ok_n::<f64, 4>(black_box(&c), 1e-8));
    }
}

kl_fn! {
    fn diag_kl_d64(m1: [B, 64], s1: [B, 64], m2: [B, 64], s2: [B, 64]) -> f32 {
        Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)
    }
}

kl_fn! {
    fn cov_kl_d4(m1: [B, 4], c1: [B, 4, 4], m2: [B, 4], c2: [B, 4, 4]) -> f64 {
        MultivariateNormal(m1, covariance_matrix = c1) || MultivariateNormal(m2, covariance_matrix = c2)
    }
}

/// Generated functions, checked and unchecked, from L1-resident to memory-bound batches.
mod generated {
    use super::*;

    const BATCHES: [usize; 3] = [16, 1024, 65536];

    fn diag_inputs(b: usize) -> [Vec<f32>; 4] {
        let n = b * 64;
        [values(n, -1., 1., 1), values(n, -1., 1., 2), values(n, 0.5, 2., 3), values(n, 0.5, 2., 4)]
    }

    #[divan::bench(args = BATCHES)]
    fn diag_kl_d64_checked(bench: divan::Bencher, b: usize) {
        let [m1, m2, s1, s2] = diag_inputs(b);
        let mut out = vec![0.0; b];
        bench.counter(divan::counter::ItemsCount::new(b)).bench_local(|| {
            diag_kl_d64_into(black_box(&m1), &s1, &m2, &s2, b, &mut out).unwrap();
        });
    }

    #[divan::bench(args = BATCHES)]
    fn diag_kl_d64_unchecked(bench: divan::Bencher, b: usize) {
        let [m1, m2, s1, s2] = diag_inputs(b);
        let mut out = vec![0.0; b];
        bench.counter(divan::counter::ItemsCount::new(b)).bench_local(|| {
            diag_kl_d64_into_unchecked(black_box(&m1), &s1, &m2, &s2, b, &mut out).unwrap();
        });
    }

    fn cov_inputs(b: usize) -> [Vec<f64>; 4] {
        let mut c1 = Vec::with_capacity(b * 16);
        let mut c2 = Vec::with_capacity(b * 16);
        for k in 0..b as u64 {
            c1.extend(cov(&tril(4, 100 + 2 * k), 4));
            c2.extend(cov(&tril(4, 101 + 2 * k), 4));
        }
        [c1, c2, values(b * 4, -1., 1., 5), values(b * 4, -1., 1., 6)]
    }

    #[divan::bench(args = BATCHES)]
    fn cov_kl_d4_checked(bench: divan::Bencher, b: usize) {
        let [c1, c2, m1, m2] = cov_inputs(b);
        let mut out = vec![0.0; b];
        bench.counter(divan::counter::ItemsCount::new(b)).bench_local(|| {
            cov_kl_d4_into(&m1, black_box(&c1), &m2, &c2, b, &mut out).unwrap();
        });
    }

    #[divan::bench(args = BATCHES)]
    fn cov_kl_d4_unchecked(bench: divan::Bencher, b: usize) {
        let [c1, c2, m1, m2] = cov_inputs(b);
        let mut out = vec![0.0; b];
        bench.counter(divan::counter::ItemsCount::new(b)).bench_local(|| {
            cov_kl_d4_into_unchecked(&m1, black_box(&c1), &m2, &c2, b, &mut out).unwrap();
        });
    }
}

/// The batched kernels of `kl_runtime::mvn_rows` on the workload runner's sizes
/// (`examples/workloads.rs`), checked and unchecked, next to `floor`: one streaming read of
/// the same input bytes. `cargo bench --bench kernels -- rows`.
mod rows {
    use super::*;

    /// Inputs of one workload, in the kernel's argument order.
    struct Inputs {
        x: [Vec<f64>; 4],
        b: usize,
    }

    /// `b` lower factors, row-major (the workload runner's).
    fn trils(b: usize, d: usize, seed: u64) -> Vec<f64> {
        SplitMix64(seed).trils(b, d)
    }

    fn covs(b: usize, d: usize, seed: u64) -> Vec<f64> {
        SplitMix64(seed).covs(b, d)
    }

    fn means(b: usize, d: usize, seed: u64) -> Vec<f64> {
        values(b * d, -1.0, 1.0, seed)
    }

    fn tril_inputs(b: usize, d: usize) -> Inputs {
        Inputs { x: [means(b, d, 1), trils(b, d, 2), means(b, d, 3), trils(b, d, 4)], b }
    }

    fn cov_inputs(b: usize, d: usize) -> Inputs {
        Inputs { x: [means(b, d, 1), covs(b, d, 2), means(b, d, 3), covs(b, d, 4)], b }
    }

    fn diag_inputs(b: usize, d: usize) -> Inputs {
        Inputs { x: [means(b, d, 1), values(b * d, 0.5, 2.0, 2), means(b, d, 3), trils(b, d, 4)], b }
    }

    type Kernel = fn(&[f64], &[f64], &[f64], &[f64], &mut [f64], bool) -> bool;

    fn run(bencher: divan::Bencher, inputs: fn() -> Inputs, kernel: Kernel, check: bool) {
        let i = inputs();
        let mut out = vec![0.0; i.b];
        bencher.bench_local(|| {
            let [m1, p1, m2, p2] = &i.x;
            assert!(kernel(black_box(m1), p1, m2, p2, &mut out, check));
        });
    }

    /// One streaming read of the inputs: `u64` lanes summed, as the workload runner's floor.
    fn floor(bencher: divan::Bencher, inputs: fn() -> Inputs) {
        let i = inputs();
        bencher.bench_local(|| {
            i.x.iter().fold(0u64, |a, x| {
                let mut acc = [0u64; 16];
                let chunks = black_box(x).chunks_exact(16);
                let tail = chunks.remainder().iter().fold(0u64, |a, v| a.wrapping_add(v.to_bits()));
                for c in chunks {
                    for k in 0..16 {
                        acc[k] = acc[k].wrapping_add(c[k].to_bits());
                    }
                }
                acc.iter().fold(a.wrapping_add(tail), |a, &v| a.wrapping_add(v))
            })
        });
    }

    macro_rules! workload {
        ($name:ident, $inputs:expr, $kernel:expr) => {
            mod $name {
                use super::*;

                #[divan::bench(args = [true, false], sample_count = 40)]
                fn kernel(bencher: divan::Bencher, check: bool) {
                    run(bencher, $inputs, $kernel, check);
                }

                #[divan::bench(sample_count = 40)]
                fn floor(bencher: divan::Bencher) {
                    super::floor(bencher, $inputs);
                }
            }
        };
    }

    workload!(tril_kl_d3, || tril_inputs(200_000, 3), rt::tril_kl_rows::<f64, 3>);
    workload!(tril_kl_d8, || tril_inputs(100_000, 8), rt::tril_kl_rows::<f64, 8>);
    workload!(tril_kl_d32, || tril_inputs(10_000, 32), rt::tril_kl_rows::<f64, 32>);
    workload!(cov_kl_d4, || cov_inputs(100_000, 4), rt::cov_kl_rows::<f64, 4>);
    workload!(diag_vs_tril_d8, || diag_inputs(100_000, 8), rt::diag_tril_kl_rows::<f64, 8>);
}
