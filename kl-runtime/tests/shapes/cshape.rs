//! Every shape rule of `cshape`, accepting and rejecting, evaluated at run time (they are plain
//! `const fn`s) with the panic message checked in full; and a few const items proving that they
//! evaluate in const context.

use std::panic::{catch_unwind, UnwindSafe};

use kl_runtime::cshape::{self, CDist, CShape};
use kl_runtime::{Input, DYN, MAX_RANK};

fn s(dims: &[usize]) -> CShape {
    CShape::new(dims)
}

fn dist(batch: &[usize], event: &[usize]) -> CDist {
    CDist { batch: s(batch), event: s(event) }
}

/// The message `f` panics with.
#[track_caller]
fn panic_message<R>(f: impl FnOnce() -> R + UnwindSafe) -> String {
    let payload = match catch_unwind(f) {
        Ok(_) => panic!("expected a shape error, but the rule accepted"),
        Err(p) => p,
    };
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p.downcast::<&str>().map(|s| s.to_string()).expect("a string panic payload"),
    }
}

const N: &str = "Normal(a, b)";
const RUN_TIME: &str = " (`_` = known at run time)";

// ---------------------------------------------------------------------------------------------
// Const context

const KL_OF_VECS: CShape = {
    let v = CShape::of::<Vec<[f64; 8]>>();
    let p = cshape::independent(cshape::normal(v, v, "scale", "Normal(a, b)"), 1, "Normal(a, b).to_event(1)");
    let q = cshape::independent(
        cshape::normal(v, cshape::literal(), "scale", "Normal(c, 1)"),
        1,
        "Normal(c, 1).to_event(1)",
    );
    cshape::kl(p, q, "Normal(a, b).to_event(1) || Normal(c, 1).to_event(1)")
};

const MVN_LOG_PROB: CShape = {
    let loc = CShape::of::<[[f32; 3]; 4]>();
    let d = cshape::mvn(
        loc,
        cshape::diag(CShape::of::<[f32; 3]>(), "diag(s)"),
        "covariance_matrix",
        "MultivariateNormal(m, covariance_matrix=diag(s))",
    );
    let d = cshape::expand(d, CShape::new(&[2, 4]), "MultivariateNormal(..).expand([2, 4])");
    cshape::log_prob(d, CShape::of::<Vec<[[f32; 3]; 4]>>(), "log_prob(..)")
};

const LOW_RANK_ENTROPY: CShape = {
    let d = cshape::low_rank(
        CShape::new(&[5, 3]),
        CShape::new(&[3, 2]),
        CShape::new(&[3]),
        "LowRankMultivariateNormal(..)",
    );
    cshape::entropy(d)
};

const _: () = cshape::check_declared("mu", CShape::new(&[DYN, 8]), "[B, 8]", CShape::of::<&[[f64; 8]]>());

#[test]
fn rules_evaluate_in_const_context() {
    assert_eq!(KL_OF_VECS, s(&[DYN]));
    assert_eq!(MVN_LOG_PROB, s(&[2, 4]));
    assert_eq!(LOW_RANK_ENTROPY, s(&[5]));
}

// ---------------------------------------------------------------------------------------------
// Shapes

#[test]
fn shapes_of_types_and_display() {
    assert_eq!(CShape::of::<f64>(), CShape::SCALAR);
    assert_eq!(CShape::of::<[[f32; 3]; 2]>(), s(&[2, 3]));
    assert_eq!(CShape::of::<Vec<f64>>(), s(&[DYN]));
    assert_eq!(CShape::of::<Box<[[[f64; 2]; 3]]>>(), s(&[DYN, 3, 2]));
    assert_eq!(cshape::literal(), CShape::SCALAR);
    assert_eq!(s(&[DYN, 8]).to_string(), "[_, 8]");
    assert_eq!(CShape::SCALAR.to_string(), "[]");
}

