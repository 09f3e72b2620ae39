//! `LogNormal(loc, scale)`: `ln X ~ Normal(loc, scale)`, support (0, ∞). Its KL is the normal
//! KL of the logs (the `Normal` rule applies to its nodes as they are); its `log_prob` and
//! `entropy` are the `kl_runtime::lognormal` kernels, described here.

use super::{build, Family, Structure, Support};
use crate::ir::{Ir, NodeId};
use crate::kernel::{no_labels, no_rows, Adjoint, Call, Kernel, Quantity};
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
};

/// `ln p(x)` of `LogNormal(m, s)`, elementwise.
pub const LOG_PROB: Kernel = Kernel {
    name: "lognormal_log_prob",
    operands: &["x", "m", "s"],
    quantity: Quantity::LogProb,
    call: |_| Call::operands("lognormal_log_prob", 3),
    f64: |a, _| kl_runtime::lognormal_log_prob(a[0], a[1], a[2]),
    f32: |a, _| kl_runtime::lognormal_log_prob(a[0], a[1], a[2]),
    hint: "log_p",
    formula: |f, _| {
        let (x, m, s) = (f.arg(0), f.arg(1), f.arg(2));
        format!("−½((ln {x}−{m})/{s})² − ln {s} − ½ln(2π) − ln {x}")
    },
    label: no_labels,
    rows: no_rows,
    adjoint: Adjoint {
        f64: |a, _, g| g.copy_from_slice(&kl_runtime::lognormal_log_prob_grad(a[0], a[1], a[2])),
        f32: |a, _, g| g.copy_from_slice(&kl_runtime::lognormal_log_prob_grad(a[0], a[1], a[2])),
    },
};

/// The entropy of `LogNormal(m, s)`, elementwise.
pub const ENTROPY: Kernel = Kernel {
    name: "lognormal_entropy",
    operands: &["m", "s"],
    quantity: Quantity::Entropy,
    call: |_| Call::operands("lognormal_entropy", 2),
    f64: |a, _| kl_runtime::lognormal_entropy(a[0], a[1]),
    f32: |a, _| kl_runtime::lognormal_entropy(a[0], a[1]),
    hint: "h",
    formula: |f, _| {
        let (m, s) = (f.arg(0), f.arg(1));
        format!("{m} + ½ + ½ln(2π) + ln {s}")
    },
    label: no_labels,
    rows: no_rows,
    adjoint: Adjoint {
        f64: |a, _, g| g.copy_from_slice(&kl_runtime::lognormal_entropy_grad(a[0], a[1])),
        f32: |a, _, g| g.copy_from_slice(&kl_runtime::lognormal_entropy_grad(a[0], a[1])),
    },
};

pub fn log_prob(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::value(ir, at, &LOG_PROB)
}

pub fn entropy(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::of(ir, at, &ENTROPY, &[0, 1])
}
