//! `Cauchy(loc, scale)`: density `1 / (π scale (1 + ((x − loc)/scale)²))`, elementwise. Its
//! closed forms are the `kl_runtime::cauchy` kernels, described here.

use super::{build, Family, Structure, Support};
use crate::ir::{Ir, NodeId};
use crate::kernel::{scalar_kernel, Kernel};
use crate::rules::Site;

pub const CAUCHY: Family = Family {
    name: "Cauchy",
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

/// `KL(Cauchy(m1, s1) ‖ Cauchy(m2, s2))`, elementwise.
pub const KL: Kernel = scalar_kernel! {
    name: "cauchy_kl", quantity: Kl, hint: "kl",
    runtime: cauchy_kl, adjoint: cauchy_kl_grad,
    operands: [m1 = 0, s1 = 1, m2 = 2, s2 = 3],
    formula: |m1, s1, m2, s2| format!("ln(1 + (({s1}−{s2})² + ({m1}−{m2})²)/(4{s1}{s2}))"),
};

/// `ln p(x)` of `Cauchy(m, s)`, elementwise.
pub const LOG_PROB: Kernel = scalar_kernel! {
    name: "cauchy_log_prob", quantity: LogProb, hint: "log_p",
    runtime: cauchy_log_prob, adjoint: cauchy_log_prob_grad,
    operands: [x = 0, m = 1, s = 2],
    formula: |x, m, s| format!("−ln(π{s}) − ln(1 + (({x}−{m})/{s})²)"),
};

/// The entropy of `Cauchy(m, s)`, elementwise.
pub const ENTROPY: Kernel = scalar_kernel! {
    name: "cauchy_entropy", quantity: Entropy, hint: "h",
    runtime: cauchy_entropy, adjoint: cauchy_entropy_grad,
    operands: [s = 0],
    formula: |s| format!("ln(4π{s})"),
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
