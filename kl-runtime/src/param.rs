//! Univariate normal KL in the parameterization the user gave, so that near-equal variances,
//! precisions or log-scales keep their accuracy: converting to standard deviations first
//! (a `sqrt` or `exp` per side) rounds away exactly the difference the KL measures.

use crate::real::Real;
use crate::scalar::{log1pmx, scale_ratio_term};

/// How the second parameter of a univariate normal is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScaleParam {
    /// standard deviation `s`
    Scale,
    /// variance `v = s²`
    Var,
    /// `l = ln s`
    LogScale,
    /// precision `p = 1 / s²`
    Precision,
}

impl ScaleParam {
    /// The standard deviation.
    #[inline(always)]
    pub fn scale<T: Real>(self, a: T) -> T {
        match self {
            ScaleParam::Scale => a,
            ScaleParam::Var => a.sqrt(),
            ScaleParam::LogScale => a.exp(),
            ScaleParam::Precision => a.sqrt().recip(),
        }
    }

    /// The variance.
    #[inline(always)]
    pub fn var<T: Real>(self, a: T) -> T {
        match self {
            ScaleParam::Scale => a * a,
            ScaleParam::Var => a,
            ScaleParam::LogScale => (a + a).exp(),
            ScaleParam::Precision => a.recip(),
        }
    }
}

/// `eˣ − 1 − x`, accurate for every `x` including tiny `|x|` (where it is `x²/2 + x³/6 + ..`).
#[inline]
pub fn expm1mx<T: Real>(x: T) -> T {
    if x.abs() < T::HALF {
        // Σ_{k>=2} xᵏ/k! = (x²/2)(1 + (x/3)(1 + (x/4)(1 + ..))), from the 18th term: below
        // f64 rounding for |x| < 1/2.
        let mut s = T::ONE;
        let mut k = 18;
        while k >= 3 {
            s = T::ONE + x * s / T::from_usize(k);
            k -= 1;
        }
        T::HALF * x * x * s
    } else {
        x.exp_m1() - x
    }
}

/// `½ (ρ − 1) − ½ ln ρ` with `ρ = a / b > 0`: the scale part of the Gaussian KL written with
/// the variance ratio `ρ = σ1² / σ2²`. Near `ρ = 1` it is `−½ log1pmx(u)` with `u = (a − b) / b`
/// (`a − b` is exact there); far from it the logarithm is a difference of logarithms.
#[inline]
pub fn var_ratio_term<T: Real>(a: T, b: T) -> T {
    let u = (a - b) / b;
    if u.abs() < T::HALF {
        -T::HALF * log1pmx(u)
    } else {
        T::HALF * (a / b - T::ONE) - T::HALF * (a.ln() - b.ln())
    }
}

/// `KL(N(loc1, σ1²) ‖ N(loc2, σ2²))` with each σ given as `a1`, `a2` in the parameterizations
/// `p1`, `p2`. Same parameterization on both sides: the ratio comes from the parameters
/// themselves (`(v1 − v2) / v2`, `l1 − l2`, `(p2 − p1) / p1`), exactly as the user gave them.
/// Mixed parameterizations go through variances.
#[inline(always)]
pub fn normal_kl_param<T: Real>(loc1: T, a1: T, p1: ScaleParam, loc2: T, a2: T, p2: ScaleParam) -> T {
    use ScaleParam::*;
    let dm = loc1 - loc2;
    // ½ (loc1 − loc2)² / σ2², without forming σ2 where the parameter gives 1/σ2² directly.
    let mean = match p2 {
        Scale => {
            let d = dm / a2;
            T::HALF * (d * d)
        }
        Var => T::HALF * (dm * dm) / a2,
        Precision => T::HALF * (dm * dm) * a2,
        LogScale => {
            let d = dm * (-a2).exp();
            T::HALF * (d * d)
        }
    };
    let ratio = match (p1, p2) {
        (Scale, Scale) => scale_ratio_term(a1, a2),
        (Var, Var) => var_ratio_term(a1, a2),
        (Precision, Precision) => var_ratio_term(a2, a1),
        (LogScale, LogScale) => {
            // ρ = e^{2t}: ½ (e^{2t} − 1) − t = ½ expm1mx(2t), with t = l1 − l2 exact.
            let t = a1 - a2;
            T::HALF * expm1mx(t + t)
        }
        _ => var_ratio_term(p1.var(a1), p2.var(a2)),
    };
    mean + ratio
}

