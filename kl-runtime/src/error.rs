//! The data error every checked entry point reports: which parameter, at which batch index, broke
//! which rule. Kernels themselves never build it; callers (generated code, the interpreter) do,
//! usually through [`crate::validate`].

use core::fmt;

use crate::dense::NotPositiveDefinite;

/// A parameter value that a distribution cannot accept.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    /// The parameter's name as the user wrote it, e.g. `s1`.
    pub param: String,
    /// Multi-dimensional batch index of the offending element; empty for an unbatched parameter.
    pub index: Vec<usize>,
    /// The rule the value broke.
    pub rule: Rule,
}

/// The rules parameter values must obey.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Rule {
    /// A scale, variance or diagonal entry must be `> 0`.
    NonPositive { value: f64 },
    /// Every value must be finite (no NaN, no infinity).
    NonFinite { value: f64 },
    /// A value must be `>= 0` (a `log_prob` value of a family supported on `[0, ∞)`).
    Negative { value: f64 },
    /// A value must be greater than another parameter's value at the same index (`Uniform`'s
    /// `high > low`).
    NotAbove { other: String, bound: f64, value: f64 },
    /// A value must lie in `[lo, hi]`: a `log_prob` value in the support of its distribution
    /// (`hi` may be infinite).
    Outside { lo: f64, hi: f64, value: f64 },
    /// A value must lie in the open interval `(lo, hi)` (a `ContinuousBernoulli`'s `probs`:
    /// at 0 or 1 it is a point mass, not a density).
    OutsideOpen { lo: f64, hi: f64, value: f64 },
    /// A point of the simplex (a `Dirichlet` `log_prob` value) must sum to 1 over its last dim.
    NotNormalized { sum: f64 },
    /// A value must be 0 or 1 (a `Bernoulli` `log_prob` value).
    NotBinary { value: f64 },
    /// A value must be a non-negative integer (a `Poisson` `log_prob` value).
    NotCount { value: f64 },
    /// A value must be at least another parameter's for the KL to have a closed form
    /// (`Binomial`'s P `total_count` below Q's; torch raises `NotImplementedError` there).
    NoClosedFormBelow { other: String, bound: f64, value: f64 },
    /// A covariance or precision matrix must equal its transpose (within tolerance).
    NotSymmetric { row: usize, col: usize },
    /// A covariance or precision matrix must be positive definite.
    NotPositiveDefinite { pivot: usize },
    /// A slice must have the length its shape implies.
    LengthMismatch { expected: usize, found: usize },
    /// The parameter's shape breaks a shape rule that could only be checked at run time
    /// (sizes of dims that the Rust types leave dynamic). The message names both shapes.
    Shape { message: String },
}

impl Error {
    /// Bundles the three parts.
    pub fn new(param: impl Into<String>, index: &[usize], rule: Rule) -> Self {
        Error { param: param.into(), index: index.to_vec(), rule }
    }
}

/// A rule between the operands of one elementwise kernel call that one operand breaks, found by
/// the kernel's check function (`uniform_kl_check`, ..): operands are named by their slot, and
/// [`Violation::error`] names them as the caller's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Violation {
    /// Operand `slot` must be greater than operand `other`.
    NotAbove { slot: usize, other: usize, bound: f64, value: f64 },
    /// Operand `slot` must lie in `[lo, hi]`.
    Outside { slot: usize, lo: f64, hi: f64, value: f64 },
    /// Operand `slot` must lie in the open interval `(lo, hi)`.
    OutsideOpen { slot: usize, lo: f64, hi: f64, value: f64 },
    /// Operand `slot`, the sum of a parameter over its last dim, must be 1.
    NotNormalized { slot: usize, sum: f64 },
    /// Operand `slot` must be at least operand `other` for a closed form to exist.
    NoClosedFormBelow { slot: usize, other: usize, bound: f64, value: f64 },
}