#[test]
fn ranks_past_the_maximum_are_rejected_clearly() {
    assert_eq!(s(&[2; MAX_RANK]).rank, MAX_RANK);
    assert_eq!(panic_message(|| s(&[2; MAX_RANK + 1])), "a shape of rank 9 is more than kl supports (at most 8)");
    let hand_built = CShape { rank: 9, dims: [1; MAX_RANK] };
    assert_eq!(
        panic_message(|| cshape::normal(hand_built, CShape::SCALAR, "scale", N)),
        "in `Normal(a, b)`: a shape of rank 9 is more than kl supports (at most 8)"
    );
    assert_eq!(
        panic_message(|| cshape::diag(s(&[2; MAX_RANK]), "diag(v)")),
        "in `diag(v)`: a shape of rank 9 is more than kl supports (at most 8)"
    );
    // The event shape grows past the maximum when batch and event together have too many dims.
    let deep = CDist { batch: s(&[2; MAX_RANK]), event: s(&[3]) };
    assert_eq!(
        panic_message(|| cshape::independent(deep, MAX_RANK, "P.to_event(8)")),
        "in `P.to_event(8)`: a shape of rank 9 is more than kl supports (at most 8)"
    );
}

/// A parameter type whose `RANK` lies: the constructor must still not index out of bounds.
struct TooDeep;
impl Input for TooDeep {
    type Elem = f64;
    const RANK: usize = 12;
    const DIMS: [usize; MAX_RANK] = [1; MAX_RANK];
    fn dims(&self) -> [usize; MAX_RANK] {
        Self::DIMS
    }
    fn flat(&self) -> std::borrow::Cow<'_, [f64]> {
        std::borrow::Cow::Borrowed(&[1.0])
    }
}

#[test]
fn a_type_of_too_high_rank_is_rejected_clearly() {
    assert_eq!(
        panic_message(CShape::of::<TooDeep>),
        "a parameter type of rank 12 is more than kl supports (at most 8)"
    );
}

#[test]
fn a_long_expression_is_cut_at_a_character_boundary() {
    // "in `a" is 5 bytes, so the 960-byte body ends inside the 478th two-byte "é": it is dropped.
    let what = format!("a{}", "é".repeat(2000));
    let msg = panic_message(|| cshape::diag(CShape::SCALAR, &what));
    assert_eq!(msg, format!("in `a{}...", "é".repeat(477)));
}

// ---------------------------------------------------------------------------------------------
// diag

#[test]
fn diag_squares_the_last_dim() {
    assert_eq!(cshape::diag(s(&[3]), "diag(v)"), s(&[3, 3]));
    assert_eq!(cshape::diag(s(&[2, 4]), "diag(v)"), s(&[2, 4, 4]));
    assert_eq!(cshape::diag(s(&[DYN]), "diag(v)"), s(&[DYN, DYN]));
}

#[test]
fn diag_needs_a_vector() {
    assert_eq!(
        panic_message(|| cshape::diag(CShape::SCALAR, "diag(v)")),
        "in `diag(v)`: `diag(v)` needs a vector, but `v` is a scalar (shape [])"
    );
}

// ---------------------------------------------------------------------------------------------
// Normal

#[test]
fn normal_broadcasts_loc_and_scale() {
    let n = |a: &[usize], b: &[usize]| cshape::normal(s(a), s(b), "scale", N);
    assert_eq!(n(&[3, 1], &[4]), dist(&[3, 4], &[]));
    assert_eq!(n(&[], &[2, 5]), dist(&[2, 5], &[]));
    assert_eq!(n(&[DYN, 8], &[8]), dist(&[DYN, 8], &[]));
    // A run-time dim yields to a static one, which it must match (or be 1) at run time.
    assert_eq!(n(&[DYN], &[4]), dist(&[4], &[]));
    assert_eq!(n(&[1], &[DYN]), dist(&[DYN], &[]));
}

#[test]
fn normal_rejects_parameters_that_do_not_broadcast() {
    assert_eq!(
        panic_message(|| cshape::normal(s(&[3]), s(&[4]), "scale", N)),
        "in `Normal(a, b)`: `loc` has shape [3] and `scale` has shape [4]; they do not broadcast"
    );
    assert_eq!(
        panic_message(|| cshape::normal(s(&[DYN, 3]), s(&[4]), "var", "Normal(a, var=b)")),
        format!(
            "in `Normal(a, var=b)`: `loc` has shape [_, 3] and `var` has shape [4]; they do not broadcast{RUN_TIME}"
        )
    );
}

// ---------------------------------------------------------------------------------------------
// MultivariateNormal

const M: &str = "MultivariateNormal(m, covariance_matrix=C)";

fn mvn(loc: &[usize], m: &[usize]) -> CDist {
    cshape::mvn(s(loc), s(m), "covariance_matrix", M)
}

