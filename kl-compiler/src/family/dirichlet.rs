//! `Dirichlet(concentration)`: a distribution on the simplex of `K` categories, the last dim of
//! `concentration` (event `[K]`). Its closed forms are sums over the categories, built here from
//! the elementwise pieces of `kl_runtime::dirichlet` and `sum_last` reductions, so the
//! interpreter, the emitter (which fuses the sums into one pass per row), `explain` and the
//! gradients need nothing new.

use super::build::node as kernel;
use super::{Family, Structure, Support};
use crate::check::type_new;
use crate::ir::{Ir, NodeId, Op};
use crate::kernel::{scalar_kernel, Kernel};
use crate::rules::Site;
use crate::span::Span;

pub const DIRICHLET: Family = Family {
    name: "Dirichlet",
    operands: &["concentration"],
    slots: &[super::plain_slot!("concentration", Positive)],
    event_rank: 1,
    support: Support::Simplex,
    structure: Structure::Other,
    shape: super::simplex_shape,
    cshape: "simplex",
    cshape_keywords: &[0],
    joint_check: false,
};

pub const KL_TERM: Kernel = scalar_kernel! {
    name: "dirichlet_kl_term", quantity: Kl, hint: "term",
    runtime: dirichlet_kl_term, adjoint: dirichlet_kl_term_grad,
    operands: [c1 = 0, c2 = 1],
    formula: |c1, c2| format!("E({c1}, {c2} − {c1})"),
};

pub const DIFFERENCE: Kernel = scalar_kernel! {
    name: "difference", quantity: Kl, hint: "gap",
    runtime: difference, adjoint: difference_grad,
    operands: [c1 = 0, c2 = 1],
    formula: |c1, c2| format!("{c2} − {c1}"),
};

pub const KL_TOTAL: Kernel = scalar_kernel! {
    name: "dirichlet_kl", quantity: Kl, hint: "kl",
    runtime: dirichlet_kl_total, adjoint: dirichlet_kl_total_grad,
    operands: [terms = 0, s1 = 1, h = 2],
    formula: |t, s1, h| format!("{t} − E({s1}, {h}),  E(a, u) = lnΓ(a + u) − lnΓ(a) − u·ψ(a)"),
};

pub const LOG_PROB_TERM: Kernel = scalar_kernel! {
    name: "dirichlet_log_prob_term", quantity: LogProb, hint: "term",
    runtime: dirichlet_log_prob_term, adjoint: dirichlet_log_prob_term_grad,
    operands: [x = 0, c = 1],
    formula: |x, c| format!("({c} − 1)·ln {x} − lnΓ({c})"),
};

pub const LOG_PROB_TOTAL: Kernel = scalar_kernel! {
    name: "dirichlet_log_prob", quantity: LogProb, hint: "log_p",
    runtime: dirichlet_log_prob_total, adjoint: dirichlet_log_prob_total_grad,
    operands: [terms = 0, c_sum = 1, x = 2],
    formula: |t, s, _x| format!("{t} + lnΓ({s})"),
    check: dirichlet_log_prob_check,
};

pub const ENTROPY_TERM: Kernel = scalar_kernel! {
    name: "dirichlet_entropy_term", quantity: Entropy, hint: "term",
    runtime: dirichlet_entropy_term, adjoint: dirichlet_entropy_term_grad,
    operands: [c = 0],
    formula: |c| format!("lnΓ({c}) + {c} − ({c} − 1)·ψ({c})"),
};

pub const ONE: Kernel = scalar_kernel! {
    name: "one", quantity: Entropy, hint: "one",
    runtime: one, adjoint: one_grad,
    operands: [c = 0],
    formula: |_c| "1".to_string(),
};

pub const ENTROPY_TOTAL: Kernel = scalar_kernel! {
    name: "dirichlet_entropy", quantity: Entropy, hint: "h",
    runtime: dirichlet_entropy_total, adjoint: dirichlet_entropy_total_grad,
    operands: [terms = 0, s = 1, k = 2],
    formula: |t, s, k| format!("{t} − lnΓ({s}) − {s} + ({s} − {k})·ψ({s})"),
};

/// `Σ` of `x` over its last dim (the categories).
fn sum_categories(ir: &mut Ir, span: Span, x: NodeId) -> NodeId {
    let full = type_new(ir, x);
    ir.add(Op::SumLast { k: 1, full }, span, &[x])
}

/// `Σ E(c1, c2 − c1) − E(Σc1, Σ(c2 − c1))`.
pub fn kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    let (c1, c2) = (ir.operand(at.p, 0), ir.operand(at.other, 0));
    let terms = kernel(ir, at.span, &KL_TERM, &[c1, c2]);
    let terms = sum_categories(ir, at.span, terms);
    let s1 = sum_categories(ir, at.span, c1);
    let gap = kernel(ir, at.span, &DIFFERENCE, &[c1, c2]);
    let h = sum_categories(ir, at.span, gap);
    Some(kernel(ir, at.span, &KL_TOTAL, &[terms, s1, h]))
}

/// `Σ ((c − 1) ln x − lnΓ(c)) + lnΓ(Σc)`, checking `Σx = 1`.
pub fn log_prob(ir: &mut Ir, at: Site) -> Option<NodeId> {
    let (c, x) = (ir.operand(at.p, 0), at.other);
    let terms = kernel(ir, at.span, &LOG_PROB_TERM, &[x, c]);
    let terms = sum_categories(ir, at.span, terms);
    let c_sum = sum_categories(ir, at.span, c);
    let x_sum = sum_categories(ir, at.span, x);
    Some(kernel(ir, at.span, &LOG_PROB_TOTAL, &[terms, c_sum, x_sum]))
}

/// `Σ (lnΓ(c) + c − (c − 1)ψ(c)) − lnΓ(S) − S + (S − K)·ψ(S)`, `S = Σc`, `K = Σ1`.
pub fn entropy(ir: &mut Ir, at: Site) -> Option<NodeId> {
    let c = ir.operand(at.p, 0);
    let terms = kernel(ir, at.span, &ENTROPY_TERM, &[c]);
    let terms = sum_categories(ir, at.span, terms);
    let s = sum_categories(ir, at.span, c);
    let ones = kernel(ir, at.span, &ONE, &[c]);
    let k = sum_categories(ir, at.span, ones);
    Some(kernel(ir, at.span, &ENTROPY_TOTAL, &[terms, s, k]))
}
