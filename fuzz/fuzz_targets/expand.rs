//! The `kl!` and `kl_fn!` expansions on any text that lexes as Rust tokens: tokens out (a
//! `compile_error!` for malformed input), never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::str::FromStr;

fuzz_target!(|data: &[u8]| {
    let Some((src, mut u)) = kl_fuzz::split(data) else { return };
    let Ok(tokens) = proc_macro2::TokenStream::from_str(src) else { return };
    let out =
        if u.arbitrary::<bool>().unwrap_or(false) { kl_codegen::expand::kl_fn(tokens) } else { kl_codegen::expand::kl(tokens) };
    let _ = out.to_string();
});
