//! The kl compiler as a plain library.
pub mod ast;
pub mod check;
pub mod diag;
pub mod ir;
pub mod lower;
pub mod parse;
pub mod pretty;
pub mod shape;
pub mod simplify;
pub mod span;
