//! `HalfNormal(scale)`: `|X|` for `X ~ Normal(0, scale)`, on `[0, ∞)`. Its closed forms are the `kl_runtime::half_normal` kernels.

use super::{build, plain_slot, Family, Structure, Support};
use crate::ir::{Ir, NodeId};
use crate::kernel::{scalar_kernel, Kernel};
use crate::rules::Site;

pub const HALF_NORMAL: Family = Family {
    name: "HalfNormal",
    operands: &["scale"],
    slots: &[plain_slot!("scale", Positive)],
    event_rank: 0,
    support: Support::NonNegative,
    structure: Structure::Other,
    shape: super::single_shape,
    cshape: "single",
    cshape_keywords: &[],
    joint_check: false,
};

pub const KL: Kernel = scalar_kernel! {
    name: "half_normal_kl", quantity: Kl, hint: "kl",
    runtime: half_normal_kl, adjoint: half_normal_kl_grad,
    operands: [s1 = 0, s2 = 1],
    formula: |s1, s2| format!("ln({s2}/{s1}) + {s1}²/(2{s2}²) − ½"),
};

pub const LOG_PROB: Kernel = scalar_kernel! {
    name: "half_normal_log_prob", quantity: LogProb, hint: "log_p",
    runtime: half_normal_log_prob, adjoint: half_normal_log_prob_grad,
    operands: [x = 0, s = 1],
    formula: |x, s| format!("ln 2 − ½({x}/{s})² − ln {s} − ½ln(2π)"),
};

pub const ENTROPY: Kernel = scalar_kernel! {
    name: "half_normal_entropy", quantity: Entropy, hint: "h",
    runtime: half_normal_entropy, adjoint: half_normal_entropy_grad,
    operands: [s = 0],
    formula: |s| format!("½ln(π/2) + ½ + ln {s}"),
};

pub fn kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::pair(ir, at, &KL)
}

pub fn log_prob(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::value(ir, at, &LOG_PROB)
}

pub fn entropy(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::of(ir, at, &ENTROPY, &[0])
}
