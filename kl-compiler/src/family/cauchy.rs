//! `Cauchy(loc, scale)`: density `1 / (π scale (1 + ((x − loc)/scale)²))`, elementwise. Its
//! closed forms are the `kl_runtime::cauchy` kernels, described here.

use super::{build, Family, Structure, Support};
use crate::ir::{Ir, NodeId};
use crate::kernel::{no_labels, no_rows, Adjoint, Call, Kernel, Quantity};
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
};

/// `KL(Cauchy(m1, s1) ‖ Cauchy(m2, s2))`, elementwise.
pub const KL: Kernel = Kernel {
    name: "cauchy_kl",
    operands: &["m1", "s1", "m2", "s2"],
    quantity: Quantity::Kl,
    call: |_| Call::operands("cauchy_kl", 4),
    f64: |a, _| kl_runtime::cauchy_kl(a[0], a[1], a[2], a[3]),
    f32: |a, _| kl_runtime::cauchy_kl(a[0], a[1], a[2], a[3]),
    hint: "kl",
    formula: |f, _| {
        let (m1, s1, m2, s2) = (f.arg(0), f.arg(1), f.arg(2), f.arg(3));
        format!("ln(1 + (({s1}−{s2})² + ({m1}−{m2})²)/(4{s1}{s2}))")
    },
    label: no_labels,
    rows: no_rows,
    adjoint: Adjoint {
        f64: |a, _, g| g.copy_from_slice(&kl_runtime::cauchy_kl_grad(a[0], a[1], a[2], a[3])),
        f32: |a, _, g| g.copy_from_slice(&kl_runtime::cauchy_kl_grad(a[0], a[1], a[2], a[3])),
    },
};

/// `ln p(x)` of `Cauchy(m, s)`, elementwise.
pub const LOG_PROB: Kernel = Kernel {
    name: "cauchy_log_prob",
    operands: &["x", "m", "s"],
    quantity: Quantity::LogProb,
    call: |_| Call::operands("cauchy_log_prob", 3),
    f64: |a, _| kl_runtime::cauchy_log_prob(a[0], a[1], a[2]),
    f32: |a, _| kl_runtime::cauchy_log_prob(a[0], a[1], a[2]),
    hint: "log_p",
    formula: |f, _| {
        let (x, m, s) = (f.arg(0), f.arg(1), f.arg(2));
        format!("−ln(π{s}) − ln(1 + (({x}−{m})/{s})²)")
    },
    label: no_labels,
    rows: no_rows,
    adjoint: Adjoint {
        f64: |a, _, g| g.copy_from_slice(&kl_runtime::cauchy_log_prob_grad(a[0], a[1], a[2])),
        f32: |a, _, g| g.copy_from_slice(&kl_runtime::cauchy_log_prob_grad(a[0], a[1], a[2])),
    },
};

/// The entropy of `Cauchy(m, s)`, elementwise.
pub const ENTROPY: Kernel = Kernel {
    name: "cauchy_entropy",
    operands: &["s"],
    quantity: Quantity::Entropy,
    call: |_| Call::operands("cauchy_entropy", 1),
    f64: |a, _| kl_runtime::cauchy_entropy(a[0]),
    f32: |a, _| kl_runtime::cauchy_entropy(a[0]),
    hint: "h",
    formula: |f, _| format!("ln(4π{})", f.arg(0)),
    label: no_labels,
    rows: no_rows,
    adjoint: Adjoint {
        f64: |a, _, g| g.copy_from_slice(&kl_runtime::cauchy_entropy_grad(a[0])),
        f32: |a, _, g| g.copy_from_slice(&kl_runtime::cauchy_entropy_grad(a[0])),
    },
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
