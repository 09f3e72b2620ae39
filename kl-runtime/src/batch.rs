//! Driving a generated function over chunks of its batch: the checked entry validates a chunk of
//! rows right before computing it (so the rows are read from memory once and re-read from
//! cache), and with the `rayon` feature large batches are split across threads.
//!
//! The value checks here only answer "all valid?" without branching per element, so that they
//! vectorize; when one fails, the generated code reruns the interpreter-ordered checks to report
//! the same first error as [`crate::validate`] callers do.

use crate::real::Real;

/// Bytes of input rows per chunk: validated and then computed while they are still in L1/L2.
pub const CHUNK_BYTES: usize = 32 * 1024;

/// Batches with fewer rows than this are never split across threads: below it, waking the pool
/// costs more than the work saves.
pub const PAR_MIN_ROWS: usize = 4096;

/// Whether the `rayon` feature is on, i.e. [`for_each_chunk`] may run chunks in parallel.
pub const PARALLEL: bool = cfg!(feature = "rayon");

/// Rows per chunk for rows of `row_bytes` bytes (at least one).
#[inline]
pub fn chunk_rows(row_bytes: usize) -> usize {
    (CHUNK_BYTES / row_bytes.max(1)).max(1)
}

/// Bytes of input per task when a fused row kernel ([`crate::rows`]) runs on several threads.
pub const PAR_CHUNK_BYTES: usize = 256 * 1024;

/// Rows per call of a fused row kernel, which validates and computes in one pass and so needs
/// no cache-sized chunks: the whole batch in one call, or with the `rayon` feature tasks of
/// about [`PAR_CHUNK_BYTES`].
#[inline]
pub fn kernel_chunk_rows(row_bytes: usize) -> usize {
    if PARALLEL {
        (PAR_CHUNK_BYTES / row_bytes.max(1)).max(1)
    } else {
        usize::MAX
    }
}

/// Whether every value is finite (`Rule::NonFinite` cannot fire). Branch-free per element.
#[inline]
pub fn all_finite<T: Real>(xs: &[T]) -> bool {
    xs.iter().fold(true, |ok, &v| ok & v.is_finite())
}

/// Whether every value is finite and `>= 0` (neither `NonFinite` nor `Negative` can fire).
pub fn all_nonnegative<T: Real>(xs: &[T]) -> bool {
    xs.iter().fold(true, |ok, &v| ok & (v.is_finite() & (v >= T::ZERO)))
}

/// Whether every value lies in `[0, 1]` (neither `NonFinite` nor `Outside` can fire).
pub fn all_unit_interval<T: Real>(xs: &[T]) -> bool {
    xs.iter().fold(true, |ok, &v| ok & ((v >= T::ZERO) & (v <= T::ONE)))
}

/// Whether every value is 0 or 1 (`Rule::NotBinary` cannot fire).
pub fn all_binary<T: Real>(xs: &[T]) -> bool {
    xs.iter().fold(true, |ok, &v| ok & ((v == T::ZERO) | (v == T::ONE)))
}

/// Whether every value is a non-negative integer (`Rule::NotCount` cannot fire).
pub fn all_counts<T: Real>(xs: &[T]) -> bool {
    xs.iter().fold(true, |ok, &v| ok & (v.is_finite() & (v >= T::ZERO) & (v.floor() == v)))
}

/// Whether every value is finite and `> 0` (neither `NonFinite` nor `NonPositive` can fire).
#[inline]
pub fn all_positive<T: Real>(xs: &[T]) -> bool {
    xs.iter().fold(true, |ok, &v| ok & (v.is_finite() & (v > T::ZERO)))
}

/// Runs `f(lo, hi, out_chunk)` over the rows `lo..hi` of a batch of `b` rows, in chunks of
/// `rows`, where `out_chunk` is `out[lo * out_row..hi * out_row]`. Returns `false` as soon as one
/// call does (the caller then redoes the whole batch on its careful path). Sequential in batch
/// order; with the `rayon` feature and at least [`PAR_MIN_ROWS`] rows, the chunks run on rayon's
/// thread pool instead, in no particular order.
pub fn for_each_chunk<T, F>(b: usize, rows: usize, out: &mut [T], out_row: usize, f: F) -> bool
where
    T: Send,
    F: Fn(usize, usize, &mut [T]) -> bool + Sync,
{
    let rows = rows.max(1);
    #[cfg(feature = "rayon")]
    if b >= PAR_MIN_ROWS && out_row > 0 {
        use rayon::prelude::*;
        return out[..b * out_row].par_chunks_mut(rows.saturating_mul(out_row)).enumerate().all(|(k, o)| {
            let lo = k * rows;
            f(lo, lo.saturating_add(rows).min(b), o)
        });
    }
    let mut lo = 0;
    while lo < b {
        let hi = lo.saturating_add(rows).min(b);
        if !f(lo, hi, &mut out[lo * out_row..hi * out_row]) {
            return false;
        }
        lo = hi;
    }
    true
}

/// `s` as a slice of `U` when `T` is `U` (the kernels' `f32` / `f64` fast paths).
pub(crate) fn same<T: 'static, U: 'static>(s: &[T]) -> Option<&[U]> {
    // SAFETY: `T` and `U` are the same type, so the layout and the lifetime carry over.
    (core::any::TypeId::of::<T>() == core::any::TypeId::of::<U>())
        .then(|| unsafe { core::slice::from_raw_parts(s.as_ptr().cast::<U>(), s.len()) })
}

/// `s` as a mutable slice of `U` when `T` is `U`.
pub(crate) fn same_mut<T: 'static, U: 'static>(s: &mut [T]) -> Option<&mut [U]> {
    // SAFETY: as in `same`; the exclusive borrow moves into the result.
    (core::any::TypeId::of::<T>() == core::any::TypeId::of::<U>())
        .then(|| unsafe { core::slice::from_raw_parts_mut(s.as_mut_ptr().cast::<U>(), s.len()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_checks_reject_what_the_rules_reject() {
        assert!(all_finite(&[1.0_f64, -2.0, 0.0]));
        assert!(!all_finite(&[1.0_f64, f64::NAN]));
        assert!(!all_finite(&[f32::NEG_INFINITY]));
        assert!(all_positive(&[1e-300_f64, 2.0]));
        assert!(!all_positive(&[1.0_f64, 0.0]));
        assert!(!all_positive(&[f64::INFINITY]));
        assert!(!all_positive(&[f32::NAN]));
    }

    #[test]
    fn chunks_cover_the_batch_once() {
        let mut out = vec![0_u32; 2 * 10_000];
        let ok = for_each_chunk(10_000, 37, &mut out, 2, |lo, hi, o| {
            assert_eq!(o.len(), 2 * (hi - lo));
            for (k, x) in o.iter_mut().enumerate() {
                *x += (lo * 2 + k) as u32;
            }
            true
        });
        assert!(ok);
        assert!(out.iter().enumerate().all(|(k, &x)| x == k as u32));
        assert!(!for_each_chunk(100, 7, &mut out, 1, |lo, _, _| lo < 50));
        // One call for the whole batch.
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let mut out = vec![0_u32; 10];
        assert!(for_each_chunk(10, usize::MAX, &mut out, 1, |lo, hi, o| {
            assert_eq!((lo, hi, o.len()), (0, 10, 10));
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            true
        }));
        assert_eq!(calls.into_inner(), 1);
    }
}
