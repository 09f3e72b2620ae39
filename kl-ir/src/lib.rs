//! The kl compiler as a plain library.
pub mod ast;
pub mod diag;
pub mod parse;
pub mod shape;
pub mod span;
