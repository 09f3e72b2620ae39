//! `Beta(concentration1, concentration0)`: density `x^(α − 1)(1 − x)^(β − 1) / B(α, β)` on
//! `[0, 1]`, elementwise. Its closed forms are the `kl_runtime::beta` kernels, described here.

use super::{build, plain_slot, Family, Structure, Support};
use crate::ir::{Ir, NodeId};
use crate::kernel::{scalar_kernel, Kernel};
use crate::rules::Site;

pub const BETA: Family = Family {
    name: "Beta",
    operands: &["concentration1", "concentration0"],
    slots: &[plain_slot!("concentration1", Positive), plain_slot!("concentration0", Positive)],
    event_rank: 0,
    support: Support::UnitInterval,
    structure: Structure::Other,
    shape: super::broadcast_shape,
    cshape: "pair",
    cshape_keywords: &[0, 1],
    joint_check: false,
};

pub const KL: Kernel = scalar_kernel! {
    name: "beta_kl", quantity: Kl, hint: "kl",
    runtime: beta_kl, adjoint: beta_kl_grad,
    operands: [a1 = 0, b1 = 1, a2 = 2, b2 = 3],
    formula: |a1, b1, a2, b2| format!(
        "ln B({a2}, {b2}) − ln B({a1}, {b1}) + ({a1} − {a2})ψ({a1}) + ({b1} − {b2})ψ({b1}) + ({a2} − {a1} + {b2} − {b1})ψ({a1} + {b1})"
    ),
};

pub const LOG_PROB: Kernel = scalar_kernel! {
    name: "beta_log_prob", quantity: LogProb, hint: "log_p",
    runtime: beta_log_prob, adjoint: beta_log_prob_grad,
    operands: [x = 0, a = 1, b = 2],
    formula: |x, a, b| format!("({a} − 1)·ln {x} + ({b} − 1)·ln(1 − {x}) − ln B({a}, {b})"),
};

pub const ENTROPY: Kernel = scalar_kernel! {
    name: "beta_entropy", quantity: Entropy, hint: "h",
    runtime: beta_entropy, adjoint: beta_entropy_grad,
    operands: [a = 0, b = 1],
    formula: |a, b| format!(
        "ln B({a}, {b}) − ({a} − 1)ψ({a}) − ({b} − 1)ψ({b}) + ({a} + {b} − 2)ψ({a} + {b})"
    ),
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