#[cfg(test)]
mod tests {
    use super::*;
    use ScaleParam::*;

    /// The textbook form in f64, for arguments far enough apart that it does not cancel.
    fn textbook(m1: f64, s1: f64, m2: f64, s2: f64) -> f64 {
        (s2 / s1).ln() + (s1 * s1 + (m1 - m2) * (m1 - m2)) / (2.0 * s2 * s2) - 0.5
    }

    #[test]
    fn every_parameterization_agrees_with_the_textbook_form() {
        let (m1, s1, m2, s2) = (0.3, 0.7, -1.1, 1.9);
        let want = textbook(m1, s1, m2, s2);
        let as_param = |p: ScaleParam, s: f64| match p {
            Scale => s,
            Var => s * s,
            LogScale => s.ln(),
            Precision => 1.0 / (s * s),
        };
        for p1 in [Scale, Var, LogScale, Precision] {
            for p2 in [Scale, Var, LogScale, Precision] {
                let got = normal_kl_param(m1, as_param(p1, s1), p1, m2, as_param(p2, s2), p2);
                assert!((got - want).abs() <= 1e-14 * want, "{p1:?}/{p2:?}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn near_equal_variances_keep_their_relative_accuracy() {
        // v2 = v1 (1 + e): KL = ½ (ρ − 1 − ln ρ), ρ = 1/(1 + e) = 1 − e + e² − ..;
        // series: KL = e²/4 − e³/3 + O(e⁴) for the variance ratio 1 + e on the other side.
        for e in [1e-4, 1e-7, 1e-10] {
            let v1 = 1.25_f64;
            let v2 = v1 * (1.0 + e);
            let exact_e = (v2 - v1) / v1; // the e the f64 inputs really carry
            let want = 0.25 * exact_e * exact_e - exact_e.powi(3) / 3.0;
            let got = normal_kl_param(0.0, v1, Var, 0.0, v2, Var);
            assert!(((got - want) / want).abs() < 1e-6 * (1.0 + e / 1e-7), "e={e}: {got} vs {want}");
        }
    }

    #[test]
    fn near_equal_log_scales_keep_their_relative_accuracy() {
        // ½ (e^{2t} − 1) − t = t² + (2/3) t³ + (1/3) t⁴ + ..
        for t in [1e-3_f64, 1e-6, 1e-9] {
            let want = t * t + 2.0 / 3.0 * t.powi(3) + t.powi(4) / 3.0;
            let got = normal_kl_param(0.0, 0.2 + t, LogScale, 0.0, 0.2, LogScale);
            let t_real = (0.2 + t) - 0.2;
            let want_real = want * (t_real / t).powi(2);
            assert!(((got - want_real) / want_real).abs() < 1e-9, "t={t}: {got} vs {want_real}");
        }
    }

    #[test]
    fn expm1mx_matches_its_series_and_its_definition() {
        assert_eq!(expm1mx(0.0_f64), 0.0);
        let x = 1e-5_f64;
        let series = x * x / 2.0 + x * x * x / 6.0 + x.powi(4) / 24.0;
        assert!(((expm1mx(x) - series) / series).abs() < 1e-15);
        let x = 0.49_f64;
        assert!(((expm1mx(x) - (x.exp_m1() - x)) / (x.exp_m1() - x)).abs() < 1e-15);
    }

    #[test]
    fn identical_arguments_give_exactly_zero() {
        for p in [Scale, Var, LogScale, Precision] {
            assert_eq!(normal_kl_param(0.5_f64, 0.8, p, 0.5, 0.8, p), 0.0, "{p:?}");
            assert_eq!(normal_kl_param(0.5_f32, 0.8, p, 0.5, 0.8, p), 0.0, "{p:?}");
        }
    }
}
