//! `LogNormal(loc, scale)`: `ln X ~ Normal(loc, scale)`, support (0, ∞). Its KL is the normal
//! KL of the logs (the `Normal` rule applies to its nodes as they are); its `log_prob` and
//! `entropy` are the `kl_runtime::lognormal` kernels, described here.

use super::{build, Family, Structure, Support};
use crate::ir::{Ir, NodeId};
use crate::kernel::{scalar_kernel, Kernel};
use crate::rules::Site;

pub const LOG_NORMAL: Family = Family {
    name: "LogNormal",
    operands: &["loc", "scale"],
    slots: &[super::LOC, super::SCALE],
    event_rank: 0,
    support: Support::Positive,
    structure: Structure::Other,
    shape: super::loc_scale_shape,
    cshape: "normal",
    cshape_keywords: &[1],
    joint_check: false,
};

/// `ln p(x)` of `LogNormal(m, s)`, elementwise.
pub const LOG_PROB: Kernel = scalar_kernel! {
    name: "lognormal_log_prob", quantity: LogProb, hint: "log_p",
    runtime: lognormal_log_prob, adjoint: lognormal_log_prob_grad,
    operands: [x = 0, m = 1, s = 2],
    formula: |x, m, s| format!("−½((ln {x}−{m})/{s})² − ln {s} − ½ln(2π) − ln {x}"),
};

/// The entropy of `LogNormal(m, s)`, elementwise.
pub const ENTROPY: Kernel = scalar_kernel! {
    name: "lognormal_entropy", quantity: Entropy, hint: "h",
    runtime: lognormal_entropy, adjoint: lognormal_entropy_grad,
    operands: [m = 0, s = 1],
    formula: |m, s| format!("{m} + ½ + ½ln(2π) + ln {s}"),
};

pub fn log_prob(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::value(ir, at, &LOG_PROB)
}

pub fn entropy(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::of(ir, at, &ENTROPY, &[0, 1])
}