#[test]
fn mvn_takes_batch_from_both_and_event_from_loc() {
    assert_eq!(mvn(&[3], &[3, 3]), dist(&[], &[3]));
    assert_eq!(mvn(&[5, 3], &[3, 3]), dist(&[5], &[3]));
    assert_eq!(mvn(&[3], &[2, 1, 3, 3]), dist(&[2, 1], &[3]));
    // Run-time sizes: the static one fixes the event size.
    assert_eq!(mvn(&[DYN], &[3, 3]), dist(&[], &[3]));
    assert_eq!(mvn(&[DYN, 3], &[DYN, 3, DYN]), dist(&[DYN], &[3]));
    assert_eq!(mvn(&[DYN, DYN], &[DYN, DYN]), dist(&[DYN], &[DYN]));
}

#[test]
fn mvn_rejects_bad_shapes() {
    assert_eq!(
        panic_message(|| mvn(&[], &[3, 3])),
        "in `MultivariateNormal(m, covariance_matrix=C)`: the `loc` of a multivariate normal needs at least one dim (the event size d), but it is a scalar (shape [])"
    );
    assert_eq!(
        panic_message(|| mvn(&[3], &[3, 4])),
        "in `MultivariateNormal(m, covariance_matrix=C)`: `covariance_matrix` must be a square matrix [.., d, d], but its shape is [3, 4]"
    );
    // A run-time dim never makes up for a missing one.
    assert_eq!(
        panic_message(|| cshape::mvn(s(&[DYN]), s(&[DYN]), "scale_tril", "MultivariateNormal(m, scale_tril=L)")),
        format!("in `MultivariateNormal(m, scale_tril=L)`: `scale_tril` must be a square matrix [.., d, d], but its shape is [_]{RUN_TIME}")
    );
    assert_eq!(
        panic_message(|| mvn(&[4], &[3, 3])),
        "in `MultivariateNormal(m, covariance_matrix=C)`: `covariance_matrix` is 3x3 but `loc` has event size 4 (loc shape [4], covariance_matrix shape [3, 3])"
    );
    assert_eq!(
        panic_message(|| mvn(&[4], &[DYN, 3])),
        format!("in `MultivariateNormal(m, covariance_matrix=C)`: `covariance_matrix` is _x3 but `loc` has event size 4 (loc shape [4], covariance_matrix shape [_, 3]){RUN_TIME}")
    );
    assert_eq!(
        panic_message(|| mvn(&[2, 3], &[4, 3, 3])),
        "in `MultivariateNormal(m, covariance_matrix=C)`: the batch dims of `loc` [2] and `covariance_matrix` [4] do not broadcast"
    );
}

// ---------------------------------------------------------------------------------------------
// LowRankMultivariateNormal

const L: &str = "LowRankMultivariateNormal(m, cov_factor=W, cov_diag=D)";

fn low_rank(loc: &[usize], w: &[usize], d: &[usize]) -> CDist {
    cshape::low_rank(s(loc), s(w), s(d), L)
}

#[test]
fn low_rank_broadcasts_three_batches() {
    assert_eq!(low_rank(&[3], &[3, 2], &[3]), dist(&[], &[3]));
    assert_eq!(low_rank(&[4, 1, 3], &[5, 3, 2], &[1, 3]), dist(&[4, 5], &[3]));
    assert_eq!(low_rank(&[DYN], &[3, 2], &[DYN]), dist(&[], &[3]));
    assert_eq!(low_rank(&[DYN], &[DYN, 2], &[6]), dist(&[], &[6]));
}

