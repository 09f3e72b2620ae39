//! KLs between different families: torch.distributions' cross-family table, as kernels over
//! both distributions' parameters (P's, then Q's, in positional order; a `Normal`'s scale as its
//! standard deviation whatever its parameterization). The closed forms are the
//! `kl_runtime::cross` kernels, described here; the rules are registered in `crate::rules`.

use super::{build, normal};
use crate::ir::{Ir, NodeId};
use crate::kernel::{scalar_kernel, Kernel};
use crate::rules::Site;

/// `kernel(p's operands.., q's operands..)`, a `Normal` on either side by its loc and standard
/// deviation.
pub(crate) fn pair(ir: &mut Ir, at: Site, kernel: &'static Kernel) -> Option<NodeId> {
    let mut ops = normal::standard_operands(ir, at.p);
    ops.extend(normal::standard_operands(ir, at.other));
    Some(build::node(ir, at.span, kernel, &ops))
}

/// Declares the kernels and their rule functions, one per pair.
macro_rules! cross_kernels {
    ($($lower:ident, $kernel:ident: {$($body:tt)*})*) => {$(
        pub const $kernel: Kernel = scalar_kernel! { $($body)* };

        pub fn $lower(ir: &mut Ir, at: Site) -> Option<NodeId> {
            pair(ir, at, &$kernel)
        }
    )*};
}

