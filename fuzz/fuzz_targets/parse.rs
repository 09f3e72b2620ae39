//! The nom parser on arbitrary UTF-8: a program or a diagnostic, never a panic; the
//! diagnostic renders, and a program pretty-prints.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    match kl_compiler::parse::parse(src) {
        Ok(program) => {
            let _ = format!("{program:?}");
        }
        Err(e) => {
            let _ = e.render_plain(src);
        }
    }
});