#[test]
fn low_rank_rejects_bad_shapes() {
    assert_eq!(
        panic_message(|| low_rank(&[], &[3, 2], &[3])),
        "in `LowRankMultivariateNormal(m, cov_factor=W, cov_diag=D)`: the `loc` of a multivariate normal needs at least one dim (the event size d), but it is a scalar (shape [])"
    );
    assert_eq!(
        panic_message(|| low_rank(&[3], &[4, 2], &[3])),
        "in `LowRankMultivariateNormal(m, cov_factor=W, cov_diag=D)`: `cov_factor` must have shape [.., 3, r] to match `loc` [3], but its shape is [4, 2]"
    );
    assert_eq!(
        panic_message(|| low_rank(&[3], &[3], &[3])),
        "in `LowRankMultivariateNormal(m, cov_factor=W, cov_diag=D)`: `cov_factor` must have shape [.., 3, r] to match `loc` [3], but its shape is [3]"
    );
    assert_eq!(
        panic_message(|| low_rank(&[3], &[3, 2], &[4])),
        "in `LowRankMultivariateNormal(m, cov_factor=W, cov_diag=D)`: `cov_diag` must have shape [.., 3] to match `loc` [3], but its shape is [4]"
    );
    assert_eq!(
        panic_message(|| low_rank(&[3], &[3, 2], &[])),
        "in `LowRankMultivariateNormal(m, cov_factor=W, cov_diag=D)`: `cov_diag` must have shape [.., 3] to match `loc` [3], but its shape is []"
    );
    // When `loc` leaves d to run time, `cov_factor` fixes it.
    assert_eq!(
        panic_message(|| low_rank(&[DYN], &[3, 2], &[4])),
        format!("in `LowRankMultivariateNormal(m, cov_factor=W, cov_diag=D)`: `cov_diag` must have shape [.., 3] to match `loc` [_] and `cov_factor` [3, 2], but its shape is [4]{RUN_TIME}")
    );
    assert_eq!(
        panic_message(|| low_rank(&[2, 3], &[4, 3, 2], &[3])),
        "in `LowRankMultivariateNormal(m, cov_factor=W, cov_diag=D)`: the batch dims of `loc` [2], `cov_factor` [4] and `cov_diag` [] do not broadcast"
    );
}

// ---------------------------------------------------------------------------------------------
// to_event, expand

#[test]
fn to_event_moves_batch_dims_into_the_event() {
    let ind = |d: CDist, n: usize| cshape::independent(d, n, "P.to_event(n)");
    assert_eq!(ind(dist(&[DYN, 8], &[]), 1), dist(&[DYN], &[8]));
    assert_eq!(ind(dist(&[2, 5], &[3]), 2), dist(&[], &[2, 5, 3]));
    assert_eq!(ind(dist(&[2], &[3]), 0), dist(&[2], &[3]));
}

#[test]
fn to_event_needs_enough_batch_dims() {
    assert_eq!(
        panic_message(|| cshape::independent(dist(&[DYN], &[3]), 2, "Independent(P, 2)")),
        format!("in `Independent(P, 2)`: `to_event(2)` needs at least 2 batch dim(s), but the distribution has batch shape [_] (rank 1) and event shape [3]{RUN_TIME}")
    );
}

#[test]
fn expand_broadcasts_the_batch_to_exactly_the_target() {
    let ex = |d: CDist, t: &[usize]| cshape::expand(d, s(t), "P.expand(..)");
    assert_eq!(ex(dist(&[1], &[3]), &[4, 3]), dist(&[4, 3], &[3]));
    assert_eq!(ex(dist(&[], &[]), &[64]), dist(&[64], &[]));
    assert_eq!(ex(dist(&[DYN], &[]), &[4]), dist(&[4], &[]));
    assert_eq!(ex(dist(&[4], &[]), &[DYN, DYN]), dist(&[DYN, DYN], &[]));
}

#[test]
fn expand_rejects_incompatible_targets() {
    let ex = |d: CDist, t: &'static [usize]| panic_message(move || cshape::expand(d, s(t), "P.expand([..])"));
    assert_eq!(ex(dist(&[2], &[]), &[3]), "in `P.expand([..])`: batch shape [2] cannot be expanded to [3]");
    assert_eq!(ex(dist(&[2, 3], &[]), &[3]), "in `P.expand([..])`: batch shape [2, 3] cannot be expanded to [3]");
    assert_eq!(ex(dist(&[5], &[]), &[5, 1]), "in `P.expand([..])`: batch shape [5] cannot be expanded to [5, 1]");
    assert_eq!(
        ex(dist(&[DYN, DYN], &[]), &[DYN]),
        format!("in `P.expand([..])`: batch shape [_, _] cannot be expanded to [_]{RUN_TIME}")
    );
}

// ---------------------------------------------------------------------------------------------
// Queries

const K: &str = "P || Q";

#[test]
fn kl_broadcasts_batches_of_equal_events() {
    assert_eq!(cshape::kl(dist(&[3, 1], &[2]), dist(&[4], &[2]), K), s(&[3, 4]));
    assert_eq!(cshape::kl(dist(&[DYN], &[8]), dist(&[], &[8]), K), s(&[DYN]));
    assert_eq!(cshape::kl(dist(&[DYN], &[DYN]), dist(&[5], &[8]), K), s(&[5]));
}

