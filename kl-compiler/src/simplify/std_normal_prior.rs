//! `std_normal_prior`: KL against the standard normal, the VAE closed form.
//! Identity: KL(N(m, s²) ‖ N(0, 1)) = ½(m² + s² − 1) − ln s, evaluated stably as
//! ½m² + ½u² − log1pmx(u) with u = s − 1.
//! Precondition: an elementwise normal KL whose right side is the literals loc 0, scale 1.

use super::{nodes_where, Pass};
use crate::family::normal;
use crate::ir::{Ir, NormalParam, Op};
use crate::kernel::KernelOp;

pub const PASS: Pass = Pass {
    name: "std_normal_prior",
    identity: "normal_kl(m, s, 0, 1) = 0.5*m^2 + 0.5*(s^2 - 1) - ln s",
    precondition: "the right side is Normal(0, 1) given by literals (expanded or not)",
    run,
};

fn run(ir: &mut Ir) -> bool {
    let mut changed = false;
    // `normal_kl` with the right side's scale given as a scale.
    let scale = normal::attrs(NormalParam::Scale, NormalParam::Scale)[1];
    let is_normal_kl = |op: &Op| matches!(op, Op::Kernel(k) if *k.kernel == normal::NORMAL_KL && k.attrs[1] == scale);
    for kl in nodes_where(ir, is_normal_kl) {
        let Op::Kernel(k) = *ir.op(kl) else { continue };
        let ops = ir.operands(kl);
        if *ir.op(ops[2]) == Op::Literal(0.0) && *ir.op(ops[3]) == Op::Literal(1.0) {
            let op = Op::Kernel(KernelOp { kernel: &normal::STD_NORMAL_KL, attrs: [k.attrs[0], 0] });
            let std = ir.add(op, ir.node(kl).span, &[ops[0], ops[1]]);
            ir.replace_uses(kl, std);
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::super::testing::lowered;
    use super::super::{closed_form, independent_sum};
    use super::PASS;

    #[test]
    fn expanded_standard_prior_becomes_the_vae_form() {
        let mut ir = lowered("Normal(m, s).to_event(1) || Normal(0, 1).expand([4]).to_event(1) where m, s: [B, 4]");
        for pass in [&independent_sum::PASS, &closed_form::PASS] {
            (pass.run)(&mut ir);
            ir.collect_garbage();
            crate::check::check(&mut ir).unwrap();
        }
        assert!((PASS.run)(&mut ir));
        ir.collect_garbage();
        crate::check::check(&mut ir).unwrap();
        assert_eq!(
            crate::pretty::pretty(&ir),
            "%0 = param m : [B, 4]\n%1 = param s : [B, 4]\n%2 = std_normal_kl(m=%0, scale=%1) : [B, 4]\n\
             %3 = sum_last[1] of [B, 4](x=%2) : [B]\n"
        );
    }

    #[test]
    fn other_priors_keep_the_general_kernel() {
        let mut ir = lowered("Normal(m, s) || Normal(0, 2) where m, s: [4]");
        (closed_form::PASS.run)(&mut ir);
        ir.collect_garbage();
        crate::check::check(&mut ir).unwrap();
        assert!(!(PASS.run)(&mut ir));
    }
}
