//! `Categorical(probs=p)` or `Categorical(logits=l)`: one of the `K` categories of the last dim
//! of its parameter (batch `p[:-1]`, event `[]`), and `OneHotCategorical`, the same
//! distribution on one-hot vectors (event `[K]`). Their closed forms are the row kernels of
//! `kl_runtime::categorical`, one per way the parameters are given, each reading them as given:
//! `probs` normalized as torch does (their sum must be 1 within rounding, a row check), logits in
//! log space.

use super::{choice, Family, Structure, Support, LOGITS, PROBS, PROBS_OR_LOGITS};
use crate::ir::{Ir, NodeId, Op};
use crate::kernel::{vector_kernel, Rows, VectorKernel};
use crate::rules::Site;

pub const CATEGORICAL: Family = Family {
    name: "Categorical",
    operands: &["probs"],
    slots: &[PROBS_OR_LOGITS],
    event_rank: 0,
    support: Support::Categories,
    structure: Structure::Other,
    shape: super::categories_shape,
    cshape: "categories",
    cshape_keywords: &[0],
    // `probs` summing to 1 is a rule of whole rows, stated by the kernels' checks.
    joint_check: true,
};

pub const ONE_HOT_CATEGORICAL: Family = Family {
    name: "OneHotCategorical",
    operands: &["probs"],
    slots: &[PROBS_OR_LOGITS],
    event_rank: 1,
    support: Support::OneHot,
    structure: Structure::Other,
    shape: super::simplex_shape,
    cshape: "simplex",
    cshape_keywords: &[0],
    joint_check: true,
};

const STABLE: &str = "computed as ln(1 + Σ_k P_k (e^(−c_k) − 1 + c_k)), c = d − E_P[d]";

pub const KL_LOGITS: VectorKernel = vector_kernel! {
    name: "categorical_kl_logits", quantity: Kl, hint: "kl",
    runtime: categorical_kl_logits, adjoint: categorical_kl_logits_grad, check: none,
    operands: [l1 = 0: 1, l2 = 1: 1],
    formula: |l1, l2| format!("Σ_k P_k d_k − lse({l1}) + lse({l2}),  P = softmax({l1}), d = {l1} − {l2}, {STABLE}"),
    rows: &KL_LOGITS_ROWS,
};

/// The batched form: `f32` rows on lanes, several at once, validated in the same pass
/// (`kl_runtime::logit_rows`).
static KL_LOGITS_ROWS: Rows = Rows {
    runtime: "categorical_kl_logits_rows",
    f64: |d, i, o, c| kl_runtime::categorical_kl_logits_rows(d, i[0], i[1], o, c),
    f32: |d, i, o, c| kl_runtime::categorical_kl_logits_rows(d, i[0], i[1], o, c),
    elementwise: false,
};

pub const KL_PROBS: VectorKernel = vector_kernel! {
    name: "categorical_kl_probs", quantity: Kl, hint: "kl",
    runtime: categorical_kl_probs, adjoint: categorical_kl_probs_grad, check: categorical_kl_probs_check,
    operands: [p1 = 0: 1, p2 = 1: 1],
    formula: |p1, p2| format!("Σ_k P_k ln(P_k/Q_k),  P = {p1}/Σ{p1}, Q = {p2}/Σ{p2}, d = ln({p1}/{p2}), {STABLE}"),
};

pub const KL_PROBS_LOGITS: VectorKernel = vector_kernel! {
    name: "categorical_kl_probs_logits", quantity: Kl, hint: "kl",
    runtime: categorical_kl_probs_logits, adjoint: categorical_kl_probs_logits_grad,
    check: categorical_kl_probs_logits_check,
    operands: [p1 = 0: 1, l2 = 1: 1],
    formula: |p1, l2| format!("Σ_k P_k ln(P_k/Q_k),  P = {p1}/Σ{p1}, Q = softmax({l2}), d = ln {p1} − {l2}, {STABLE}"),
};

pub const KL_LOGITS_PROBS: VectorKernel = vector_kernel! {
    name: "categorical_kl_logits_probs", quantity: Kl, hint: "kl",
    runtime: categorical_kl_logits_probs, adjoint: categorical_kl_logits_probs_grad,
    check: categorical_kl_logits_probs_check,
    operands: [l1 = 0: 1, p2 = 1: 1],
    formula: |l1, p2| format!("Σ_k P_k ln(P_k/Q_k),  P = softmax({l1}), Q = {p2}/Σ{p2}, d = {l1} − ln {p2}, {STABLE}"),
};

