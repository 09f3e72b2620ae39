//! Parameter inputs and the compile-time shape rules: [`kl_runtime::Input`] on every supported
//! Rust type, and every rule of [`kl_runtime::cshape`] accepting and rejecting.

mod cshape;
mod input;
