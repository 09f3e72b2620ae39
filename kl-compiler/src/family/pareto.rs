//! `Pareto(scale, alpha)`: density `α s^α / x^(α + 1)` on `[scale, ∞)`, elementwise. Its
//! support depends on `scale`: a `log_prob` value below it is a data error (the kernel's check),
//! and its KL is `+∞` where `P`'s scale is below `Q`'s.

use super::{build, plain_slot, Family, Structure, Support};
use crate::ir::{Ir, NodeId};
use crate::kernel::{scalar_kernel, Kernel};
use crate::rules::Site;

pub const PARETO: Family = Family {
    name: "Pareto",
    operands: &["scale", "alpha"],
    slots: &[super::SCALE, plain_slot!("alpha", Positive)],
    event_rank: 0,
    support: Support::AtLeast { lo: "scale" },
    structure: Structure::Other,
    shape: super::loc_scale_shape,
    cshape: "pair",
    cshape_keywords: &[0, 1],
    joint_check: false,
};

pub const KL: Kernel = scalar_kernel! {
    name: "pareto_kl", quantity: Kl, hint: "kl",
    runtime: pareto_kl, adjoint: pareto_kl_grad,
    operands: [s1 = 0, a1 = 1, s2 = 2, a2 = 3],
    formula: |s1, a1, s2, a2| format!(
        "{a2}·ln({s1}/{s2}) + {a2}/{a1} − 1 − ln({a2}/{a1}) if {s1} ≥ {s2}, else +∞"
    ),
};

pub const LOG_PROB: Kernel = scalar_kernel! {
    name: "pareto_log_prob", quantity: LogProb, hint: "log_p",
    runtime: pareto_log_prob, adjoint: pareto_log_prob_grad,
    operands: [x = 0, s = 1, a = 2],
    formula: |x, s, a| format!("ln {a} + {a}·ln {s} − ({a} + 1)·ln {x}"),
    check: pareto_log_prob_check,
};

pub const ENTROPY: Kernel = scalar_kernel! {
    name: "pareto_entropy", quantity: Entropy, hint: "h",
    runtime: pareto_entropy, adjoint: pareto_entropy_grad,
    operands: [s = 0, a = 1],
    formula: |s, a| format!("ln({s}/{a}) + 1/{a} + 1"),
};

pub fn kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::pair(ir, at, &KL)
}

pub fn log_prob(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::value(ir, at, &LOG_PROB)
}

pub fn entropy(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::of(ir, at, &ENTROPY, &[0, 1])
}
