//! Batched diagonal-Gaussian kernels: one result per row of `d` contiguous elements, over a
//! whole batch, validated and computed in one pass over the data.
//!
//! These are what generated code calls for `Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)`,
//! `Normal(m, s).to_event(1) || Normal(0, 1).expand([d]).to_event(1)` and
//! `log_prob(Normal(m, s).to_event(1), x)` when every parameter has the full `[.., d]` shape (no
//! broadcasting). The batch is memory-bound, so the work per element has to fit in the time it
//! takes to stream the element in:
//!
//! * two divisions per element (`1 / s2`, and `t` below) instead of one per quotient, and the
//!   log reduction `r = 2^k m` read from the bits of `r` (no libm), with `ln m = 2 atanh(t)`,
//!   `t = (m − 1) / (m + 1)`, a short polynomial in `t²` evaluated by Estrin's scheme;
//! * the stable split of the scale term of [`crate::scale_ratio_term`], written so that nothing
//!   cancels near `r = 1` (see `scale_term`): `½ (r² − 1) − ln r = ½ u² + (u − 2t) − k ln 2 − T`,
//!   `u = (s1 − s2) / s2` from the exact difference, `T = 2 atanh(t) − 2t`, and `u − 2t = u t`
//!   exactly when `k = 0`, so near-equal distributions keep their relative accuracy;
//! * validation fused into the same pass: a running minimum over the scales and the
//!   quotients catches non-positive, subnormal and out-of-range values, and a NaN or infinite
//!   input makes its row's value non-finite, which is checked once per block of rows;
//! * explicit SIMD code chosen at run time: AVX-512F (16 `f32` or 8 `f64` lanes) when rows
//!   fill whole or half vectors, else AVX2 + FMA (8 or 4 lanes); rows summed lane-wise and
//!   reduced for several rows at once by a transpose. Elsewhere the same algorithm runs one
//!   lane at a time.
//!
//! A block whose values fall outside the fast kernel's domain (a subnormal scale, ratio `s1 / s2`
//! or `1 / s2`, an overflowing ratio) or whose value overflows is recomputed with the scalar kernels
//! ([`crate::normal_kl`] and friends), which handle every representable input.
//!
//! Every function returns `true` when every `out[i]` holds row `i`'s value; `false` when the
//! slice lengths disagree (`len != out.len() * d`) or, with `check`, when some value breaks its
//! rule (a location or `x` not finite, a scale not finite and `> 0`). `out` may then be partly
//! written; callers redo the batch on their careful path, which reports the precise error.
//!
//! ```
//! use kl_runtime::{normal_kl, normal_kl_rows};
//!
//! // Two rows of d = 3.
//! let (m1, s1) = ([0.0_f64, 1.0, 2.0, 0.5, 0.5, 0.5], [1.0, 2.0, 0.5, 1.0, 1.0, 1.0]);
//! let (m2, s2) = ([0.0_f64, 0.0, 0.0, 0.5, 0.5, 0.5], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
//! let mut out = [0.0; 2];
//! assert!(normal_kl_rows(3, &m1, &s1, &m2, &s2, &mut out, true));
//! let row0: f64 = (0..3).map(|i| normal_kl(m1[i], s1[i], m2[i], s2[i])).sum();
//! assert!((out[0] - row0).abs() <= 1e-15 * row0);
//! assert_eq!(out[1], 0.0);
//!
//! // A zero scale is caught.
//! let bad = [1.0, 0.0, 1.0, 1.0, 1.0, 1.0];
//! assert!(!normal_kl_rows(3, &m1, &bad, &m2, &s2, &mut out, true));
//! ```

mod careful;
mod kernel;
#[cfg(test)]
mod tests;

use crate::batch::{same, same_mut};
use crate::real::Real;
use crate::simd::{self, Arch, Kernel, Lanes};
use careful::{Kind, Rows};
use kernel::run_lanes;

