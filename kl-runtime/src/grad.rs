//! Closed-form partial derivatives of the elementwise Gaussian kernels: for each kernel, the
//! derivative of its value with respect to each operand, in the parameterization the operand is
//! given in. Reverse mode multiplies them by the upstream gradient.
//!
//! Near `p = q` every derivative tends to 0; none is formed as a difference of nearly equal
//! terms: the variance difference `v1 − v2` comes from the parameters as given
//! (`(s1 − s2)(s1 + s2)`, `v1 − v2`, `v2 · expm1(2(l1 − l2))`, `(p2 − p1)/(p1 p2)`), so that
//! the gradient of `P || P` is exactly 0.

use crate::param::ScaleParam;
use crate::real::Real;

/// `v1 − v2` for variances given as `a1` in `p1` and `a2` in `p2`, without cancellation when
/// both are given the same way.
fn var_diff<T: Real>(a1: T, p1: ScaleParam, a2: T, p2: ScaleParam) -> T {
    match (p1, p2) {
        (ScaleParam::Scale, ScaleParam::Scale) => (a1 - a2) * (a1 + a2),
        (ScaleParam::Var, ScaleParam::Var) => a1 - a2,
        (ScaleParam::LogScale, ScaleParam::LogScale) => p2.var(a2) * (T::TWO * (a1 - a2)).exp_m1(),
        (ScaleParam::Precision, ScaleParam::Precision) => (a2 - a1) / (a1 * a2),
        _ => p1.var(a1) - p2.var(a2),
    }
}

/// `dv/da` for a variance `v` given as `a` in `p`.
fn dvar<T: Real>(a: T, p: ScaleParam) -> T {
    match p {
        ScaleParam::Scale => T::TWO * a,
        ScaleParam::Var => T::ONE,
        ScaleParam::LogScale => T::TWO * p.var(a),
        ScaleParam::Precision => {
            let v = p.var(a);
            -(v * v)
        }
    }
}

/// `∂/∂(m1, a1, m2, a2)` of `normal_kl_param(m1, a1, p1, m2, a2, p2)`:
/// `KL = ½(m1 − m2)²/v2 + ½(v1/v2 − 1 − ln(v1/v2))`, so
/// `∂/∂m1 = (m1 − m2)/v2`, `∂/∂v1 = ½(v1 − v2)/(v1 v2)`, `∂/∂v2 = −½((m1 − m2)² + v1 − v2)/v2²`,
/// times `dv/da` of each side's parameterization.
///
/// ```
/// use kl_runtime::{normal_kl_param_grad, ScaleParam::Scale};
/// let g = normal_kl_param_grad(0.5_f64, 1.5, Scale, 0.0, 2.0, Scale);
/// // Textbook: (m1 − m2)/s2², s1/s2² − 1/s1, −(m1 − m2)/s2², 1/s2 − (s1² + (m1 − m2)²)/s2³.
/// let want = [0.125, 1.5 / 4.0 - 1.0 / 1.5, -0.125, 0.5 - (2.25 + 0.25) / 8.0];
/// for (a, b) in g.iter().zip(want) {
///     assert!((a - b).abs() < 1e-15);
/// }
/// assert_eq!(normal_kl_param_grad(0.5_f64, 1.5, Scale, 0.5, 1.5, Scale), [0.0; 4]);
/// ```
pub fn normal_kl_param_grad<T: Real>(m1: T, a1: T, p1: ScaleParam, m2: T, a2: T, p2: ScaleParam) -> [T; 4] {
    let (v1, v2) = (p1.var(a1), p2.var(a2));
    let dm = m1 - m2;
    let dv = var_diff(a1, p1, a2, p2);
    let gm = dm / v2;
    let gv1 = T::HALF * dv / (v1 * v2);
    let gv2 = -T::HALF * (dm * dm + dv) / (v2 * v2);
    [gm, gv1 * dvar(a1, p1), -gm, gv2 * dvar(a2, p2)]
}

/// `∂/∂(m, a)` of the KL against `N(0, 1)`, `a` in `p`: `∂/∂m = m`, `∂/∂v = ½(v − 1)/v`.
pub fn std_normal_kl_grad<T: Real>(m: T, a: T, p: ScaleParam) -> [T; 2] {
    let v = p.var(a);
    let dv = var_diff(a, p, T::ONE, ScaleParam::Scale);
    [m, T::HALF * dv / v * dvar(a, p)]
}

/// `∂/∂(x, m, s)` of `normal_log_prob(x, m, s)`: `−z/s`, `z/s`, `(z² − 1)/s`, `z = (x − m)/s`.
pub fn normal_log_prob_grad<T: Real>(x: T, m: T, s: T) -> [T; 3] {
    let z = (x - m) / s;
    [-z / s, z / s, (z - T::ONE) * (z + T::ONE) / s]
}

/// `∂/∂s` of `normal_entropy(s)`: `1/s`.
pub fn normal_entropy_grad<T: Real>(s: T) -> [T; 1] {
    [s.recip()]
}

/// `d scale / d a` for a scale given as `a` in `p` (the adjoint of `ScaleParam::scale`).
pub fn scale_from_grad<T: Real>(a: T, p: ScaleParam) -> T {
    match p {
        ScaleParam::Scale => T::ONE,
        ScaleParam::Var => T::HALF / a.sqrt(),
        ScaleParam::LogScale => a.exp(),
        ScaleParam::Precision => -T::HALF * a.sqrt().recip() / a,
    }
}
