//! `MultivariateNormal(loc, ..)`: the matrix given as exactly one of `covariance_matrix=`,
//! `scale_tril=` or `precision_matrix=`, always by keyword.

use super::{loc_event_dim, Alt, Family, Message, Missing, ShapeCx, Slot, Structure, Support};
use crate::diag::Diagnostic;
use crate::ir::{Ir, MvnParam, NodeId, Op, Role};
use crate::rules::Site;
use crate::shape::Shape;
use crate::simplify::tril_of;

pub const MVN: Family = Family {
    name: "MultivariateNormal",
    operands: &["loc", "matrix"],
    slots: &[
        super::LOC,
        Slot {
            // In `MvnParam::ALL` order: `Dist::choice` indexes both.
            alternatives: &[
                Alt { keyword: "covariance_matrix", role: Role::SpdMatrix, diag_role: Some(Role::PositiveDiag) },
                Alt { keyword: "scale_tril", role: Role::ScaleTril, diag_role: Some(Role::PositiveDiag) },
                Alt { keyword: "precision_matrix", role: Role::SpdMatrix, diag_role: Some(Role::PositiveDiag) },
            ],
            positional: false,
            missing: Some(Missing {
                what: "a matrix",
                label: "no matrix given",
                help: "give exactly one of `covariance_matrix=`, `scale_tril=` or `precision_matrix=`",
            }),
            keyword_only: Some(Message {
                code: "param::positional_matrix",
                message: "the matrix of a `MultivariateNormal` must be passed by keyword",
                label: "positional matrix",
                help: "write `covariance_matrix=`, `scale_tril=` or `precision_matrix=`: they differ, and guessing is how the scale-versus-variance bug starts",
            }),
            default: None,
        },
    ],
    event_rank: 1,
    support: Support::RealVector,
    structure: Structure::DenseGaussian { tril },
    shape,
    cshape: "mvn",
    cshape_keywords: &[1],
    joint_check: false,
};

/// Rule: the matrix is square, `[.., d, d]` with `d` = loc's last dim; batch dims broadcast.
fn shape(cx: &ShapeCx) -> Result<(Shape, Shape), Diagnostic> {
    let (loc, m) = (&cx.shapes[0], &cx.shapes[1]);
    let name = cx.keywords[1];
    let d = loc_event_dim(loc, cx.span, cx.spans[0])?;
    if m.rank() < 2 || m.0[m.rank() - 1] != m.0[m.rank() - 2] {
        return Err(Diagnostic::new(
            "shape::matrix_not_square",
            cx.spans[1],
            format!("`{name}` must be a square matrix [.., d, d], but its shape is {m}"),
        )
        .label("not square"));
    }
    if m.0[m.rank() - 1] != d {
        return Err(Diagnostic::new(
            "shape::matrix_loc_mismatch",
            cx.spans[1],
            format!(
                "`{name}` is {}x{} but `loc` has event size {d} (loc shape {loc}, {name} shape {m})",
                m.0[m.rank() - 2],
                m.0[m.rank() - 1]
            ),
        )
        .label(format!("expected [.., {d}, {d}]"))
        .note(cx.spans[0], format!("loc: {loc}")));
    }
    let batch = loc.drop_last(1).broadcast(&m.drop_last(2)).ok_or_else(|| {
        Diagnostic::new(
            "shape::param_broadcast",
            cx.span,
            format!("the batch dims of `loc` {} and `{name}` {} do not broadcast", loc.drop_last(1), m.drop_last(2)),
        )
        .label("parameters do not broadcast")
    })?;
    Ok((batch, loc.last(1)))
}

/// KL between two `MultivariateNormal`s. Both covariances, or both precisions: from the
/// difference of the matrices, which keeps near-equal pairs accurate. A precision against a
/// covariance (either order): from the product of the two matrices, formed in doubled
/// precision. Otherwise through the lower factors.
pub fn kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    let (pp, pq) = (ir.op(at.p).as_mvn()?, ir.op(at.other).as_mvn()?);
    let (d, q) = (at.p, at.other);
    let (m1, x1, m2, x2) = (ir.operand(d, 0), ir.operand(d, 1), ir.operand(q, 0), ir.operand(q, 1));
    match (pp, pq) {
        (MvnParam::Covariance, MvnParam::Covariance) | (MvnParam::Precision, MvnParam::Precision) => {
            let reference = if pq == MvnParam::Covariance { x2 } else { x1 };
            let span_r = ir.node(reference).span;
            let l = ir.add(Op::TrilFrom(MvnParam::Covariance), span_r, &[reference]);
            Some(ir.add(Op::SpdKl(pq), at.span, &[m1, x1, m2, x2, l]))
        }
        (MvnParam::Precision, MvnParam::Covariance) | (MvnParam::Covariance, MvnParam::Precision) => {
            let span_r = ir.node(x2).span;
            let l = ir.add(Op::TrilFrom(MvnParam::Covariance), span_r, &[x2]);
            Some(ir.add(Op::MixedSpdKl(pp), at.span, &[m1, x1, m2, x2, l]))
        }
        _ => kl_by_factors(ir, at),
    }
}

/// KL between any two dense Gaussians (MultivariateNormal in any parameterization, or low
/// rank) through their lower factors L (Σ = L Lᵀ).
pub fn kl_by_factors(ir: &mut Ir, at: Site) -> Option<NodeId> {
    let (m1, l1) = (ir.operand(at.p, 0), tril_of(ir, at.p)?);
    let (m2, l2) = (ir.operand(at.other, 0), tril_of(ir, at.other)?);
    Some(ir.add(Op::TrilKl, at.span, &[m1, l1, m2, l2]))
}

/// `log_prob` of a dense Gaussian, through its lower factor.
pub fn log_prob(ir: &mut Ir, at: Site) -> Option<NodeId> {
    let (m, l) = (ir.operand(at.p, 0), tril_of(ir, at.p)?);
    Some(ir.add(Op::TrilLogProb, at.span, &[at.other, m, l]))
}

/// `entropy` of a dense Gaussian, through its lower factor.
pub fn entropy(ir: &mut Ir, at: Site) -> Option<NodeId> {
    let l = tril_of(ir, at.p)?;
    Some(ir.add(Op::TrilEntropy, at.span, &[l]))
}

/// The lower factor of a `MultivariateNormal` node: the matrix itself for `scale_tril`, else
/// the Cholesky factor of the covariance (the flip trick for a precision).
fn tril(ir: &mut Ir, mvn: NodeId) -> NodeId {
    let m = ir.operand(mvn, 1);
    match ir.op(mvn).as_mvn().unwrap_or(MvnParam::ScaleTril) {
        MvnParam::ScaleTril => m,
        p => ir.add(Op::TrilFrom(p), ir.node(m).span, &[m]),
    }
}

/// The parameterization of a `MultivariateNormal` node's matrix.
pub fn param(choice: u8) -> MvnParam {
    MvnParam::ALL[choice as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_follow_mvn_param_order() {
        let alts = MVN.slots[1].alternatives;
        assert_eq!(alts.len(), MvnParam::ALL.len());
        for (i, a) in alts.iter().enumerate() {
            assert_eq!(a.keyword, param(i as u8).keyword());
        }
    }
}
