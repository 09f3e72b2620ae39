//! Code generation for kl, on top of `kl-compiler`:
//!
//! - [`emit`]: a simplified, checked IR becomes the Rust source of one specialized function
//!   (`klc emit`, the `kl_fn!` items, `kl!` with declared shapes, the emitted-code tests);
//! - [`expand`]: what the `kl!` and `kl_fn!` macros expand to.
//!
//! Only the proc-macro crate and `klc` depend on this crate, so the programs of `kl` users never
//! compile or link syn, quote or prettyplease.
// Diagnostics travel on the cold path only, by value; their size does not matter there.
#![allow(clippy::result_large_err)]

pub mod emit;
pub mod expand;
