//! Parse, lower, check and simplify with fuzzer-chosen shapes for undeclared parameters:
//! `Ok` or diagnostics that render, never a panic, and never an internal error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((src, mut u)) = kl_fuzz::split(data) else { return };
    let env = kl_fuzz::env(src, &mut u);
    match kl_compiler::compile(src, &env) {
        Ok(c) => {
            let _ = kl_compiler::pretty::pretty(&c.lowered);
            let _ = kl_compiler::pretty::pretty(&c.simplified);
        }
        Err(d) => {
            kl_fuzz::assert_no_internal(&d, src);
            let _ = d.render_plain(src);
        }
    }
});
