//! `Uniform(low, high)`: density `1 / (high − low)` on `[low, high]`, elementwise. Its
//! parameters are ruled jointly (`high > low`), and its support depends on them: the kernels'
//! checks (`kl_runtime::uniform_*_check`) state both, and its KL is `+∞` where the intervals do
//! not nest.

use super::{build, plain_slot, Family, Structure, Support};
use crate::ir::{Ir, NodeId};
use crate::kernel::{scalar_kernel, Kernel};
use crate::rules::Site;

pub const UNIFORM: Family = Family {
    name: "Uniform",
    operands: &["low", "high"],
    slots: &[plain_slot!("low", Real), plain_slot!("high", Real)],
    event_rank: 0,
    support: Support::Between { lo: "low", hi: "high" },
    structure: Structure::Other,
    shape: super::loc_scale_shape,
    cshape: "pair",
    cshape_keywords: &[0, 1],
    joint_check: true,
};

pub const KL: Kernel = scalar_kernel! {
    name: "uniform_kl", quantity: Kl, hint: "kl",
    runtime: uniform_kl, adjoint: uniform_kl_grad,
    operands: [low1 = 0, high1 = 1, low2 = 2, high2 = 3],
    formula: |l1, h1, l2, h2| format!(
        "ln(({h2} − {l2})/({h1} − {l1})) if {l2} ≤ {l1} and {h1} ≤ {h2}, else +∞"
    ),
    check: uniform_kl_check,
};

pub const LOG_PROB: Kernel = scalar_kernel! {
    name: "uniform_log_prob", quantity: LogProb, hint: "log_p",
    runtime: uniform_log_prob, adjoint: uniform_log_prob_grad,
    operands: [x = 0, low = 1, high = 2],
    formula: |x, l, h| format!("−ln({h} − {l}) for {l} ≤ {x} < {h}"),
    check: uniform_log_prob_check,
};

pub const ENTROPY: Kernel = scalar_kernel! {
    name: "uniform_entropy", quantity: Entropy, hint: "h",
    runtime: uniform_entropy, adjoint: uniform_entropy_grad,
    operands: [low = 0, high = 1],
    formula: |l, h| format!("ln({h} − {l})"),
    check: uniform_entropy_check,
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
