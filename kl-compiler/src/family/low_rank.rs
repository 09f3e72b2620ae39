//! `LowRankMultivariateNormal(loc, cov_factor, cov_diag)`: Σ = W Wᵀ + diag(D).

use super::{loc_event_dim, Alt, Family, ShapeCx, Slot, Structure, Support};
use crate::diag::Diagnostic;
use crate::ir::{Ir, NodeId, Op, Role};
use crate::rules::Site;
use crate::shape::Shape;
use crate::simplify::tril_of;

pub const LOW_RANK: Family = Family {
    name: "LowRankMultivariateNormal",
    operands: &["loc", "cov_factor", "cov_diag"],
    slots: &[
        super::LOC,
        Slot {
            alternatives: &[Alt { keyword: "cov_factor", role: Role::Real, diag_role: None }],
            positional: true,
            missing: None,
            keyword_only: None,
            default: None,
        },
        Slot {
            alternatives: &[Alt { keyword: "cov_diag", role: Role::Positive, diag_role: None }],
            positional: true,
            missing: None,
            keyword_only: None,
            default: None,
        },
    ],
    event_rank: 1,
    support: Support::RealVector,
    structure: Structure::DenseGaussian { tril },
    shape,
    cshape: "low_rank",
    cshape_keywords: &[],
    joint_check: false,
};

/// KL between two low-rank normals: of the same rank, from differences of the parameters;
/// otherwise through the lower factors.
pub fn kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    let rank = |ir: &Ir, d: NodeId| ir.ty(ir.operand(d, 1)).tensor().and_then(|s| s.dims().last().cloned());
    let r = rank(ir, at.p);
    if r.is_none() || r != rank(ir, at.other) {
        return super::mvn::kl_by_factors(ir, at);
    }
    let (a, b) = (ir.operands(at.p), ir.operands(at.other));
    let l2 = tril_of(ir, at.other)?;
    Some(ir.add(Op::LowRankKl, at.span, &[a[0], a[1], a[2], b[0], b[1], b[2], l2]))
}

/// The lower factor of a low-rank node: chol(W Wᵀ + diag(D)).
fn tril(ir: &mut Ir, dist: NodeId) -> NodeId {
    let (w, d) = (ir.operand(dist, 1), ir.operand(dist, 2));
    let span = ir.node(dist).span;
    ir.add(Op::LowRankTril, span, &[w, d])
}

/// Rule: `cov_factor` is `[.., d, r]` and `cov_diag` is `[.., d]`, `d` = loc's last dim; batch
/// dims broadcast.
fn shape(cx: &ShapeCx) -> Result<(Shape, Shape), Diagnostic> {
    let (loc, w, dg) = (&cx.shapes[0], &cx.shapes[1], &cx.shapes[2]);
    let d = loc_event_dim(loc, cx.span, cx.spans[0])?;
    if w.rank() < 2 || w.0[w.rank() - 2] != d {
        return Err(Diagnostic::new(
            "shape::low_rank_factor",
            cx.spans[1],
            format!("`cov_factor` must have shape [.., {d}, r] to match `loc` {loc}, but its shape is {w}"),
        )
        .label(format!("expected [.., {d}, r]")));
    }
    if dg.rank() < 1 || dg.0[dg.rank() - 1] != d {
        return Err(Diagnostic::new(
            "shape::low_rank_diag",
            cx.spans[2],
            format!("`cov_diag` must have shape [.., {d}] to match `loc` {loc}, but its shape is {dg}"),
        )
        .label(format!("expected [.., {d}]")));
    }
    let batch = Shape::broadcast_all([&loc.drop_last(1), &w.drop_last(2), &dg.drop_last(1)]).ok_or_else(|| {
        Diagnostic::new(
            "shape::param_broadcast",
            cx.span,
            format!(
                "the batch dims of `loc` {}, `cov_factor` {} and `cov_diag` {} do not broadcast",
                loc.drop_last(1),
                w.drop_last(2),
                dg.drop_last(1)
            ),
        )
        .label("parameters do not broadcast")
    })?;
    Ok((batch, loc.last(1)))
}