pub const ENTROPY_LOGITS: VectorKernel = vector_kernel! {
    name: "categorical_entropy_logits", quantity: Entropy, hint: "h",
    runtime: categorical_entropy_logits, adjoint: categorical_entropy_logits_grad,
    check: none,
    operands: [l = 0: 1],
    formula: |l| format!("lse({l}) − Σ_k softmax({l})_k {l}_k"),
};

pub const ENTROPY_PROBS: VectorKernel = vector_kernel! {
    name: "categorical_entropy_probs", quantity: Entropy, hint: "h",
    runtime: categorical_entropy_probs, adjoint: categorical_entropy_probs_grad,
    check: categorical_entropy_probs_check,
    operands: [p = 0: 1],
    formula: |p| format!("−Σ_k P_k ln P_k,  P = {p}/Σ{p}"),
};

pub const LOG_PROB_LOGITS: VectorKernel = vector_kernel! {
    name: "categorical_log_prob_logits", quantity: LogProb, hint: "log_p",
    runtime: categorical_log_prob_logits, adjoint: categorical_log_prob_logits_grad,
    check: categorical_log_prob_logits_check,
    operands: [x = 0: 0, l = 1: 1],
    formula: |x, l| format!("{l}_{x} − lse({l})"),
};

pub const LOG_PROB_PROBS: VectorKernel = vector_kernel! {
    name: "categorical_log_prob_probs", quantity: LogProb, hint: "log_p",
    runtime: categorical_log_prob_probs, adjoint: categorical_log_prob_probs_grad,
    check: categorical_log_prob_probs_check,
    operands: [x = 0: 0, p = 1: 1],
    formula: |x, p| format!("ln {p}_{x} − ln Σ{p}"),
};

pub const ONE_HOT_LOG_PROB_LOGITS: VectorKernel = vector_kernel! {
    name: "one_hot_log_prob_logits", quantity: LogProb, hint: "log_p",
    runtime: one_hot_log_prob_logits, adjoint: one_hot_log_prob_logits_grad, check: one_hot_log_prob_logits_check,
    operands: [x = 0: 1, l = 1: 1],
    formula: |x, l| format!("Σ_k {x}_k {l}_k − lse({l})"),
};

pub const ONE_HOT_LOG_PROB_PROBS: VectorKernel = vector_kernel! {
    name: "one_hot_log_prob_probs", quantity: LogProb, hint: "log_p",
    runtime: one_hot_log_prob_probs, adjoint: one_hot_log_prob_probs_grad, check: one_hot_log_prob_probs_check,
    operands: [x = 0: 1, p = 1: 1],
    formula: |x, p| format!("Σ_k {x}_k ln {p}_k − ln Σ{p}"),
};

fn node(ir: &mut Ir, at: Site, kernel: &'static VectorKernel, ops: &[NodeId]) -> Option<NodeId> {
    Some(ir.add(Op::VectorKernel(kernel), at.span, ops))
}

/// `KL(P ‖ Q)` of two categoricals (or two one-hot categoricals), by how each is given.
pub fn kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    let kernel = match (choice(ir, at.p), choice(ir, at.other)) {
        (PROBS, PROBS) => &KL_PROBS,
        (PROBS, _) => &KL_PROBS_LOGITS,
        (_, PROBS) => &KL_LOGITS_PROBS,
        _ => &KL_LOGITS,
    };
    let ops = [ir.operand(at.p, 0), ir.operand(at.other, 0)];
    node(ir, at, kernel, &ops)
}

pub fn entropy(ir: &mut Ir, at: Site) -> Option<NodeId> {
    let kernel = if choice(ir, at.p) == LOGITS { &ENTROPY_LOGITS } else { &ENTROPY_PROBS };
    let ops = [ir.operand(at.p, 0)];
    node(ir, at, kernel, &ops)
}

/// `ln P(x)` at a category index `x`.
pub fn log_prob(ir: &mut Ir, at: Site) -> Option<NodeId> {
    let kernel = if choice(ir, at.p) == LOGITS { &LOG_PROB_LOGITS } else { &LOG_PROB_PROBS };
    let ops = [at.other, ir.operand(at.p, 0)];
    node(ir, at, kernel, &ops)
}

/// `ln P(x)` at a one-hot vector `x`.
pub fn one_hot_log_prob(ir: &mut Ir, at: Site) -> Option<NodeId> {
    let kernel = if choice(ir, at.p) == LOGITS { &ONE_HOT_LOG_PROB_LOGITS } else { &ONE_HOT_LOG_PROB_PROBS };
    let ops = [at.other, ir.operand(at.p, 0)];
    node(ir, at, kernel, &ops)
}
