//! What a call hands the row kernels ([`Rows`], [`Kind`]) and the careful path they fall back
//! to: the scalar kernels, element by element, with the checks of the checked entries.

use crate::real::Real;
use crate::scalar::{normal_kl, normal_log_prob, std_normal_kl};

/// Which elementwise function a row sums. The kernels take it as a const parameter
/// (`Kind as u8`), so that each gets its own loop.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(super) enum Kind {
    /// inputs `[m1, s1, m2, s2]`
    NormalKl,
    /// inputs `[m, s, _, _]`
    StdNormalKl,
    /// inputs `[x, m, s, _]`
    NormalLogProb,
}

impl Kind {
    pub(super) const fn of(k: u8) -> Kind {
        match k {
            0 => Kind::NormalKl,
            1 => Kind::StdNormalKl,
            _ => Kind::NormalLogProb,
        }
    }
}

/// One call's inputs: `out.len() * d` elements behind every pointer.
pub(super) struct Rows<S> {
    pub(super) kind: Kind,
    pub(super) d: usize,
    pub(super) ins: [*const S; 4],
    pub(super) check: bool,
}

impl<S> Clone for Rows<S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S> Copy for Rows<S> {}

/// The careful value of one element (the scalar kernels), or `None` when `check` and a value
/// breaks its rule.
///
/// # Safety
/// Element `at` is readable behind every input.
#[inline(never)]
unsafe fn careful<S: Real>(rows: &Rows<S>, at: usize) -> Option<S> {
    // SAFETY: the caller's contract.
    let ld = |i: usize| unsafe { *rows.ins[i].add(at) };
    let fin = |x: S| x.is_finite();
    let pos = |x: S| x.is_finite() && x > S::ZERO;
    let (ok, v) = match rows.kind {
        Kind::NormalKl => {
            let (m1, s1, m2, s2) = (ld(0), ld(1), ld(2), ld(3));
            (fin(m1) && fin(m2) && pos(s1) && pos(s2), normal_kl(m1, s1, m2, s2))
        }
        Kind::StdNormalKl => {
            let (m, s) = (ld(0), ld(1));
            (fin(m) && pos(s), std_normal_kl(m, s))
        }
        Kind::NormalLogProb => {
            let (x, m, s) = (ld(0), ld(1), ld(2));
            (fin(x) && fin(m) && pos(s), normal_log_prob(x, m, s))
        }
    };
    (ok || !rows.check).then_some(v)
}

/// Rows `lo..hi` with the scalar kernels.
///
/// # Safety
/// Every input holds `hi * d` elements and `out.len() >= hi`.
#[inline(never)]
pub(super) unsafe fn careful_rows<S: Real>(rows: &Rows<S>, lo: usize, hi: usize, out: &mut [S]) -> bool {
    for (i, o) in out[lo..hi].iter_mut().enumerate() {
        let mut sum = S::ZERO;
        for j in 0..rows.d {
            // SAFETY: the caller's contract.
            match unsafe { careful(rows, (lo + i) * rows.d + j) } {
                Some(v) => sum += v,
                None => return false,
            }
        }
        *o = sum;
    }
    true
}
