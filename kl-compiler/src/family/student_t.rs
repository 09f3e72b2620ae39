//! `StudentT(df, loc = 0, scale = 1)`: Student's t, elementwise. Its KL has no closed form (the
//! `kl::no_closed_form` diagnostic); its `log_prob` and `entropy` are the `kl_runtime::student_t`
//! kernels, described here.

use super::{build, plain_slot, Family, Structure, Support};
use crate::ir::{Ir, NodeId};
use crate::kernel::{scalar_kernel, Kernel};
use crate::rules::Site;

pub const STUDENT_T: Family = Family {
    name: "StudentT",
    operands: &["df", "loc", "scale"],
    slots: &[
        plain_slot!("df", Positive),
        plain_slot!("loc", Real, default = 0.0),
        plain_slot!("scale", Positive, default = 1.0),
    ],
    event_rank: 0,
    support: Support::Real,
    structure: Structure::Other,
    shape: super::broadcast_shape,
    cshape: "triple",
    cshape_keywords: &[0, 1, 2],
    joint_check: false,
};

pub const LOG_PROB: Kernel = scalar_kernel! {
    name: "student_t_log_prob", quantity: LogProb, hint: "log_p",
    runtime: student_t_log_prob, adjoint: student_t_log_prob_grad,
    operands: [x = 0, df = 1, m = 2, s = 3],
    formula: |x, df, m, s| format!(
        "lnΓ(({df} + 1)/2) − lnΓ({df}/2) − ½ln({df}π) − ln {s} − (({df} + 1)/2)·ln(1 + (({x} − {m})/{s})²/{df})"
    ),
};

pub const ENTROPY: Kernel = scalar_kernel! {
    name: "student_t_entropy", quantity: Entropy, hint: "h",
    runtime: student_t_entropy, adjoint: student_t_entropy_grad,
    operands: [df = 0, s = 1],
    formula: |df, s| format!(
        "(({df} + 1)/2)(ψ(({df} + 1)/2) − ψ({df}/2)) + ½ln {df} + ln B({df}/2, ½) + ln {s}"
    ),
};

pub fn log_prob(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::value(ir, at, &LOG_PROB)
}

pub fn entropy(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::of(ir, at, &ENTROPY, &[0, 2])
}
