//! `self_kl`: KL(P ‖ P) = 0.
//! Precondition: both sides are the same expression (same ops, same parameters, same literals).

use super::{nodes_where, tensor_ty, Pass};
use crate::ir::{Ir, Op};

pub const PASS: Pass = Pass {
    name: "self_kl",
    identity: "KL(P || P) = 0",
    precondition: "both sides are syntactically identical, of a family whose parameters need no joint check",
    run,
};

fn run(ir: &mut Ir) -> bool {
    let mut changed = false;
    for kl in nodes_where(ir, |op| *op == Op::Kl) {
        let (p, q) = (ir.operand(kl, 0), ir.operand(kl, 1));
        // A family with a rule between its parameters keeps its kernel, whose check states it
        // (and whose value at P = Q is exactly 0).
        let joint = ir.op(super::strip(ir, p).0).family().is_some_and(|f| f.joint_check);
        if ir.same_structure(p, q) && !joint {
            let shape = tensor_ty(ir, kl);
            let zero = ir.add(Op::Zeros(shape), ir.node(kl).span, &[]);
            ir.replace_uses(kl, zero);
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::super::testing::run;
    use super::PASS;

    #[test]
    fn identical_sides_become_zeros() {
        let (changed, out) = run(&PASS, "Normal(m, s).to_event(1) || Normal(m, s).to_event(1) where m, s: [B, 4]");
        assert!(changed);
        assert_eq!(out, "%0 = zeros [B] : [B]\n");
    }

    #[test]
    fn different_parameters_are_left_alone() {
        let (changed, _) = run(&PASS, "Normal(m, s) || Normal(m, t) where m, s, t: [3]");
        assert!(!changed);
        let (changed, _) = run(&PASS, "Normal(0, 1) || Normal(0, 2)");
        assert!(!changed);
        // `high > low` is checked by the kernel, which must stay.
        let (changed, _) = run(&PASS, "Uniform(l, h) || Uniform(l, h) where l, h: [3]");
        assert!(!changed);
    }
}