cross_kernels! {
    laplace_normal, LAPLACE_NORMAL_KL: {
        name: "laplace_normal_kl", quantity: Kl, hint: "kl",
        runtime: laplace_normal_kl, adjoint: laplace_normal_kl_grad,
        operands: [m1 = 0, b1 = 1, m2 = 2, s2 = 3],
        formula: |m1, b1, m2, s2| format!(
            "½ ln π − ½ + KL(N({m1}, 2{b1}²) ‖ N({m2}, {s2}²))"
        ),
    }
    gumbel_normal, GUMBEL_NORMAL_KL: {
        name: "gumbel_normal_kl", quantity: Kl, hint: "kl",
        runtime: gumbel_normal_kl, adjoint: gumbel_normal_kl_grad,
        operands: [m1 = 0, b1 = 1, m2 = 2, s2 = 3],
        formula: |m1, b1, m2, s2| format!(
            "½ ln(π³e/3) − 1 − γ + KL(N({m1} + γ{b1}, π²{b1}²/6) ‖ N({m2}, {s2}²))"
        ),
    }
    exponential_normal, EXPONENTIAL_NORMAL_KL: {
        name: "exponential_normal_kl", quantity: Kl, hint: "kl",
        runtime: exponential_normal_kl, adjoint: exponential_normal_kl_grad,
        operands: [r = 0, m2 = 1, s2 = 2],
        formula: |r, m2, s2| format!("½(ln 2π − 1) + KL(N(1/{r}, 1/{r}²) ‖ N({m2}, {s2}²))"),
    }
    gamma_normal, GAMMA_NORMAL_KL: {
        name: "gamma_normal_kl", quantity: Kl, hint: "kl",
        runtime: gamma_normal_kl, adjoint: gamma_normal_kl_grad,
        operands: [a = 0, b = 1, m2 = 2, s2 = 3],
        formula: |a, b, m2, s2| format!(
            "J({a}) + KL(N({a}/{b}, {a}/{b}²) ‖ N({m2}, {s2}²)), J(a) = ½ ln(2πa) + ½ − a − lnΓ(a) + (a − 1)ψ(a)"
        ),
    }
    beta_normal, BETA_NORMAL_KL: {
        name: "beta_normal_kl", quantity: Kl, hint: "kl",
        runtime: beta_normal_kl, adjoint: beta_normal_kl_grad,
        operands: [a = 0, b = 1, m2 = 2, s2 = 3],
        formula: |a, b, m2, s2| format!(
            "½ ln(2πe v) − H(Beta({a}, {b})) + KL(N(m, v) ‖ N({m2}, {s2}²)), m = {a}/({a} + {b}), v = m(1 − m)/({a} + {b} + 1)"
        ),
    }
    pareto_normal, PARETO_NORMAL_KL: {
        name: "pareto_normal_kl", quantity: Kl, hint: "kl",
        runtime: pareto_normal_kl, adjoint: pareto_normal_kl_grad,
        operands: [s = 0, a = 1, m2 = 2, s2 = 3],
        formula: |s, a, m2, s2| format!(
            "½ ln(2πe v) − H(Pareto({s}, {a})) + KL(N(m, v) ‖ N({m2}, {s2}²)) for {a} > 2, m = {a}{s}/({a} − 1), v = {s}²{a}/(({a} − 1)²({a} − 2)); else +∞"
        ),
    }
    uniform_normal, UNIFORM_NORMAL_KL: {
        name: "uniform_normal_kl", quantity: Kl, hint: "kl",
        runtime: uniform_normal_kl, adjoint: uniform_normal_kl_grad,
        operands: [low = 0, high = 1, m2 = 2, s2 = 3],
        formula: |l, h, m2, s2| format!(
            "½ ln(πe/6) + KL(N(({l} + {h})/2, ({h} − {l})²/12) ‖ N({m2}, {s2}²))"
        ),
        check: uniform_first_check,
    }
    normal_gumbel, NORMAL_GUMBEL_KL: {
        name: "normal_gumbel_kl", quantity: Kl, hint: "kl",
        runtime: normal_gumbel_kl, adjoint: normal_gumbel_kl_grad,
        operands: [m1 = 0, s1 = 1, m2 = 2, b2 = 3],
        formula: |m1, s1, m2, b2| format!(
            "ln({b2}/{s1}) − ½(1 + ln 2π) + δ + exp(−δ + ({s1}/{b2})²/2), δ = ({m1} − {m2})/{b2}"
        ),
    }
    exponential_gumbel, EXPONENTIAL_GUMBEL_KL: {
        name: "exponential_gumbel_kl", quantity: Kl, hint: "kl",
        runtime: exponential_gumbel_kl, adjoint: exponential_gumbel_kl_grad,
        operands: [r = 0, m2 = 1, b2 = 2],
        formula: |r, m2, b2| format!(
            "ln k − 1 + 1/k − {m2}/{b2} + exp({m2}/{b2})·k/(k + 1), k = {r}{b2}"
        ),
    }
    gamma_gumbel, GAMMA_GUMBEL_KL: {
        name: "gamma_gumbel_kl", quantity: Kl, hint: "kl",
        runtime: gamma_gumbel_kl, adjoint: gamma_gumbel_kl_grad,
        operands: [a = 0, b = 1, m2 = 2, b2 = 3],
        formula: |a, b, m2, b2| format!(
            "ln k − {a} − lnΓ({a}) + ({a} − 1)ψ({a}) + {a}/k − {m2}/{b2} + exp({m2}/{b2})·(1 + 1/k)^(−{a}), k = {b}{b2}"
        ),
    }
    uniform_gumbel, UNIFORM_GUMBEL_KL: {
        name: "uniform_gumbel_kl", quantity: Kl, hint: "kl",
        runtime: uniform_gumbel_kl, adjoint: uniform_gumbel_kl_grad,
        operands: [low = 0, high = 1, m2 = 2, b2 = 3],
        formula: |l, h, m2, b2| format!(
            "−ln ω + z + e^(−z)·sinh(ω/2)/(ω/2), ω = ({h} − {l})/{b2}, z = (({l} + {h})/2 − {m2})/{b2}"
        ),
        check: uniform_first_check,
    }
    normal_laplace, NORMAL_LAPLACE_KL: {
        name: "normal_laplace_kl", quantity: Kl, hint: "kl",
        runtime: normal_laplace_kl, adjoint: normal_laplace_kl_grad,
        operands: [m1 = 0, s1 = 1, m2 = 2, b2 = 3],
        formula: |m1, s1, m2, b2| format!(
            "ln({b2}/{s1}) + ½ ln(2/π) − ½ + ({s1}/{b2})·(√(2/π) e^(−u²/2) + u·erf(u/√2)), u = ({m1} − {m2})/{s1}"
        ),
    }
    beta_exponential, BETA_EXPONENTIAL_KL: {
        name: "beta_exponential_kl", quantity: Kl, hint: "kl",
        runtime: beta_exponential_kl, adjoint: beta_exponential_kl_grad,
        operands: [a = 0, b = 1, r = 2],
        formula: |a, b, r| format!("−H(Beta({a}, {b})) − ln {r} + {r}·{a}/({a} + {b})"),
    }
    pareto_exponential, PARETO_EXPONENTIAL_KL: {
        name: "pareto_exponential_kl", quantity: Kl, hint: "kl",
        runtime: pareto_exponential_kl, adjoint: pareto_exponential_kl_grad,
        operands: [s = 0, a = 1, r = 2],
        formula: |s, a, r| format!(
            "ln({a}/({r}{s})) − 1/{a} − 1 + {r}{s}·{a}/({a} − 1) for {a} > 1, else +∞"
        ),
    }
    uniform_exponential, UNIFORM_EXPONENTIAL_KL: {
        name: "uniform_exponential_kl", quantity: Kl, hint: "kl",
        runtime: uniform_exponential_kl, adjoint: uniform_exponential_kl_grad,
        operands: [low = 0, high = 1, r = 2],
        formula: |l, h, r| format!("{r}({l} + {h})/2 − ln({r}({h} − {l})) for {l} ≥ 0, else +∞"),
        check: uniform_first_check3,
    }
    beta_gamma, BETA_GAMMA_KL: {
        name: "beta_gamma_kl", quantity: Kl, hint: "kl",
        runtime: beta_gamma_kl, adjoint: beta_gamma_kl_grad,
        operands: [a = 0, b = 1, alpha = 2, beta = 3],
        formula: |a, b, al, be| format!(
            "−H(Beta({a}, {b})) + lnΓ({al}) − {al} ln {be} − ({al} − 1)(ψ({a}) − ψ({a} + {b})) + {be}·{a}/({a} + {b})"
        ),
    }
    pareto_gamma, PARETO_GAMMA_KL: {
        name: "pareto_gamma_kl", quantity: Kl, hint: "kl",
        runtime: pareto_gamma_kl, adjoint: pareto_gamma_kl_grad,
        operands: [s = 0, a = 1, alpha = 2, beta = 3],
        formula: |s, a, al, be| format!(
            "ln {a} − 1 − {al}(ln({be}{s}) + 1/{a}) + lnΓ({al}) + {be}{s}·{a}/({a} − 1) for {a} > 1, else +∞"
        ),
    }
    uniform_gamma, UNIFORM_GAMMA_KL: {
        name: "uniform_gamma_kl", quantity: Kl, hint: "kl",
        runtime: uniform_gamma_kl, adjoint: uniform_gamma_kl_grad,
        operands: [low = 0, high = 1, alpha = 2, beta = 3],
        formula: |l, h, al, be| format!(
            "−ln({h} − {l}) + lnΓ({al}) − {al} ln {be} − ({al} − 1)·E[ln x] + {be}({l} + {h})/2 for {l} ≥ 0, else +∞"
        ),
        check: uniform_first_check,
    }
    beta_uniform, BETA_UNIFORM_KL: {
        name: "beta_uniform_kl", quantity: Kl, hint: "kl",
        runtime: beta_uniform_kl, adjoint: beta_uniform_kl_grad,
        operands: [a = 0, b = 1, low = 2, high = 3],
        formula: |a, b, l, h| format!("ln({h} − {l}) − H(Beta({a}, {b})) for {l} ≤ 0 and {h} ≥ 1, else +∞"),
        check: uniform_second_check,
    }
    uniform_beta, UNIFORM_BETA_KL: {
        name: "uniform_beta_kl", quantity: Kl, hint: "kl",
        runtime: uniform_beta_kl, adjoint: uniform_beta_kl_grad,
        operands: [low = 0, high = 1, alpha = 2, beta = 3],
        formula: |l, h, al, be| format!(
            "−ln({h} − {l}) − ({al} − 1)·E[ln x] − ({be} − 1)·E[ln(1 − x)] + ln B({al}, {be}) for 0 ≤ {l}, {h} ≤ 1, else +∞"
        ),
        check: uniform_first_check,
    }
    uniform_pareto, UNIFORM_PARETO_KL: {
        name: "uniform_pareto_kl", quantity: Kl, hint: "kl",
        runtime: uniform_pareto_kl, adjoint: uniform_pareto_kl_grad,
        operands: [low = 0, high = 1, s = 2, a = 3],
        formula: |l, h, s, a| format!(
            "−ln({h} − {l}) − ln {a} − {a} ln {s} + ({a} + 1)·E[ln x] for {l} ≥ {s}, else +∞"
        ),
        check: uniform_first_check,
    }
}
