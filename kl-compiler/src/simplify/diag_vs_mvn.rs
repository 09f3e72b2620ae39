//! `diag_vs_mvn`: a diagonal Gaussian (`Normal(..).to_event(1)`) against any multivariate
//! normal, in either direction, without building a dense diagonal matrix.
//! Identity: KL(N(m1, diag(s1²)) ‖ N(m2, L2 L2ᵀ)) =
//!   ½(‖L2⁻¹ diag(s1)‖²_F + ‖L2⁻¹(m2 − m1)‖² − d) + Σ ln L2_ii − Σ ln s1_i, and its mirror.
//! Precondition: one base is a diagonal Gaussian family (`Structure::DiagonalGaussian`:
//! Normal) reinterpreted one dim deeper than the other, a dense Gaussian family
//! (`Structure::DenseGaussian`: MultivariateNormal in any parameterization, or LowRank).

use super::{broadcast_to, dist_ty, nodes_where, scale_of, strip, tensor_ty, tril_of, Pass};
use crate::family::Structure;
use crate::ir::{Ir, NodeId, Op};

pub const PASS: Pass = Pass {
    name: "diag_vs_mvn",
    identity: "KL(Normal(m1, s1).to_event(1) || MVN(m2, L2)) = diag_tril_kl(m1, s1, m2, L2), and its mirror",
    precondition:
        "one base is Normal, the other MultivariateNormal or LowRankMultivariateNormal, with equal event shapes",
    run,
};

fn run(ir: &mut Ir) -> bool {
    let mut changed = false;
    for kl in nodes_where(ir, |op| *op == Op::Kl) {
        let (p, q) = (ir.operand(kl, 0), ir.operand(kl, 1));
        let ((bp, _), (bq, _)) = (strip(ir, p), strip(ir, q));
        // Which side is which comes from the families' structure, not from their names.
        let structure = |id| ir.op(id).family().map(|f| f.structure);
        let (sp, sq) = (structure(bp), structure(bq));
        let span = ir.node(kl).span;
        let out = tensor_ty(ir, kl);
        let (_, event) = dist_ty(ir, p);
        // Rule: the diagonal side is reinterpreted one dim deeper (equal event shapes, checked).
        let kernel = match (sp, sq) {
            (Some(Structure::DiagonalGaussian { .. }), Some(Structure::DenseGaussian { .. })) => {
                let Some((m1, s1)) = diagonal_parts(ir, p, bp) else { continue };
                let Some(l2) = tril_of(ir, bq) else { continue };
                let m2 = ir.operand(bq, 0);
                ir.add(Op::DiagTrilKl, span, &[m1, s1, m2, l2])
            }
            (Some(Structure::DenseGaussian { .. }), Some(Structure::DiagonalGaussian { .. })) => {
                let Some(l1) = tril_of(ir, bp) else { continue };
                let m1 = ir.operand(bp, 0);
                let Some((m2, s2)) = diagonal_parts(ir, q, bq) else { continue };
                ir.add(Op::TrilDiagKl, span, &[m1, l1, m2, s2])
            }
            _ => continue,
        };
        // The multivariate side's extra reinterpreted dims are summed, as in `independent_sum`.
        let k = event.rank() - 1;
        let full = out.concat(&event.drop_last(1));
        let sum = ir.add(Op::SumLast { k, full }, span, &[kernel]);
        ir.replace_uses(kl, sum);
        changed = true;
    }
    changed
}

/// Loc and scale of a `Normal`, each broadcast to the full shape of its wrapped side so that
/// the last dim is the event dim the kernel walks.
fn diagonal_parts(ir: &mut Ir, outer: NodeId, normal: NodeId) -> Option<(NodeId, NodeId)> {
    // The full shape of the wrapped side (batch ++ event): an `expand` may have widened it
    // beyond the base normal's own batch shape.
    let (b, e) = dist_ty(ir, outer);
    let batch = b.concat(&e);
    let loc = ir.operand(normal, 0);
    let loc_shape = tensor_ty(ir, loc);
    let m = broadcast_to(ir, loc, &batch, &loc_shape);
    let s = scale_of(ir, normal)?;
    let s_shape = crate::check::type_new(ir, s);
    let s = broadcast_to(ir, s, &batch, &s_shape);
    Some((m, s))
}

#[cfg(test)]
mod tests {
    use super::super::testing::run;
    use super::PASS;

    #[test]
    fn diagonal_against_scale_tril_uses_the_mixed_kernel() {
        let (changed, out) = run(
            &PASS,
            "Normal(m1, s1).to_event(1) || MultivariateNormal(m2, scale_tril=l2) where m1, s1, m2: [B, 8], l2: [B, 8, 8]",
        );
        assert!(changed);
        assert!(out.contains("diag_tril_kl(m1=%0, s1=%1, m2=%2, L2=%3) : [B]"), "{out}");
        assert!(!out.contains("Normal"), "{out}");
    }

    #[test]
    fn covariance_side_gets_one_cholesky_and_the_mirror_kernel() {
        let (_, out) = run(
            &PASS,
            "MultivariateNormal(m2, covariance_matrix=c) || Normal(0, var=v).to_event(1) where m2, v: [4], c: [4, 4]",
        );
        assert!(out.contains("cholesky(matrix=%1) : [4, 4]"), "{out}");
        assert!(out.contains("broadcast_to [4](x="), "{out}");
        assert!(out.contains("scale_from_var(p="), "{out}");
        assert!(out.contains("tril_diag_kl("), "{out}");
    }

    #[test]
    fn deeper_reinterpretation_is_summed() {
        let (_, out) = run(
            &PASS,
            "Normal(a, b).to_event(2) || LowRankMultivariateNormal(c, cov_factor=w, cov_diag=d).to_event(1) where a, b, c, d: [T, 3], w: [T, 3, 2]",
        );
        assert!(out.contains("tril_from_low_rank(cov_factor=%3, cov_diag=%4) : [T, 3, 3]"), "{out}");
        assert!(out.ends_with("sum_last[1] of [T](x=%6) : []\n"), "{out}");
    }
}