impl Violation {
    /// The error for operands called `names` (one per slot), at batch `index`.
    ///
    /// ```
    /// use kl_runtime::{uniform_entropy_check, Violation};
    /// let v = uniform_entropy_check(2.0_f64, 1.0).unwrap_err();
    /// let e = v.error(&["a", "b"], &[3]);
    /// assert_eq!(e.to_string(), "parameter `b` at batch index [3] must be > `a` (= 2), found 1");
    /// ```
    pub fn error(&self, names: &[&str], index: &[usize]) -> Error {
        let name = |slot: usize| names.get(slot).copied().unwrap_or("?").to_string();
        match *self {
            Violation::NotAbove { slot, other, bound, value } => {
                Error::new(name(slot), index, Rule::NotAbove { other: name(other), bound, value })
            }
            Violation::Outside { slot, lo, hi, value } => {
                Error::new(name(slot), index, Rule::Outside { lo, hi, value })
            }
            Violation::OutsideOpen { slot, lo, hi, value } => {
                Error::new(name(slot), index, Rule::OutsideOpen { lo, hi, value })
            }
            Violation::NotNormalized { slot, sum } => Error::new(name(slot), index, Rule::NotNormalized { sum }),
            Violation::NoClosedFormBelow { slot, other, bound, value } => {
                Error::new(name(slot), index, Rule::NoClosedFormBelow { other: name(other), bound, value })
            }
        }
    }
}

impl From<NotPositiveDefinite> for Rule {
    fn from(e: NotPositiveDefinite) -> Self {
        Rule::NotPositiveDefinite { pivot: e.pivot }
    }
}

impl fmt::Display for Error {
    /// One line: "parameter `s1` at batch index [3, 1] must be > 0, found -0.5".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "parameter `{}`", self.param)?;
        if !self.index.is_empty() {
            write!(f, " at batch index {:?}", self.index)?;
        }
        match &self.rule {
            Rule::NonPositive { value } => write!(f, " must be > 0, found {value}"),
            Rule::Negative { value } => write!(f, " must be >= 0, found {value}"),
            Rule::NotAbove { other, bound, value } => write!(f, " must be > `{other}` (= {bound}), found {value}"),
            Rule::Outside { lo, hi, value } if hi.is_infinite() => {
                write!(f, " must lie in the support [{lo}, ∞), found {value}")
            }
            Rule::Outside { lo, hi, value } => write!(f, " must lie in the support [{lo}, {hi}], found {value}"),
            Rule::OutsideOpen { lo, hi, value } => {
                write!(f, " must lie in the open interval ({lo}, {hi}), found {value}")
            }
            Rule::NotNormalized { sum } => {
                write!(f, " must sum to 1 over its last dim (a point of the simplex), found {sum}")
            }
            Rule::NonFinite { value } => write!(f, " must be finite, found {value}"),
            Rule::NotBinary { value } => write!(f, " must be 0 or 1, found {value}"),
            Rule::NoClosedFormBelow { other, bound, value } => {
                write!(f, " must be >= `{other}` (= {bound}) for the KL to have a closed form, found {value}")
            }
            Rule::NotCount { value } => {
                write!(f, " must be a non-negative integer, found {value}")
            }
            Rule::NotSymmetric { row, col } => {
                write!(f, " must be symmetric, but entries ({row}, {col}) and ({col}, {row}) differ")
            }
            Rule::NotPositiveDefinite { pivot } => {
                write!(f, " must be positive definite, but its Cholesky factorization fails at pivot {pivot}")
            }
            Rule::LengthMismatch { expected, found } => {
                write!(f, " must have {expected} elements, found {found}")
            }
            Rule::Shape { message } => write!(f, ": {message}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_with_index_and_value() {
        let e = Error::new("s1", &[3, 1], Rule::NonPositive { value: -0.5 });
        assert_eq!(e.to_string(), "parameter `s1` at batch index [3, 1] must be > 0, found -0.5");
    }

    #[test]
    fn display_omits_an_empty_index() {
        let e = Error::new("C", &[], Rule::NotSymmetric { row: 2, col: 0 });
        assert_eq!(e.to_string(), "parameter `C` must be symmetric, but entries (2, 0) and (0, 2) differ");
    }

    #[test]
    fn display_of_non_finite_and_pd_and_length() {
        let nan = Error::new("mu", &[0], Rule::NonFinite { value: f64::NAN });
        assert_eq!(nan.to_string(), "parameter `mu` at batch index [0] must be finite, found NaN");
        let pd = Error::new("P", &[1], NotPositiveDefinite { pivot: 2 }.into());
        assert!(pd.to_string().ends_with("fails at pivot 2"));
        let len = Error::new("x", &[], Rule::LengthMismatch { expected: 4, found: 3 });
        assert_eq!(len.to_string(), "parameter `x` must have 4 elements, found 3");
    }
}
