//! `Gumbel(loc, scale)`: density `e^(−(z + e^(−z)))/scale`, `z = (x − loc)/scale`, and
//! `Weibull(scale, concentration)`: density `(k/λ)(x/λ)^(k − 1) e^(−(x/λ)^k)` on `(0, ∞)`,
//! elementwise. Their closed forms are the `kl_runtime::gumbel` kernels, described here.

use super::{build, plain_slot, Family, Structure, Support};
use crate::ir::{Ir, NodeId};
use crate::kernel::{scalar_kernel, Kernel};
use crate::rules::Site;

pub const GUMBEL: Family = Family {
    name: "Gumbel",
    operands: &["loc", "scale"],
    slots: &[super::LOC, super::SCALE],
    event_rank: 0,
    support: Support::Real,
    structure: Structure::Other,
    shape: super::loc_scale_shape,
    cshape: "normal",
    cshape_keywords: &[1],
    joint_check: false,
};

pub const WEIBULL: Family = Family {
    name: "Weibull",
    operands: &["scale", "concentration"],
    slots: &[super::SCALE, plain_slot!("concentration", Positive)],
    event_rank: 0,
    support: Support::Positive,
    structure: Structure::Other,
    shape: super::broadcast_shape,
    cshape: "pair",
    cshape_keywords: &[0, 1],
    joint_check: false,
};

pub const KL: Kernel = scalar_kernel! {
    name: "gumbel_kl", quantity: Kl, hint: "kl",
    runtime: gumbel_kl, adjoint: gumbel_kl_grad,
    operands: [m1 = 0, b1 = 1, m2 = 2, b2 = 3],
    formula: |m1, b1, m2, b2| format!(
        "−ln({b1}/{b2}) + ({m1} − {m2})/{b2} + γ({b1}/{b2} − 1) + exp(−({m1} − {m2})/{b2})·Γ(1 + {b1}/{b2}) − 1"
    ),
};

pub const LOG_PROB: Kernel = scalar_kernel! {
    name: "gumbel_log_prob", quantity: LogProb, hint: "log_p",
    runtime: gumbel_log_prob, adjoint: gumbel_log_prob_grad,
    operands: [x = 0, m = 1, b = 2],
    formula: |x, m, b| format!("−(z + exp(−z)) − ln {b}, z = ({x} − {m})/{b}"),
};

pub const ENTROPY: Kernel = scalar_kernel! {
    name: "gumbel_entropy", quantity: Entropy, hint: "h",
    runtime: gumbel_entropy, adjoint: gumbel_entropy_grad,
    operands: [b = 0],
    formula: |b| format!("ln {b} + 1 + γ"),
};

pub const WEIBULL_KL: Kernel = scalar_kernel! {
    name: "weibull_kl", quantity: Kl, hint: "kl",
    runtime: weibull_kl, adjoint: weibull_kl_grad,
    operands: [l1 = 0, k1 = 1, l2 = 2, k2 = 3],
    formula: |l1, k1, l2, k2| format!(
        "ln({k1}/{k2}) − {k2}·ln({l1}/{l2}) − γ(1 − {k2}/{k1}) + ({l1}/{l2})^{k2}·Γ(1 + {k2}/{k1}) − 1"
    ),
};

pub const WEIBULL_LOG_PROB: Kernel = scalar_kernel! {
    name: "weibull_log_prob", quantity: LogProb, hint: "log_p",
    runtime: weibull_log_prob, adjoint: weibull_log_prob_grad,
    operands: [x = 0, l = 1, k = 2],
    formula: |x, l, k| format!("ln({k}/{l}) + ({k} − 1)·ln({x}/{l}) − ({x}/{l})^{k}"),
};

pub const WEIBULL_ENTROPY: Kernel = scalar_kernel! {
    name: "weibull_entropy", quantity: Entropy, hint: "h",
    runtime: weibull_entropy, adjoint: weibull_entropy_grad,
    operands: [l = 0, k = 1],
    formula: |l, k| format!("γ(1 − 1/{k}) + ln({l}/{k}) + 1"),
};

pub const WEIBULL_GAMMA_KL: Kernel = scalar_kernel! {
    name: "weibull_gamma_kl", quantity: Kl, hint: "kl",
    runtime: weibull_gamma_kl, adjoint: weibull_gamma_kl_grad,
    operands: [l = 0, k = 1, a = 2, b = 3],
    formula: |l, k, a, b| format!(
        "−H(Weibull({l}, {k})) − {a}·ln {b} − ({a} − 1)(ln {l} − γ/{k}) + {b}{l}·Γ(1 + 1/{k}) + lnΓ({a})"
    ),
};

pub fn kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::pair(ir, at, &KL)
}

pub fn log_prob(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::value(ir, at, &LOG_PROB)
}

pub fn entropy(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::of(ir, at, &ENTROPY, &[1])
}

pub fn weibull_kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::pair(ir, at, &WEIBULL_KL)
}

pub fn weibull_log_prob(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::value(ir, at, &WEIBULL_LOG_PROB)
}

pub fn weibull_entropy(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::of(ir, at, &WEIBULL_ENTROPY, &[0, 1])
}

pub fn weibull_gamma_kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::pair(ir, at, &WEIBULL_GAMMA_KL)
}
