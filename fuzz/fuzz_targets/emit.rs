//! Every program that compiles is emitted as Rust source (the value and the vector–Jacobian
//! product) and evaluated by the interpreter on small fuzzer-chosen data, value and reverse-mode
//! gradient: results (NaN included) or errors, never a panic; the emitter never reports an
//! internal error for a checked program; every gradient has its parameter's shape, and the
//! value that comes with the gradients is the plain evaluation's, bit for bit.
#![no_main]

use kl_codegen::emit::{emit_source, emit_vjp_source, Dtype, EmitOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((src, mut u)) = kl_fuzz::split(data) else { return };
    let env = kl_fuzz::env(src, &mut u);
    let Ok(c) = kl_compiler::compile(src, &env) else { return };
    let dtype = match u.int_in_range(0u8..=2).unwrap_or(0) {
        0 => None,
        1 => Some(Dtype::F32),
        _ => Some(Dtype::F64),
    };
    let opts = EmitOptions { dtype, ..EmitOptions::default() };
    if let Err(d) = emit_source(&c.simplified, &opts) {
        kl_fuzz::assert_no_internal(&d, src);
    }
    if let Err(d) = emit_vjp_source(&c.simplified, &opts) {
        kl_fuzz::assert_no_internal(&d, src);
    }
    if let Ok(Some(inputs)) = kl_fuzz::inputs(&c.simplified, &mut u) {
        if u.arbitrary::<bool>().unwrap_or(false) {
            let inputs = inputs.iter().map(|(k, v)| (k.clone(), v.cast::<f32>())).collect();
            let _ = kl_compiler::interp::evaluate::<f32>(src, &inputs);
        } else {
            let _ = kl_compiler::interp::evaluate::<f64>(src, &inputs);
            let plain = kl_compiler::interp::eval::<f64>(&c.simplified, &inputs);
            if let Ok((value, grads)) = kl_compiler::grad::value_and_grad::<f64>(&c.simplified, &inputs, None) {
                for (name, g) in &grads {
                    assert_eq!(Some(&g.shape), inputs.get(name).map(|t| &t.shape), "{src}: d/d{name}");
                }
                if let Ok(v) = plain {
                    let same = v.shape == value.shape
                        && v.data.iter().zip(&value.data).all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{src}: {v:?} vs {value:?}");
                }
            }
        }
    }
});
