//! `cse`: common subexpressions are computed once.
//! Identity: two nodes with the same op and the same operands are the same value.
//! Precondition: none (parameters are already unique by name); this is how one Cholesky
//! serves every use of a matrix.

use super::Pass;
use crate::ir::Ir;
use std::collections::HashMap;

pub const PASS: Pass = Pass { name: "cse", identity: "f(x..) and f(x..) are one node", precondition: "always", run };

fn run(ir: &mut Ir) -> bool {
    let mut seen: HashMap<String, crate::ir::NodeId> = HashMap::new();
    let mut changed = false;
    for id in ir.topo_order() {
        // Operands were already merged (operand-before-user order), so the key is canonical.
        let key = format!("{:?}{:?}", ir.op(id), ir.operands(id));
        match seen.get(&key) {
            Some(&first) => {
                ir.replace_uses(id, first);
                changed = true;
            }
            None => {
                seen.insert(key, id);
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::super::closed_form;
    use super::super::testing::lowered;
    use super::PASS;

    #[test]
    fn identical_nodes_are_computed_once() {
        let mut ir = lowered("Normal(a, 2) || Normal(b, 2) where a, b: [B, 3]");
        (closed_form::PASS.run)(&mut ir);
        ir.collect_garbage();
        crate::check::check(&mut ir).unwrap();
        let before = crate::pretty::pretty(&ir);
        assert_eq!(before.matches("literal 2").count(), 2, "{before}");
        assert!((PASS.run)(&mut ir));
        ir.collect_garbage();
        crate::check::check(&mut ir).unwrap();
        let after = crate::pretty::pretty(&ir);
        assert_eq!(after.matches("literal 2").count(), 1, "{after}");
        assert!(after.ends_with("normal_kl(m1=%0, scale1=%1, m2=%2, scale2=%1) : [B, 3]\n"), "{after}");
    }

    #[test]
    fn equal_literals_merge_but_different_ones_do_not() {
        let mut ir = lowered("Normal(a, 2) || Normal(b, 2.5) where a, b: [3]");
        (closed_form::PASS.run)(&mut ir);
        ir.collect_garbage();
        crate::check::check(&mut ir).unwrap();
        assert!(!(PASS.run)(&mut ir));
    }
}
