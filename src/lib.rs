//! `kl`: compile-time checked divergences between probability distributions.
pub use kl_ir as ir;
pub use kl_runtime as runtime;