/// `KL(N(m1, s1²) ‖ N(m2, s2²))` summed over each row of `d` elements:
/// `out[i] = Σ_j normal_kl(m1[i d + j], s1[..], m2[..], s2[..])`. See the [module](self) docs for
/// the contract.
pub fn normal_kl_rows<T: Real>(d: usize, m1: &[T], s1: &[T], m2: &[T], s2: &[T], out: &mut [T], check: bool) -> bool {
    dispatch(d, Kind::NormalKl, [m1, s1, m2, s2], out, check)
}

/// `KL(N(m, s²) ‖ N(0, 1))` summed over each row of `d` elements.
pub fn std_normal_kl_rows<T: Real>(d: usize, m: &[T], s: &[T], out: &mut [T], check: bool) -> bool {
    dispatch(d, Kind::StdNormalKl, [m, s, m, s], out, check)
}

/// `log N(x; m, s²)` summed over each row of `d` elements.
pub fn normal_log_prob_rows<T: Real>(d: usize, x: &[T], m: &[T], s: &[T], out: &mut [T], check: bool) -> bool {
    dispatch(d, Kind::NormalLogProb, [x, m, s, s], out, check)
}

/// `f::<K>(args)` with `K` the const of `kind`.
macro_rules! with_kind {
    ($kind:expr, $f:ident :: <$($t:ty),*> ($($a:expr),*)) => {
        match $kind {
            Kind::NormalKl => $f::<$($t,)* 0>($($a),*),
            Kind::StdNormalKl => $f::<$($t,)* 1>($($a),*),
            Kind::NormalLogProb => $f::<$($t,)* 2>($($a),*),
        }
    };
}

fn dispatch<T: Real>(d: usize, kind: Kind, ins: [&[T]; 4], out: &mut [T], check: bool) -> bool {
    let Some(len) = out.len().checked_mul(d) else { return false };
    if ins.iter().any(|x| x.len() != len) {
        return false;
    }
    if d == 0 {
        out.fill(T::ZERO);
        return true;
    }
    if let (Some(ins), Some(out)) = (cast::<T, f32>(ins), same_mut::<T, f32>(out)) {
        let rows = Rows { kind, d, ins: ins.map(<[f32]>::as_ptr), check };
        return with_kind!(kind, run::<f32>(rows, out));
    }
    if let (Some(ins), Some(out)) = (cast::<T, f64>(ins), same_mut::<T, f64>(out)) {
        let rows = Rows { kind, d, ins: ins.map(<[f64]>::as_ptr), check };
        return with_kind!(kind, run::<f64>(rows, out));
    }
    false
}

/// One kind of row at one precision on the best lanes of the CPU (one dispatch, and one
/// function per instruction set, for each).
fn run<S: Real, const K: u8>(rows: Rows<S>, out: &mut [S]) -> bool
where
    for<'a> Job<'a, S, K>: Kernel<Out = bool>,
{
    simd::dispatch(Job::<S, K> { rows, out })
}

/// One call, with the lengths checked: every input holds `out.len() * d` elements, `d > 0`.
struct Job<'a, S, const K: u8> {
    rows: Rows<S>,
    out: &'a mut [S],
}

macro_rules! job {
    ($t:ident, $wide:ident, $half:ident) => {
        impl<const K: u8> Kernel for Job<'_, $t, K> {
            type Out = bool;
            #[inline(always)]
            unsafe fn run<A: Arch>(self) -> bool {
                let (rows, n) = (&self.rows, A::$wide::N);
                // SAFETY: the lengths were checked by `dispatch`; the target features are the
                // caller's. The widest vectors when rows fill whole or half ones, else narrower.
                unsafe {
                    if rows.d.is_multiple_of(n) || 2 * rows.d == n {
                        run_lanes::<A::$wide, $t, K>(rows, self.out)
                    } else {
                        run_lanes::<A::$half, $t, K>(rows, self.out)
                    }
                }
            }
        }
    };
}
job!(f32, F32, F32Half);
job!(f64, F64, F64Half);

/// `xs` as slices of `U` when `T` is `U` (only `f32` and `f64` implement [`Real`]).
fn cast<T: 'static, U: 'static>(xs: [&[T]; 4]) -> Option<[&[U]; 4]> {
    let [a, b, c, d] = xs;
    Some([same(a)?, same(b)?, same(c)?, same(d)?])
}
