//! `closed_form`: queries on base families become their closed-form kernels.
//! Identities: KL(N(m1,s1²) ‖ N(m2,s2²)) = ln(s2/s1) + (s1² + (m1−m2)²)/(2 s2²) − ½ (elementwise);
//! KL between multivariate normals through their lower factors L (Σ = L Lᵀ: Cholesky of the
//! covariance, the flip trick for a precision, chol(W Wᵀ + D) for low rank), except where a
//! more accurate form exists: two covariances, two precisions or two low-rank normals of one
//! rank from the difference of their matrices, a precision against a covariance from their
//! product formed in doubled precision; log_prob and entropy likewise. The rules are data
//! (`crate::rules`), each in its family's file. Precondition: the query's operands are base
//! families, not wrappers.

use super::{broadcast_to, nodes_where, tensor_ty, Pass};
use crate::ir::{Ir, NodeId, Op};
use crate::rules::{self, Site};

pub const PASS: Pass = Pass {
    name: "closed_form",
    identity: "KL, log_prob and entropy of base families -> their kernels (the rules table)",
    precondition: "the query's distribution operands are unwrapped base families",
    run,
};

fn run(ir: &mut Ir) -> bool {
    let mut changed = false;
    for id in nodes_where(ir, |op| op.is_query()) {
        if let Some(kernel) = lower_query(ir, id) {
            let want = tensor_ty(ir, id);
            // The kernel's natural shape may be smaller (entropy ignores loc): restore the query's.
            let got = crate::check::type_new(ir, kernel);
            let node = broadcast_to(ir, kernel, &want, &got);
            ir.replace_uses(id, node);
            changed = true;
        }
    }
    changed
}

/// The closed form of a query from the rule tables (`crate::rules`), keyed by the families of
/// its (unwrapped) distribution operands.
fn lower_query(ir: &mut Ir, id: NodeId) -> Option<NodeId> {
    let span = ir.node(id).span;
    let p = ir.operand(id, 0);
    let family = ir.op(p).family()?;
    let (rule, other) = match ir.op(id) {
        Op::Kl => {
            let q = ir.operand(id, 1);
            (rules::kl(family, ir.op(q).family()?)?.lower, q)
        }
        Op::LogProb => (rules::unary(rules::LOG_PROB, family)?.lower, ir.operand(id, 1)),
        Op::Entropy => (rules::unary(rules::ENTROPY, family)?.lower, p),
        _ => return None,
    };
    rule(ir, Site { span, p, other })
}

#[cfg(test)]
mod tests {
    use super::super::testing::run;
    use super::PASS;

    #[test]
    fn normal_pair_becomes_the_elementwise_kernel_on_the_parameters_as_given() {
        let (changed, out) = run(&PASS, "Normal(a, var=v) || Normal(0, 2) where a, v: [3]");
        assert!(changed);
        assert_eq!(
            out,
            "%0 = param a : [3]\n%1 = param v : [3]\n%2 = literal 0 : []\n%3 = literal 2 : []\n\
             %4 = normal_kl(m1=%0, var1=%1, m2=%2, scale2=%3) : [3]\n"
        );
    }

    #[test]
    fn literal_parameterizations_are_folded() {
        let (_, out) = run(&PASS, "Normal(a, b) || Normal(0, precision=4) where a, b: [3]");
        assert!(out.contains("literal 0.5 : []"), "{out}");
    }

    #[test]
    fn every_matrix_parameterization_reaches_a_lower_factor() {
        let (_, out) = run(
            &PASS,
            "MultivariateNormal(a, precision_matrix=p) || LowRankMultivariateNormal(b, cov_factor=w, cov_diag=d) where a, b, d: [3], p: [3, 3], w: [3, 1]",
        );
        assert!(out.contains("tril_from_precision_matrix(matrix=%1) : [3, 3]"), "{out}");
        assert!(out.contains("tril_from_low_rank(cov_factor=%4, cov_diag=%5) : [3, 3]"), "{out}");
        assert!(out.ends_with("tril_kl(m1=%0, L1=%2, m2=%3, L2=%6) : []\n"), "{out}");
    }

    #[test]
    fn entropy_keeps_the_batch_shape_of_the_location() {
        let (_, out) = run(&PASS, "entropy(Normal(m, 2)) where m: [5]");
        assert!(out.ends_with("broadcast_to [5](x=%1) : [5]\n"), "{out}");
    }
}
