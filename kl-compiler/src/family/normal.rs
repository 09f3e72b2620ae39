//! `Normal(loc, scale)`: independent univariate normals, the scale given as exactly one of
//! `scale=` (the positional second argument), `var=`, `log_scale=` or `precision=`.

pub use super::normal_kernels::{attrs, NORMAL_ENTROPY, NORMAL_KL, NORMAL_LOG_PROB, STD_NORMAL_KL};
use super::{Alt, Family, Missing, Slot, Structure, Support};
use crate::ir::{Ir, NodeId, NormalParam, Op, Role};
use crate::kernel::KernelOp;
use crate::rules::Site;

pub const NORMAL: Family = Family {
    name: "Normal",
    operands: &["loc", "scale"],
    slots: &[
        super::LOC,
        Slot {
            // In `NormalParam::ALL` order: `Dist::choice` indexes both.
            alternatives: &[
                Alt { keyword: "scale", role: Role::Positive, diag_role: None },
                Alt { keyword: "var", role: Role::Positive, diag_role: None },
                Alt { keyword: "log_scale", role: Role::Real, diag_role: None },
                Alt { keyword: "precision", role: Role::Positive, diag_role: None },
            ],
            positional: true,
            missing: Some(Missing {
                what: "a scale",
                label: "no scale given",
                help: "give exactly one of `scale=`, `var=`, `log_scale=` or `precision=` (a second positional argument is the scale, the standard deviation)",
            }),
            keyword_only: None,
            default: None,
        },
    ],
    event_rank: 0,
    support: Support::Real,
    structure: Structure::DiagonalGaussian { scale },
    shape: super::loc_scale_shape,
    cshape: "normal",
    cshape_keywords: &[1],
    joint_check: false,
};

/// KL between two `Normal`s: elementwise, on the parameters as given (not converted to
/// scales), so that the kernel takes each side's ratio from them directly.
pub fn kl(ir: &mut Ir, at: Site) -> Option<NodeId> {
    let ((m1, a1, p1), (m2, a2, p2)) = (given(ir, at.p), given(ir, at.other));
    Some(ir.add(Op::Kernel(KernelOp { kernel: &NORMAL_KL, attrs: attrs(p1, p2) }), at.span, &[m1, a1, m2, a2]))
}

pub fn log_prob(ir: &mut Ir, at: Site) -> Option<NodeId> {
    let (m, s) = (ir.operand(at.p, 0), scale(ir, at.p));
    Some(ir.add(Op::Kernel(KernelOp::new(&NORMAL_LOG_PROB)), at.span, &[at.other, m, s]))
}

pub fn entropy(ir: &mut Ir, at: Site) -> Option<NodeId> {
    let s = scale(ir, at.p);
    Some(ir.add(Op::Kernel(KernelOp::new(&NORMAL_ENTROPY)), at.span, &[s]))
}

/// Loc, second parameter and its parameterization of a `Normal`; a literal parameter is
/// folded to a literal scale.
fn given(ir: &mut Ir, normal: NodeId) -> (NodeId, NodeId, NormalParam) {
    let p = ir.op(normal).as_normal().unwrap_or(NormalParam::Scale);
    let (loc, a) = (ir.operand(normal, 0), ir.operand(normal, 1));
    if matches!(ir.op(a), Op::Literal(_)) {
        return (loc, scale(ir, normal), NormalParam::Scale);
    }
    (loc, a, p)
}

/// A distribution node's operands, a `Normal`'s as its loc and standard deviation (whatever its
/// scale's parameterization), for the kernels of other families' pairs with it.
pub(crate) fn standard_operands(ir: &mut Ir, node: NodeId) -> Vec<NodeId> {
    if ir.op(node).as_normal().is_none() {
        return ir.operands(node);
    }
    vec![ir.operand(node, 0), scale(ir, node)]
}

/// The standard deviation of a `Normal` node, as a tensor node (literals are folded).
fn scale(ir: &mut Ir, normal: NodeId) -> NodeId {
    let param = ir.op(normal).as_normal().unwrap_or(NormalParam::Scale);
    let p = ir.operand(normal, 1);
    if param == NormalParam::Scale {
        return p;
    }
    let span = ir.node(p).span;
    if let Op::Literal(x) = *ir.op(p) {
        let s = match param {
            NormalParam::Scale => x,
            NormalParam::Var => x.sqrt(),
            NormalParam::LogScale => x.exp(),
            NormalParam::Precision => 1.0 / x.sqrt(),
        };
        return ir.add(Op::Literal(s), span, &[]);
    }
    ir.add(Op::ScaleFrom(param), span, &[p])
}

/// A `Normal` node's op with its scale given as `p`.
pub fn dist(p: NormalParam) -> super::Dist {
    let choice = NormalParam::ALL.iter().position(|q| *q == p).unwrap_or(0) as u8;
    super::Dist { family: &NORMAL, choice }
}

/// The parameterization of a `Normal` node's scale.
pub fn param(choice: u8) -> NormalParam {
    NormalParam::ALL[choice as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_follow_normal_param_order() {
        let alts = NORMAL.slots[1].alternatives;
        assert_eq!(alts.len(), NormalParam::ALL.len());
        for (i, a) in alts.iter().enumerate() {
            assert_eq!(a.keyword, param(i as u8).keyword());
        }
    }
}
