//! `diagonal_mvn`: a multivariate normal whose matrix is `diag(v)` is an independent product
//! of univariate normals.
//! Identity: MVN(μ, diag(v)) = Normal(μ, var=v).to_event(1); likewise scale_tril=diag(s) ->
//! Normal(μ, scale=s) and precision_matrix=diag(p) -> Normal(μ, precision=p).
//! Precondition: the matrix operand is a `diag(..)` node.

use super::{nodes_where, Pass};
use crate::ir::{Ir, MvnParam, NormalParam, Op};

pub const PASS: Pass = Pass {
    name: "diagonal_mvn",
    identity: "MVN(mu, diag(v)) = Normal(mu, var=v).to_event(1)",
    precondition: "the covariance, scale_tril or precision matrix is diag(..) by construction",
    run,
};

fn run(ir: &mut Ir) -> bool {
    let mut changed = false;
    for mvn in nodes_where(ir, |op| op.as_mvn().is_some()) {
        let Some(param) = ir.op(mvn).as_mvn() else { continue };
        let (loc, m) = (ir.operand(mvn, 0), ir.operand(mvn, 1));
        if *ir.op(m) != Op::Diag {
            continue;
        }
        let v = ir.operand(m, 0);
        let np = match param {
            MvnParam::Covariance => NormalParam::Var,
            MvnParam::ScaleTril => NormalParam::Scale,
            MvnParam::Precision => NormalParam::Precision,
        };
        let span = ir.node(mvn).span;
        let normal = ir.add(Op::Dist(crate::family::normal_dist(np)), span, &[loc, v]);
        let indep = ir.add(Op::Independent(1), span, &[normal]);
        ir.replace_uses(mvn, indep);
        changed = true;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::super::testing::run;
    use super::PASS;

    #[test]
    fn covariance_diag_becomes_variance() {
        let (changed, out) = run(&PASS, "entropy(MultivariateNormal(m, covariance_matrix=diag(v))) where m, v: [B, 3]");
        assert!(changed);
        assert_eq!(
            out,
            "%0 = param m : [B, 3]\n%1 = param v : [B, 3]\n%2 = Normal(loc=%0, var=%1) : batch [B, 3], event []\n\
             %3 = Independent[1](base=%2) : batch [B], event [3]\n%4 = entropy(dist=%3) : [B]\n"
        );
    }

    #[test]
    fn scale_tril_diag_becomes_scale() {
        let (_, out) = run(&PASS, "entropy(MultivariateNormal(m, scale_tril=diag(s))) where m, s: [3]");
        assert!(out.contains("Normal(loc=%0, scale=%1) : batch [3], event []"), "{out}");
    }

    #[test]
    fn dense_matrices_are_left_alone() {
        let (changed, _) = run(&PASS, "entropy(MultivariateNormal(m, covariance_matrix=c)) where m: [3], c: [3, 3]");
        assert!(!changed);
    }
}
