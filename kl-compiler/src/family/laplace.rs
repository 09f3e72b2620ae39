//! `Laplace(loc, scale)`: density `exp(−|x − loc| / scale) / (2 scale)`, elementwise like
//! `Normal`. Its closed forms are the `kl_runtime::laplace` kernels, described here.

use super::{build, Family, Structure, Support};
use crate::ir::{Ir, NodeId};
use crate::kernel::{scalar_kernel, Kernel};
use crate::rules::Site;

pub const LAPLACE: Family = Family {
    name: "Laplace",
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

/// `KL(Laplace(m1, b1) ‖ Laplace(m2, b2))`, elementwise.
pub const KL: Kernel = scalar_kernel! {
    name: "laplace_kl", quantity: Kl, hint: "kl",
    runtime: laplace_kl, adjoint: laplace_kl_grad,
    operands: [m1 = 0, b1 = 1, m2 = 2, b2 = 3],
    formula: |m1, b1, m2, b2| format!("ln({b2}/{b1}) + |{m1}−{m2}|/{b2} + ({b1}/{b2})·exp(−|{m1}−{m2}|/{b1}) − 1"),
};

/// `ln p(x)` of `Laplace(m, b)`, elementwise.
pub const LOG_PROB: Kernel = scalar_kernel! {
    name: "laplace_log_prob", quantity: LogProb, hint: "log_p",
    runtime: laplace_log_prob, adjoint: laplace_log_prob_grad,
    operands: [x = 0, m = 1, b = 2],
    formula: |x, m, b| format!("−ln(2{b}) − |{x}−{m}|/{b}"),
};

/// The entropy of `Laplace(m, b)`, elementwise.
pub const ENTROPY: Kernel = scalar_kernel! {
    name: "laplace_entropy", quantity: Entropy, hint: "h",
    runtime: laplace_entropy, adjoint: laplace_entropy_grad,
    operands: [b = 0],
    formula: |b| format!("1 + ln(2{b})"),
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
