//! `Poisson(rate)`: `P(k) = rateᵏ e^(−rate)/k!` on `{0, 1, 2, ..}`, elementwise. Its closed
//! forms are the `kl_runtime::discrete` kernels. It has no `entropy` rule: the entropy is an
//! infinite series without a closed form (torch does not define it either).

use super::{build, plain_slot, Family, Structure, Support};
use crate::ir::{Ir, NodeId};
use crate::kernel::{scalar_kernel, Kernel};
use crate::rules::Site;

pub const POISSON: Family = Family {
    name: "Poisson",
    operands: &["rate"],
    slots: &[plain_slot!("rate", Positive)],
    event_rank: 0,
    support: Support::Counts,
    structure: Structure::Other,
    shape: super::single_shape,
    cshape: "single",
    cshape_keywords: &[],
    joint_check: false,
};

pub const KL: Kernel = scalar_kernel! {
    name: "poisson_kl", quantity: Kl, hint: "kl",
    runtime: poisson_kl, adjoint: poisson_kl_grad,
    operands: [r1 = 0, r2 = 1],
    formula: |r1, r2| format!("{r1}·ln({r1}/{r2}) − {r1} + {r2}"),
};

pub const LOG_PROB: Kernel = scalar_kernel! {
    name: "poisson_log_prob", quantity: LogProb, hint: "log_p",
    runtime: poisson_log_prob, adjoint: poisson_log_prob_grad,
    operands: [k = 0, rate = 1],
    formula: |k, r| format!("{k}·ln {r} − {r} − lnΓ({k} + 1)"),
};

pub fn kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::pair(ir, at, &KL)
}

pub fn log_prob(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::value(ir, at, &LOG_PROB)
}
