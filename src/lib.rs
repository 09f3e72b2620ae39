//! # kl: compile-time checked divergences between probability distributions
//!
//! Write the distribution expression in Rust source; `kl` checks its shapes while your crate
//! compiles, picks the closed form, and runs specialized code:
//!
//! ```
//! use kl::kl;
//!
//! let (mu1, s1) = ([0.0_f64, 0.5, -1.0], [1.0, 0.5, 2.0]);
//! let (mu2, s2) = ([0.0_f64, 0.0, 0.0], [1.0, 1.0, 1.0]);
//! let d = kl!(Normal(mu1,s1).to_event(1) || Normal(mu2,s2).to_event(1)).unwrap();
//! // The event dim is summed: one KL for the whole vector.
//! let by_hand: f64 = (0..3)
//!     .map(|i| (s2[i] / s1[i]).ln() + (s1[i] * s1[i] + (mu1[i] - mu2[i]).powi(2)) / (2.0 * s2[i] * s2[i]) - 0.5)
//!     .sum();
//! assert!((d.scalar().unwrap() - by_hand).abs() < 1e-12);
//! ```
//!
//! Shapes come from the arguments' Rust types (`[f64; 3]`, `[[f32; 8]; 4]`, `Vec<[f64; 8]>`,
//! `&[[f64; 8]]`, `ndarray` arrays with the `ndarray` feature) or, for flat buffers, from a
//! `where` clause inside the macro: `kl!(Normal(m, s) || Normal(0, 1) where m, s: [B])`.
//! A shape error is a compile error naming both shapes. Bad values (a scale `<= 0`, NaN, a
//! covariance that is not positive definite) are a [`Error`] naming the parameter, the batch
//! index and the rule, never a panic or a silent NaN.
//!
//! - [`kl!`] evaluates one expression where it stands: KL (`P || Q`), `log_prob(P, x)` or
//!   `entropy(P)`; the result is a [`Tensor`] of the batch shape.
//! - [`kl_fn!`] defines named functions for hot loops: a checked one returning a [`Tensor`],
//!   `NAME_into` writing into a caller's buffer, and `NAME_into_unchecked` skipping validation.
//!   All three take the parameters in the order the signature declares them.
//!
//! The language, its shape rules and the compiler are documented in the repository README and
//! in [`compiler`]; the numeric kernels in [`runtime`].

pub use kl_compiler as compiler;
pub use kl_compiler::interp::Tensor;
pub use kl_macros::{kl, kl_fn};
pub use kl_runtime as runtime;
pub use kl_runtime::{Error, Input, Rule};

#[doc(hidden)]
pub mod __private;
