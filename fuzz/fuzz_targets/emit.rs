//! Every program that compiles is emitted as Rust source and evaluated by the interpreter on
//! small fuzzer-chosen data: results (NaN included) or errors, never a panic, and the emitter
//! never reports an internal error for a checked program.
#![no_main]

use kl_codegen::emit::{emit_source, Dtype, EmitOptions};
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
    if let Ok(Some(inputs)) = kl_fuzz::inputs(&c.simplified, &mut u) {
        if u.arbitrary::<bool>().unwrap_or(false) {
            let inputs = inputs.iter().map(|(k, v)| (k.clone(), v.cast::<f32>())).collect();
            let _ = kl_compiler::interp::evaluate::<f32>(src, &inputs);
        } else {
            let _ = kl_compiler::interp::evaluate::<f64>(src, &inputs);
        }
    }
});
