//! `Laplace(loc, scale)`: density `exp(−|x − loc| / scale) / (2 scale)`, elementwise like
//! `Normal`. Its closed forms are the `kl_runtime::laplace` kernels, described here.

use super::{Alt, Family, Slot, Structure, Support};
use crate::ir::{Ir, NodeId, Op, Role};
use crate::kernel::{no_labels, no_rows, Adjoint, Call, Kernel, KernelOp, Quantity};
use crate::rules::Site;

pub const LAPLACE: Family = Family {
    name: "Laplace",
    operands: &["loc", "scale"],
    slots: &[
        Slot {
            alternatives: &[Alt { keyword: "loc", role: Role::Real, diag_role: None }],
            positional: true,
            missing: None,
            keyword_only: None,
        },
        Slot {
            alternatives: &[Alt { keyword: "scale", role: Role::Positive, diag_role: None }],
            positional: true,
            missing: None,
            keyword_only: None,
        },
    ],
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
    let (p, q) = (ir.operands(at.p), ir.operands(at.other));
    Some(ir.add(Op::Kernel(KernelOp::new(&KL)), at.span, &[p[0], p[1], q[0], q[1]]))
}

pub fn log_prob(ir: &mut Ir, at: Site) -> Option<NodeId> {
    let p = ir.operands(at.p);
    Some(ir.add(Op::Kernel(KernelOp::new(&LOG_PROB)), at.span, &[at.other, p[0], p[1]]))
}

pub fn entropy(ir: &mut Ir, at: Site) -> Option<NodeId> {
    let b = ir.operand(at.p, 1);
    Some(ir.add(Op::Kernel(KernelOp::new(&ENTROPY)), at.span, &[b]))
}
