//! `Exponential(rate)`: density `rate · e^(−rate x)` on `[0, ∞)`. Its closed forms are the `kl_runtime::exponential` kernels.

use super::{build, plain_slot, Family, Structure, Support};
use crate::ir::{Ir, NodeId};
use crate::kernel::{scalar_kernel, Kernel};
use crate::rules::Site;

pub const EXPONENTIAL: Family = Family {
    name: "Exponential",
    operands: &["rate"],
    slots: &[plain_slot!("rate", Positive)],
    event_rank: 0,
    support: Support::NonNegative,
    structure: Structure::Other,
    shape: super::single_shape,
    cshape: "single",
    cshape_keywords: &[],
    joint_check: false,
};

pub const KL: Kernel = scalar_kernel! {
    name: "exponential_kl", quantity: Kl, hint: "kl",
    runtime: exponential_kl, adjoint: exponential_kl_grad,
    operands: [r1 = 0, r2 = 1],
    formula: |r1, r2| format!("ln({r1}/{r2}) + {r2}/{r1} − 1"),
};

pub const LOG_PROB: Kernel = scalar_kernel! {
    name: "exponential_log_prob", quantity: LogProb, hint: "log_p",
    runtime: exponential_log_prob, adjoint: exponential_log_prob_grad,
    operands: [x = 0, r = 1],
    formula: |x, r| format!("ln {r} − {r}{x}"),
};

pub const ENTROPY: Kernel = scalar_kernel! {
    name: "exponential_entropy", quantity: Entropy, hint: "h",
    runtime: exponential_entropy, adjoint: exponential_entropy_grad,
    operands: [r = 0],
    formula: |r| format!("1 − ln {r}"),
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
