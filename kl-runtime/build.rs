//! Enables the AVX-512 lanes of `rows` (`cfg(kl_avx512)`) when the compiler has stable AVX-512
//! intrinsics (Rust 1.89); older compilers within the crate's MSRV build without them.

use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(kl_avx512)");
    println!("cargo::rerun-if-env-changed=RUSTC");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let minor =
        Command::new(rustc).arg("--version").output().ok().and_then(|o| String::from_utf8(o.stdout).ok()).and_then(
            |v| v.split_whitespace().nth(1).and_then(|v| v.split('.').nth(1)).and_then(|m| m.parse::<u32>().ok()),
        );
    if minor.is_some_and(|m| m >= 89) {
        println!("cargo::rustc-cfg=kl_avx512");
    }
}
