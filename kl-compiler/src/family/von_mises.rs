//! `VonMises(loc, concentration)`: density `e^(κ cos(x − μ)) / (2π I0(κ))` on the circle,
//! elementwise (any real `x`, periodic, as torch takes it). Its closed forms are the
//! `kl_runtime::von_mises` kernels, described here; the KL is a pair torch.distributions lacks.

use super::{build, plain_slot, Family, Structure, Support};
use crate::ir::{Ir, NodeId};
use crate::kernel::{scalar_kernel, Kernel};
use crate::rules::Site;

pub const VON_MISES: Family = Family {
    name: "VonMises",
    operands: &["loc", "concentration"],
    slots: &[super::LOC, plain_slot!("concentration", Positive)],
    event_rank: 0,
    support: Support::Real,
    structure: Structure::Other,
    shape: super::broadcast_shape,
    cshape: "pair",
    cshape_keywords: &[0, 1],
    joint_check: false,
};

pub const KL: Kernel = scalar_kernel! {
    name: "von_mises_kl", quantity: Kl, hint: "kl",
    runtime: von_mises_kl, adjoint: von_mises_kl_grad,
    operands: [m1 = 0, k1 = 1, m2 = 2, k2 = 3],
    formula: |m1, k1, m2, k2| format!(
        "ln(I0({k2})/I0({k1})) + A({k1})·({k1} − {k2}·cos({m1} − {m2})),  A = I1/I0"
    ),
};

pub const LOG_PROB: Kernel = scalar_kernel! {
    name: "von_mises_log_prob", quantity: LogProb, hint: "log_p",
    runtime: von_mises_log_prob, adjoint: von_mises_log_prob_grad,
    operands: [x = 0, m = 1, k = 2],
    formula: |x, m, k| format!("{k}·cos({x} − {m}) − ln(2π I0({k}))"),
};

pub const ENTROPY: Kernel = scalar_kernel! {
    name: "von_mises_entropy", quantity: Entropy, hint: "h",
    runtime: von_mises_entropy, adjoint: von_mises_entropy_grad,
    operands: [k = 0],
    formula: |k| format!("ln(2π I0({k})) − {k}·A({k}),  A = I1/I0"),
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
