//! `Bernoulli(probs=p)` or `Bernoulli(logits=l)`: `P(1) = p = σ(l)` on `{0, 1}`, elementwise.
//! Its closed forms are the `kl_runtime::discrete` kernels, described here, one per way the
//! parameters are given: each reads them as given, so that two `probs` keep their gap exact and
//! logits are never turned into probabilities that round to 0 or 1.

use super::{build, by_param, ByParams, Family, Structure, Support, PROBS_OR_LOGITS};
use crate::ir::{Ir, NodeId};
use crate::kernel::{scalar_kernel, Kernel, Rows};
use crate::rules::Site;

pub const BERNOULLI: Family = Family {
    name: "Bernoulli",
    operands: &["probs"],
    slots: &[PROBS_OR_LOGITS],
    event_rank: 0,
    support: Support::Binary,
    structure: Structure::Other,
    shape: super::single_shape,
    cshape: "single",
    cshape_keywords: &[],
    joint_check: false,
};

pub const KL_PROBS: Kernel = scalar_kernel! {
    name: "bernoulli_kl_probs", quantity: Kl, hint: "kl",
    runtime: bernoulli_kl_probs, adjoint: bernoulli_kl_probs_grad,
    operands: [p1 = 0, p2 = 1],
    formula: |p1, p2| format!("{p1}·ln({p1}/{p2}) + (1 − {p1})·ln((1 − {p1})/(1 − {p2}))"),
};

pub const KL_LOGITS: Kernel = scalar_kernel! {
    name: "bernoulli_kl_logits", quantity: Kl, hint: "kl",
    runtime: bernoulli_kl_logits, adjoint: bernoulli_kl_logits_grad,
    operands: [l1 = 0, l2 = 1],
    formula: |l1, l2| format!("sp({l2}) − sp({l1}) − σ({l1})·({l2} − {l1}), sp(x) = ln(1 + eˣ)"),
    rows: |_| Some(&KL_LOGITS_ROWS),
};

/// The batched form: `f32` on lanes, validated in the same pass (`kl_runtime::logit_rows`).
static KL_LOGITS_ROWS: Rows = Rows {
    runtime: "bernoulli_kl_logits_rows",
    f64: |d, i, o, c| kl_runtime::bernoulli_kl_logits_rows(d, i[0], i[1], o, c),
    f32: |d, i, o, c| kl_runtime::bernoulli_kl_logits_rows(d, i[0], i[1], o, c),
    elementwise: true,
};

pub const KL_PROBS_LOGITS: Kernel = scalar_kernel! {
    name: "bernoulli_kl_probs_logits", quantity: Kl, hint: "kl",
    runtime: bernoulli_kl_probs_logits, adjoint: bernoulli_kl_probs_logits_grad,
    operands: [p1 = 0, l2 = 1],
    formula: |p1, l2| format!("KL at logits ln({p1}/(1 − {p1})) and {l2}"),
};

pub const KL_LOGITS_PROBS: Kernel = scalar_kernel! {
    name: "bernoulli_kl_logits_probs", quantity: Kl, hint: "kl",
    runtime: bernoulli_kl_logits_probs, adjoint: bernoulli_kl_logits_probs_grad,
    operands: [l1 = 0, p2 = 1],
    formula: |l1, p2| format!("KL at logits {l1} and ln({p2}/(1 − {p2}))"),
};

pub const LOG_PROB_PROBS: Kernel = scalar_kernel! {
    name: "bernoulli_log_prob_probs", quantity: LogProb, hint: "log_p",
    runtime: bernoulli_log_prob_probs, adjoint: bernoulli_log_prob_probs_grad,
    operands: [x = 0, p = 1],
    formula: |x, p| format!("{x}·ln {p} + (1 − {x})·ln(1 − {p})"),
};

pub const LOG_PROB_LOGITS: Kernel = scalar_kernel! {
    name: "bernoulli_log_prob", quantity: LogProb, hint: "log_p",
    runtime: bernoulli_log_prob, adjoint: bernoulli_log_prob_grad,
    operands: [x = 0, l = 1],
    formula: |x, l| format!("{x}·{l} − ln(1 + exp({l}))"),
};

pub const ENTROPY_PROBS: Kernel = scalar_kernel! {
    name: "bernoulli_entropy_probs", quantity: Entropy, hint: "h",
    runtime: bernoulli_entropy_probs, adjoint: bernoulli_entropy_probs_grad,
    operands: [p = 0],
    formula: |p| format!("−{p}·ln {p} − (1 − {p})·ln(1 − {p})"),
};

pub const ENTROPY_LOGITS: Kernel = scalar_kernel! {
    name: "bernoulli_entropy", quantity: Entropy, hint: "h",
    runtime: bernoulli_entropy, adjoint: bernoulli_entropy_grad,
    operands: [l = 0],
    formula: |l| format!("ln(1 + exp({l})) − {l}·σ({l})"),
};

pub const POISSON_KL_PROBS: Kernel = scalar_kernel! {
    name: "bernoulli_poisson_kl_probs", quantity: Kl, hint: "kl",
    runtime: bernoulli_poisson_kl_probs, adjoint: bernoulli_poisson_kl_probs_grad,
    operands: [p = 0, rate = 1],
    formula: |p, r| format!("−H(Bernoulli(probs={p})) − {p}·ln {r} + {r}"),
};

pub const POISSON_KL_LOGITS: Kernel = scalar_kernel! {
    name: "bernoulli_poisson_kl", quantity: Kl, hint: "kl",
    runtime: bernoulli_poisson_kl, adjoint: bernoulli_poisson_kl_grad,
    operands: [l = 0, rate = 1],
    formula: |l, r| format!("−H(Bernoulli(logits={l})) − σ({l})·ln {r} + {r}"),
};

pub fn kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    ByParams { probs: &KL_PROBS, probs_logits: &KL_PROBS_LOGITS, logits_probs: &KL_LOGITS_PROBS, logits: &KL_LOGITS }
        .kl(ir, at)
}

pub fn log_prob(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::value(ir, at, by_param(ir, at.p, &LOG_PROB_PROBS, &LOG_PROB_LOGITS))
}

pub fn entropy(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::of(ir, at, by_param(ir, at.p, &ENTROPY_PROBS, &ENTROPY_LOGITS), &[0])
}

/// `KL(Bernoulli ‖ Poisson)`, torch's `_kl_bernoulli_poisson`.
pub fn poisson_kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    build::pair(ir, at, by_param(ir, at.p, &POISSON_KL_PROBS, &POISSON_KL_LOGITS))
}
