//! `Gamma(concentration, rate)`: density `β^α x^(α − 1) e^(−βx) / Γ(α)` on `(0, ∞)`, and
//! `Chi2(df) = Gamma(df/2, 1/2)`, elementwise. Their closed forms are the `kl_runtime::gamma`
//! kernels, described here.

use super::{build, plain_slot, Family, Structure, Support};
use crate::ir::{Ir, NodeId, Op};
use crate::kernel::{scalar_kernel, Kernel};
use crate::rules::Site;

pub const GAMMA: Family = Family {
    name: "Gamma",
    operands: &["concentration", "rate"],
    slots: &[plain_slot!("concentration", Positive), plain_slot!("rate", Positive)],
    event_rank: 0,
    support: Support::Positive,
    structure: Structure::Other,
    shape: super::broadcast_shape,
    cshape: "pair",
    cshape_keywords: &[0, 1],
    joint_check: false,
};

pub const CHI2: Family = Family {
    name: "Chi2",
    operands: &["df"],
    slots: &[plain_slot!("df", Positive)],
    event_rank: 0,
    support: Support::Positive,
    structure: Structure::Other,
    shape: super::single_shape,
    cshape: "single",
    cshape_keywords: &[],
    joint_check: false,
};

pub const KL: Kernel = scalar_kernel! {
    name: "gamma_kl", quantity: Kl, hint: "kl",
    runtime: gamma_kl, adjoint: gamma_kl_grad,
    operands: [a1 = 0, b1 = 1, a2 = 2, b2 = 3],
    formula: |a1, b1, a2, b2| format!(
        "({a1} − {a2})ψ({a1}) − lnΓ({a1}) + lnΓ({a2}) + {a2}·ln({b1}/{b2}) + {a1}({b2} − {b1})/{b1}"
    ),
};

pub const LOG_PROB: Kernel = scalar_kernel! {
    name: "gamma_log_prob", quantity: LogProb, hint: "log_p",
    runtime: gamma_log_prob, adjoint: gamma_log_prob_grad,
    operands: [x = 0, a = 1, b = 2],
    formula: |x, a, b| format!("{a}·ln {b} + ({a} − 1)·ln {x} − {b}{x} − lnΓ({a})"),
};

pub const ENTROPY: Kernel = scalar_kernel! {
    name: "gamma_entropy", quantity: Entropy, hint: "h",
    runtime: gamma_entropy, adjoint: gamma_entropy_grad,
    operands: [a = 0, b = 1],
    formula: |a, b| format!("{a} − ln {b} + lnΓ({a}) + (1 − {a})ψ({a})"),
};

pub const CHI2_KL: Kernel = scalar_kernel! {
    name: "chi2_kl", quantity: Kl, hint: "kl",
    runtime: chi2_kl, adjoint: chi2_kl_grad,
    operands: [k1 = 0, k2 = 1],
    formula: |k1, k2| format!("KL(Gamma({k1}/2, ½) ‖ Gamma({k2}/2, ½))"),
};

pub const CHI2_LOG_PROB: Kernel = scalar_kernel! {
    name: "chi2_log_prob", quantity: LogProb, hint: "log_p",
    runtime: chi2_log_prob, adjoint: chi2_log_prob_grad,
    operands: [x = 0, k = 1],
    formula: |x, k| format!("log_prob(Gamma({k}/2, ½), {x})"),
};

pub const CHI2_ENTROPY: Kernel = scalar_kernel! {
    name: "chi2_entropy", quantity: Entropy, hint: "h",
    runtime: chi2_entropy, adjoint: chi2_entropy_grad,
    operands: [k = 0],
    formula: |k| format!("H(Gamma({k}/2, ½))"),
};

pub const HALF: Kernel = scalar_kernel! {
    name: "half", quantity: Kl, hint: "half",
    runtime: half, adjoint: half_grad,
    operands: [x = 0],
    formula: |x| format!("{x}/2"),
};

pub fn kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::pair(ir, at, &KL)
}

/// The operands of the Gamma a Gamma-like distribution node is: a Gamma's own,
/// `Chi2(k) = Gamma(k/2, 1/2)`, `Exponential(r) = Gamma(1, r)`.
fn as_gamma(ir: &mut Ir, at: Site, node: NodeId) -> Option<Vec<NodeId>> {
    let family = ir.op(node).family()?;
    let ops = ir.operands(node);
    Some(if *family == GAMMA {
        ops
    } else if *family == CHI2 {
        let concentration = build::node(ir, at.span, &HALF, &[ops[0]]);
        vec![concentration, ir.add(Op::Literal(0.5), at.span, &[])]
    } else if *family == super::EXPONENTIAL {
        vec![ir.add(Op::Literal(1.0), at.span, &[]), ops[0]]
    } else {
        return None;
    })
}

/// `KL(P ‖ Q)` for Gamma-like `P` and `Q` of different families (Chi2 ‖ Gamma, Exponential ‖
/// Chi2, ..): the Gamma KL of the Gammas they are.
pub fn gamma_like_kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    let mut ops = as_gamma(ir, at, at.p)?;
    ops.extend(as_gamma(ir, at, at.other)?);
    Some(build::node(ir, at.span, &KL, &ops))
}

pub fn log_prob(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::value(ir, at, &LOG_PROB)
}

pub fn entropy(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::of(ir, at, &ENTROPY, &[0, 1])
}

pub fn chi2_kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::pair(ir, at, &CHI2_KL)
}

pub fn chi2_log_prob(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::value(ir, at, &CHI2_LOG_PROB)
}

pub fn chi2_entropy(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::of(ir, at, &CHI2_ENTROPY, &[0])
}
