//! `Laplace(loc, scale)`: density `exp(−|x − loc| / scale) / (2 scale)`, elementwise like
//! `Normal`. Its closed forms are the `kl_runtime::laplace` kernels, described here.

use super::{build, Family, Structure, Support};
use crate::ir::{Ir, NodeId};
use crate::kernel::{no_labels, no_rows, Adjoint, Call, Kernel, Quantity};
use crate::rules::Site;

pub const LAPLACE: Family = Family {
    name: "Laplace",
    operands: &["loc", "scale"],
    slots: &[super::LOC, super::SCALE],
    event_rank: 0,
    support: Support::Real,
    structure: Structure::Other,
    shape: super::loc_scale_shape,
    cshape: "normal",
    cshape_keywords: &[1],
};

/// `KL(Laplace(m1, b1) ‖ Laplace(m2, b2))`, elementwise.
pub const KL: Kernel = Kernel {
    name: "laplace_kl",
    operands: &["m1", "b1", "m2", "b2"],
    quantity: Quantity::Kl,
    call: |_| Call::operands("laplace_kl", 4),
    f64: |a, _| kl_runtime::laplace_kl(a[0], a[1], a[2], a[3]),
    f32: |a, _| kl_runtime::laplace_kl(a[0], a[1], a[2], a[3]),
    hint: "kl",
    formula: |f, _| {
        let (m1, b1, m2, b2) = (f.arg(0), f.arg(1), f.arg(2), f.arg(3));
        format!("ln({b2}/{b1}) + |{m1}−{m2}|/{b2} + ({b1}/{b2})·exp(−|{m1}−{m2}|/{b1}) − 1")
    },
    label: no_labels,
    rows: no_rows,
    adjoint: Adjoint {
        f64: |a, _, g| g.copy_from_slice(&kl_runtime::laplace_kl_grad(a[0], a[1], a[2], a[3])),
        f32: |a, _, g| g.copy_from_slice(&kl_runtime::laplace_kl_grad(a[0], a[1], a[2], a[3])),
    },
};

/// `ln p(x)` of `Laplace(m, b)`, elementwise.
pub const LOG_PROB: Kernel = Kernel {
    name: "laplace_log_prob",
    operands: &["x", "m", "b"],
    quantity: Quantity::LogProb,
    call: |_| Call::operands("laplace_log_prob", 3),
    f64: |a, _| kl_runtime::laplace_log_prob(a[0], a[1], a[2]),
    f32: |a, _| kl_runtime::laplace_log_prob(a[0], a[1], a[2]),
    hint: "log_p",
    formula: |f, _| {
        let (x, m, b) = (f.arg(0), f.arg(1), f.arg(2));
        format!("−ln(2{b}) − |{x}−{m}|/{b}")
    },
    label: no_labels,
    rows: no_rows,
    adjoint: Adjoint {
        f64: |a, _, g| g.copy_from_slice(&kl_runtime::laplace_log_prob_grad(a[0], a[1], a[2])),
        f32: |a, _, g| g.copy_from_slice(&kl_runtime::laplace_log_prob_grad(a[0], a[1], a[2])),
    },
};

/// The entropy of `Laplace(m, b)`, elementwise.
pub const ENTROPY: Kernel = Kernel {
    name: "laplace_entropy",
    operands: &["b"],
    quantity: Quantity::Entropy,
    call: |_| Call::operands("laplace_entropy", 1),
    f64: |a, _| kl_runtime::laplace_entropy(a[0]),
    f32: |a, _| kl_runtime::laplace_entropy(a[0]),
    hint: "h",
    formula: |f, _| format!("1 + ln(2{})", f.arg(0)),
    label: no_labels,
    rows: no_rows,
    adjoint: Adjoint {
        f64: |a, _, g| g.copy_from_slice(&kl_runtime::laplace_entropy_grad(a[0])),
        f32: |a, _, g| g.copy_from_slice(&kl_runtime::laplace_entropy_grad(a[0])),
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
