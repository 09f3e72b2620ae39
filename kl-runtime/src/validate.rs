//! Parameter checks that callers run before the kernels, each turning one rule into an
//! [`Error`] that names the parameter and the batch index.
//!
//! The kernels themselves do not check (they are on the hot path and would only produce NaN);
//! these helpers keep the rules and their wording in one place.

use crate::dense::{cholesky_in_place, is_symmetric};
use crate::error::{Error, Rule};
use crate::real::Real;

/// Rule: a value must be finite.
pub fn check_finite<T: Real>(param: &str, index: &[usize], v: T) -> Result<(), Error> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::new(param, index, Rule::NonFinite { value: v.to_f64() }))
    }
}

/// Rule: a value in `[0, ∞)` must be finite and `>= 0`.
pub fn check_nonnegative<T: Real>(param: &str, index: &[usize], v: T) -> Result<(), Error> {
    check_finite(param, index, v)?;
    if v >= T::ZERO {
        Ok(())
    } else {
        Err(Error::new(param, index, Rule::Negative { value: v.to_f64() }))
    }
}

/// Rule: a value of `{0, 1}` (a `Bernoulli` `log_prob` value).
pub fn check_binary<T: Real>(param: &str, index: &[usize], v: T) -> Result<(), Error> {
    if v == T::ZERO || v == T::ONE {
        Ok(())
    } else {
        Err(Error::new(param, index, Rule::NotBinary { value: v.to_f64() }))
    }
}

/// Rule: a non-negative integer (a `Poisson` `log_prob` value).
pub fn check_count<T: Real>(param: &str, index: &[usize], v: T) -> Result<(), Error> {
    if v.is_finite() && v >= T::ZERO && v.floor() == v {
        Ok(())
    } else {
        Err(Error::new(param, index, Rule::NotCount { value: v.to_f64() }))
    }
}

/// Rule: a value in `[0, 1]` must be finite and lie there.
pub fn check_unit_interval<T: Real>(param: &str, index: &[usize], v: T) -> Result<(), Error> {
    check_finite(param, index, v)?;
    if T::ZERO <= v && v <= T::ONE {
        Ok(())
    } else {
        Err(Error::new(param, index, Rule::Outside { lo: 0.0, hi: 1.0, value: v.to_f64() }))
    }
}

/// Rule: a scale-like value must be finite and `> 0`. Non-finite values (NaN, ±∞) are reported as
/// [`Rule::NonFinite`], so that a NaN is never described as "not > 0".
pub fn check_positive<T: Real>(param: &str, index: &[usize], v: T) -> Result<(), Error> {
    check_finite(param, index, v)?;
    if v > T::ZERO {
        Ok(())
    } else {
        Err(Error::new(param, index, Rule::NonPositive { value: v.to_f64() }))
    }
}

/// [`check_finite`] over every element of `vs`, reporting the first failure.
pub fn check_all_finite<T: Real>(param: &str, index: &[usize], vs: &[T]) -> Result<(), Error> {
    vs.iter().try_for_each(|&v| check_finite(param, index, v))
}

/// [`check_positive`] over every element of `vs`, reporting the first failure.
pub fn check_all_positive<T: Real>(param: &str, index: &[usize], vs: &[T]) -> Result<(), Error> {
    vs.iter().try_for_each(|&v| check_positive(param, index, v))
}

/// Rule: a slice must have the length its declared shape implies.
pub fn check_len(param: &str, index: &[usize], expected: usize, found: usize) -> Result<(), Error> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::new(param, index, Rule::LengthMismatch { expected, found }))
    }
}

/// Rule: a scale factor `L` (row-major `d x d`) must have finite entries in its lower triangle
/// and a positive diagonal.
pub fn check_scale_tril<T: Real>(param: &str, index: &[usize], l: &[T], d: usize) -> Result<(), Error> {
    check_len(param, index, d * d, l.len())?;
    for i in 0..d {
        check_all_finite(param, index, &l[i * d..i * d + i])?;
        check_positive(param, index, l[i * d + i])?;
    }
    Ok(())
}

/// Scratch length [`check_spd`] needs: `d * d`.
pub const fn scratch_len_check_spd(d: usize) -> usize {
    d * d
}

/// Rule: a covariance or precision matrix must be finite, symmetric within `rel_tol`, and
/// positive definite. The Cholesky attempt runs in `scratch`
/// (`len >= scratch_len_check_spd(d)`), which holds the factor `L` afterwards on success.
pub fn check_spd<T: Real>(
    param: &str,
    index: &[usize],
    a: &[T],
    d: usize,
    rel_tol: T,
    scratch: &mut [T],
) -> Result<(), Error> {
    check_len(param, index, d * d, a.len())?;
    check_all_finite(param, index, a)?;
    if let Some((row, col)) = is_symmetric(a, d, rel_tol) {
        return Err(Error::new(param, index, Rule::NotSymmetric { row, col }));
    }
    let l = &mut scratch[..d * d];
    l.copy_from_slice(a);
    cholesky_in_place(l, d).map_err(|e| Error::new(param, index, e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positive_rejects_zero_negative_and_nan() {
        assert!(check_positive("s", &[], 1e-300_f64).is_ok());
        let zero = check_positive("s", &[2], 0.0_f32).unwrap_err();
        assert_eq!(zero.rule, Rule::NonPositive { value: 0.0 });
        assert_eq!(zero.index, vec![2]);
        let nan = check_positive("s", &[], f64::NAN).unwrap_err();
        assert!(matches!(nan.rule, Rule::NonFinite { value } if value.is_nan()));
        let inf = check_positive("s", &[], f64::INFINITY).unwrap_err();
        assert_eq!(inf.rule, Rule::NonFinite { value: f64::INFINITY });
    }

    #[test]
    fn spd_reports_each_rule() {
        let mut scratch = [0.0; 4];
        let ok = [2.0_f64, 1.0, 1.0, 2.0];
        assert!(check_spd("C", &[], &ok, 2, 1e-12, &mut scratch).is_ok());
        let asym = [2.0_f64, 1.0, 1.5, 2.0];
        let e = check_spd("C", &[], &asym, 2, 1e-12, &mut scratch).unwrap_err();
        assert_eq!(e.rule, Rule::NotSymmetric { row: 1, col: 0 });
        let indefinite = [1.0_f64, 2.0, 2.0, 1.0];
        let e = check_spd("C", &[], &indefinite, 2, 1e-12, &mut scratch).unwrap_err();
        assert_eq!(e.rule, Rule::NotPositiveDefinite { pivot: 1 });
        let e = check_spd("C", &[], &[1.0_f64; 3], 2, 1e-12, &mut scratch).unwrap_err();
        assert_eq!(e.rule, Rule::LengthMismatch { expected: 4, found: 3 });
    }
}
