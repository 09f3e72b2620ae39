//! Deterministic test and benchmark data, shared by the tests, benches and the workload runner
//! of the workspace (not part of the API: hidden from the docs, may change at any time).
//!
//! A SplitMix64 generator (Steele, Lea, Flood 2014: no `rand` dependency, reproducible
//! failures) and the well-conditioned lower factors and covariances drawn from it.

/// The SplitMix64 generator; the `u64` is its state (the seed).
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// `n` values uniform in `[lo, hi)`.
    pub fn vec(&mut self, n: usize, lo: f64, hi: f64) -> Vec<f64> {
        (0..n).map(|_| self.uniform(lo, hi)).collect()
    }

    /// `batch` lower-triangular `d x d` factors, row-major, with diagonals in `[0.5, 1.5)` and
    /// off-diagonal entries within `±0.5 / √d` (condition numbers stay modest for every `d`),
    /// zero above the diagonal.
    pub fn trils(&mut self, batch: usize, d: usize) -> Vec<f64> {
        self.trils_above(batch, d, |_, _| 0.0)
    }

    /// As [`SplitMix64::trils`], with `above(i, j)` above the diagonal (garbage that kernels
    /// must not read); it draws nothing, so the factors are the same.
    pub fn trils_above(&mut self, batch: usize, d: usize, above: impl Fn(usize, usize) -> f64) -> Vec<f64> {
        let off = 0.5 / (d as f64).sqrt();
        let mut v = vec![0.0; batch * d * d];
        for m in v.chunks_exact_mut(d * d) {
            for i in 0..d {
                for j in 0..i {
                    m[i * d + j] = self.uniform(-off, off);
                }
                m[i * d + i] = self.uniform(0.5, 1.5);
                for j in i + 1..d {
                    m[i * d + j] = above(i, j);
                }
            }
        }
        v
    }

    /// `batch` symmetric covariance matrices `L Lᵀ` of factors as [`SplitMix64::trils`].
    pub fn covs(&mut self, batch: usize, d: usize) -> Vec<f64> {
        let l = self.trils(batch, d);
        l.chunks_exact(d * d).flat_map(|l| cov_of_tril(l, d)).collect()
    }

    /// One `d x d` lower factor with diagonal in `[0.5, 2)`, off-diagonal entries in
    /// `[-0.5, 0.5)`, and huge values above the diagonal (drawn in row-major order).
    pub fn tril(&mut self, d: usize) -> Vec<f64> {
        let mut l = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                l[i * d + j] = match i.cmp(&j) {
                    core::cmp::Ordering::Greater => self.uniform(-0.5, 0.5),
                    core::cmp::Ordering::Equal => self.uniform(0.5, 2.0),
                    core::cmp::Ordering::Less => 1e30 * self.uniform(-1.0, 1.0),
                };
            }
        }
        l
    }

    /// A symmetric positive definite `d x d` matrix `B Bᵀ + d/2 I`, `B` uniform in `[-1, 1)`.
    pub fn spd(&mut self, d: usize) -> Vec<f64> {
        let b = self.vec(d * d, -1.0, 1.0);
        let mut a = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                a[i * d + j] = (0..d).map(|k| b[i * d + k] * b[j * d + k]).sum();
            }
            a[i * d + i] += 0.5 * d as f64;
        }
        a
    }
}

/// `L Lᵀ` from the lower triangle of the row-major `d x d` factor `l` (what is above it is
/// not read).
pub fn cov_of_tril(l: &[f64], d: usize) -> Vec<f64> {
    let mut c = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            c[i * d + j] = (0..=i.min(j)).map(|k| l[i * d + k] * l[j * d + k]).sum();
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // The first outputs for seed 0 (the reference implementation's).
        let mut r = SplitMix64(0);
        assert_eq!(r.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.next_u64(), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn factors_are_lower_with_the_promised_ranges_and_covariances_symmetric() {
        let d = 5;
        let l = SplitMix64(3).trils(4, d);
        for m in l.chunks_exact(d * d) {
            for i in 0..d {
                assert!((0.5..1.5).contains(&m[i * d + i]));
                for j in 0..d {
                    let x = m[i * d + j];
                    assert!(if j > i { x == 0.0 } else { x.abs() <= 1.5 });
                }
            }
        }
        let c = SplitMix64(3).covs(4, d);
        assert_eq!(c[..d * d], cov_of_tril(&l[..d * d], d)[..]);
        for m in c.chunks_exact(d * d) {
            for i in 0..d {
                for j in 0..d {
                    assert_eq!(m[i * d + j], m[j * d + i]);
                }
            }
        }
        let g = SplitMix64(3).trils_above(4, d, |_, _| f64::NAN);
        assert!(g.iter().zip(&l).all(|(g, l)| g == l || (g.is_nan() && *l == 0.0)));
    }
}
