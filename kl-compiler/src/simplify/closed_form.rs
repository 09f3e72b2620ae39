//! `closed_form`: queries on base families become their closed-form kernels.
//! Identities: KL(N(m1,s1²) ‖ N(m2,s2²)) = ln(s2/s1) + (s1² + (m1−m2)²)/(2 s2²) − ½ (elementwise);
//! KL between multivariate normals through their lower factors L (Σ = L Lᵀ: Cholesky of the
//! covariance, the flip trick for a precision, chol(W Wᵀ + D) for low rank), except where a
//! more accurate form exists: two covariances, two precisions or two low-rank normals of one
//! rank from the difference of their matrices, a precision against a covariance from their
//! product formed in doubled precision; log_prob and entropy likewise. Precondition: the
//! query's operands are base families, not wrappers.

use super::{broadcast_to, nodes_where, scale_of, tensor_ty, tril_of, Pass};
use crate::ir::{Ir, MvnParam, NodeId, NormalParam, Op};

pub const PASS: Pass = Pass {
    name: "closed_form",
    identity: "queries on Normal / MultivariateNormal / LowRank bases -> normal_kl, tril_kl, *_log_prob, *_entropy",
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

/// Loc, second parameter and its parameterization of a `Normal`; a literal parameter is
/// folded to a literal scale.
fn given(ir: &mut Ir, normal: NodeId) -> (NodeId, NodeId, NormalParam) {
    let Op::Normal(p) = *ir.op(normal) else { unreachable!("given on a non-Normal") };
    let (loc, a) = (ir.operand(normal, 0), ir.operand(normal, 1));
    if matches!(ir.op(a), Op::Literal(_)) {
        return (loc, scale_of(ir, normal), NormalParam::Scale);
    }
    (loc, a, p)
}

/// Whether two low-rank normals' factors have the same rank (last dim of `cov_factor`).
fn same_rank(ir: &Ir, p: NodeId, q: NodeId) -> bool {
    let rank = |d: NodeId| tensor_ty(ir, ir.operand(d, 1)).dims().last().cloned();
    rank(p).is_some() && rank(p) == rank(q)
}

fn lower_query(ir: &mut Ir, id: NodeId) -> Option<NodeId> {
    let span = ir.node(id).span;
    let d = ir.operand(id, 0);
    let family = ir.op(d).clone();
    let multivariate = matches!(family, Op::Mvn(_) | Op::LowRankMvn);
    let univariate = matches!(family, Op::Normal(_));
    match ir.op(id) {
        Op::Kl => {
            let q = ir.operand(id, 1);
            match (univariate, multivariate, ir.op(q)) {
                (true, _, Op::Normal(_)) => {
                    // The parameters as given (not converted to scales): the kernel takes each
                    // side's ratio from them directly.
                    let ((m1, a1, p1), (m2, a2, p2)) = (given(ir, d), given(ir, q));
                    Some(ir.add(Op::NormalKl(p1, p2), span, &[m1, a1, m2, a2]))
                }
                // Both covariances, or both precisions: from the difference of the matrices,
                // which keeps near-equal pairs accurate.
                (_, true, Op::Mvn(pq)) if family == Op::Mvn(*pq) && *pq != MvnParam::ScaleTril => {
                    let pq = *pq;
                    let (m1, x1, m2, x2) = (ir.operand(d, 0), ir.operand(d, 1), ir.operand(q, 0), ir.operand(q, 1));
                    let reference = if pq == MvnParam::Covariance { x2 } else { x1 };
                    let span_r = ir.node(reference).span;
                    let l = ir.add(Op::TrilFrom(MvnParam::Covariance), span_r, &[reference]);
                    Some(ir.add(Op::SpdKl(pq), span, &[m1, x1, m2, x2, l]))
                }
                // A precision against a covariance (either order): from the product of the two
                // matrices, formed in doubled precision.
                (_, true, Op::Mvn(pq))
                    if matches!(
                        (&family, pq),
                        (Op::Mvn(MvnParam::Precision), MvnParam::Covariance)
                            | (Op::Mvn(MvnParam::Covariance), MvnParam::Precision)
                    ) =>
                {
                    let Op::Mvn(pp) = family else { unreachable!("matched above") };
                    let (m1, x1, m2, x2) = (ir.operand(d, 0), ir.operand(d, 1), ir.operand(q, 0), ir.operand(q, 1));
                    let span_r = ir.node(x2).span;
                    let l = ir.add(Op::TrilFrom(MvnParam::Covariance), span_r, &[x2]);
                    Some(ir.add(Op::MixedSpdKl(pp), span, &[m1, x1, m2, x2, l]))
                }
                // Two low-rank normals of the same rank: from differences of the parameters.
                (_, true, Op::LowRankMvn) if family == Op::LowRankMvn && same_rank(ir, d, q) => {
                    let (a, b) = (ir.operands(d), ir.operands(q));
                    let l2 = tril_of(ir, q);
                    Some(ir.add(Op::LowRankKl, span, &[a[0], a[1], a[2], b[0], b[1], b[2], l2]))
                }
                (_, true, Op::Mvn(_) | Op::LowRankMvn) => {
                    let (m1, l1) = (ir.operand(d, 0), tril_of(ir, d));
                    let (m2, l2) = (ir.operand(q, 0), tril_of(ir, q));
                    Some(ir.add(Op::TrilKl, span, &[m1, l1, m2, l2]))
                }
                _ => None,
            }
        }
        Op::LogProb => {
            let x = ir.operand(id, 1);
            if univariate {
                let (m, s) = (ir.operand(d, 0), scale_of(ir, d));
                Some(ir.add(Op::NormalLogProb, span, &[x, m, s]))
            } else if multivariate {
                let (m, l) = (ir.operand(d, 0), tril_of(ir, d));
                Some(ir.add(Op::TrilLogProb, span, &[x, m, l]))
            } else {
                None
            }
        }
        Op::Entropy => {
            if univariate {
                let s = scale_of(ir, d);
                Some(ir.add(Op::NormalEntropy, span, &[s]))
            } else if multivariate {
                let l = tril_of(ir, d);
                Some(ir.add(Op::TrilEntropy, span, &[l]))
            } else {
                None
            }
        }
        _ => None,
    }
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