#[test]
fn kl_rejects_unequal_events_and_batches() {
    assert_eq!(
        panic_message(|| cshape::kl(dist(&[], &[8]), dist(&[8], &[]), "Normal(a, b).to_event(1) || Normal(c, d)")),
        "in `Normal(a, b).to_event(1) || Normal(c, d)`: KL needs equal event shapes, but the left side has event shape [8] and the right side []"
    );
    assert_eq!(
        panic_message(|| cshape::kl(dist(&[], &[DYN]), dist(&[], &[]), K)),
        format!("in `P || Q`: KL needs equal event shapes, but the left side has event shape [_] and the right side []{RUN_TIME}")
    );
    assert_eq!(
        panic_message(|| cshape::kl(dist(&[3], &[2]), dist(&[4], &[2]), K)),
        "in `P || Q`: the batch shapes of the two sides do not broadcast: left [3], right [4]"
    );
}

const P: &str = "log_prob(P, x)";

#[test]
fn log_prob_broadcasts_the_value_batch_with_the_distribution_batch() {
    assert_eq!(cshape::log_prob(dist(&[], &[8]), s(&[5, 8]), P), s(&[5]));
    assert_eq!(cshape::log_prob(dist(&[3, 1], &[2]), s(&[4, 2]), P), s(&[3, 4]));
    assert_eq!(cshape::log_prob(dist(&[DYN], &[3]), s(&[DYN, DYN]), P), s(&[DYN]));
    assert_eq!(cshape::log_prob(dist(&[2], &[]), CShape::SCALAR, P), s(&[2]));
}

#[test]
fn log_prob_rejects_bad_values() {
    assert_eq!(
        panic_message(|| cshape::log_prob(dist(&[], &[8]), s(&[5, 4]), P)),
        "in `log_prob(P, x)`: `log_prob` needs a value whose trailing dims are the event shape [8], but the value has shape [5, 4]"
    );
    assert_eq!(
        panic_message(|| cshape::log_prob(dist(&[], &[2, 3]), s(&[DYN]), P)),
        format!("in `log_prob(P, x)`: `log_prob` needs a value whose trailing dims are the event shape [2, 3], but the value has shape [_]{RUN_TIME}")
    );
    assert_eq!(
        panic_message(|| cshape::log_prob(dist(&[3], &[2]), s(&[4, 2]), P)),
        "in `log_prob(P, x)`: the value's batch dims [4] do not broadcast with the distribution's batch shape [3]"
    );
}

#[test]
fn entropy_is_the_batch_shape() {
    assert_eq!(cshape::entropy(dist(&[DYN, 4], &[3])), s(&[DYN, 4]));
    assert_eq!(cshape::entropy(dist(&[], &[3])), CShape::SCALAR);
}

// ---------------------------------------------------------------------------------------------
// Declarations

#[test]
fn declarations_match_the_rust_types() {
    let decl = |declared: &[usize], text: &str, actual: CShape| cshape::check_declared("mu", s(declared), text, actual);
    decl(&[DYN, 8], "[B, 8]", CShape::of::<Vec<[f64; 8]>>());
    decl(&[2, 3], "[2, 3]", CShape::of::<[[f64; 3]; 2]>());
    decl(&[DYN, 3], "[B, 3]", CShape::of::<[[f64; 3]; 2]>());
    decl(&[], "[]", CShape::of::<f32>());
    // A flat slice or Vec carries any shape; its length is checked at run time.
    decl(&[4, 2, 3], "[4, 2, 3]", CShape::of::<Vec<f64>>());
    decl(&[], "[]", CShape::of::<&[f64]>());
}

#[test]
fn declarations_reject_other_ranks_and_sizes() {
    assert_eq!(
        panic_message(|| cshape::check_declared("mu", s(&[DYN, 8]), "[B, 8]", CShape::of::<[f64; 8]>())),
        "parameter `mu` is declared with shape [B, 8] (rank 2), but its Rust type has shape [8] (rank 1)"
    );
    assert_eq!(
        panic_message(|| cshape::check_declared("s1", s(&[DYN, 8]), "[B, 8]", CShape::of::<Vec<[f64; 4]>>())),
        format!("parameter `s1` is declared with shape [B, 8], but its Rust type has shape [_, 4] (dim 1 is 8 in the declaration and 4 in the type){RUN_TIME}")
    );
    assert_eq!(
        panic_message(|| cshape::check_declared("x", s(&[3]), "[3]", CShape::of::<Vec<[f64; 3]>>())),
        format!(
            "parameter `x` is declared with shape [3] (rank 1), but its Rust type has shape [_, 3] (rank 2){RUN_TIME}"
        )
    );
}
