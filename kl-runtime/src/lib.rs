//! Numeric kernels shared by the code `kl` emits and by its interpreter.
//!
//! Every kernel works on **one batch element** (except those of [`rows`] and [`mvn_rows`], which
//! take a whole batch): the caller loops over the batch and hands in slices. Kernels are generic over [`Real`] (`f32`, `f64`), never allocate (callers pass scratch
//! slices sized by the `scratch_len_*` functions), and never panic on bad numbers: those that can
//! fail return a `Result`, the others propagate NaN. Matrices are row-major `d * d` slices; a
//! "tril" is a lower-triangular scale factor `L` with `Σ = L Lᵀ`, of which only the lower triangle
//! is read.
//!
//! | module | contents |
//! |---|---|
//! | [`real`] | the [`Real`] trait over `f32` / `f64` |
//! | [`scalar`] | univariate normals: [`normal_kl`], [`std_normal_kl`], [`normal_log_prob`], [`normal_entropy`], and [`log1pmx`] behind their stable forms |
//! | [`special`] | `lgamma`, `digamma`, `trigamma`, scaled Bessel `i0e` / `i1e`, and the stable differences `lgamma_diff`, `lgamma_excess`, `digamma_diff`, `digamma_excess` behind the Gamma-family KLs |
//! | [`categorical`] | `Categorical` / `OneHotCategorical` over whole rows of `probs` or `logits`: [`categorical_kl_logits`] and friends, entropies, log-densities, the row checks |
//! | [`logit_rows`] | the logits families on lanes in `f32`: [`bernoulli_kl_logits_rows`] over a batch, the `Categorical` logits row, each with its error bound and the careful `f64` path for what it does not cover |
//! | [`dense`] | [`cholesky`], triangular solves, [`precision_to_scale_tril`], [`lowrank_covariance`] |
//! | [`gaussian`] | multivariate normals: [`mvn_kl_tril`], [`diag_tril_kl`], [`tril_diag_kl`], [`mvn_log_prob_tril`], [`mvn_entropy_tril`] |
//! | [`fixed`] | the same for sizes known at compile time: [`cholesky_n`], [`mvn_kl_tril_n`], .. |
//! | [`rows`] | whole batches of diagonal Gaussians in one pass, validation fused, SIMD lanes chosen at run time: [`normal_kl_rows`], [`std_normal_kl_rows`], [`normal_log_prob_rows`] |
//! | [`mvn_rows`] | whole batches of multivariate KLs (scale_tril, diagonal against scale_tril, covariance) on SIMD lanes that hold different batch elements: [`tril_kl_rows`], [`diag_tril_kl_rows`], [`cov_kl_rows`] |
//! | [`batch`] | driving generated functions over chunks of a batch (and threads, `rayon` feature) |
//! | [`error`] | [`Error`] and [`Rule`]: the data error checked entry points report |
//! | [`validate`] | the parameter checks that build those errors |
//!
//! ```
//! use kl_runtime::{cholesky, mvn_kl_tril, scratch_len_mvn_kl_tril, normal_kl};
//!
//! // KL between two 2-d normals given by covariance matrices: factor, then compare factors.
//! let (c1, c2) = ([1.0_f64, 0.0, 0.0, 4.0], [2.0, 0.0, 0.0, 4.0]);
//! let (mut l1, mut l2) = ([0.0; 4], [0.0; 4]);
//! cholesky(&c1, 2, &mut l1)?;
//! cholesky(&c2, 2, &mut l2)?;
//! let mut scratch = [0.0; scratch_len_mvn_kl_tril(2)];
//! let kl = mvn_kl_tril(&[0.0, 1.0], &l1, &[0.0, 1.0], &l2, 2, &mut scratch);
//!
//! // Diagonal covariances: the KL is a sum of univariate ones.
//! let expected = normal_kl(0.0, 1.0, 0.0, 2.0_f64.sqrt()) + normal_kl(1.0, 2.0, 1.0, 2.0);
//! assert!((kl - expected).abs() < 1e-15);
//! # Ok::<(), kl_runtime::NotPositiveDefinite>(())
//! ```

pub mod batch;
pub mod beta;
pub mod categorical;
pub mod cauchy;
pub mod continuous_bernoulli;
pub mod cross;
pub mod cshape;
pub mod dense;
pub mod dirichlet;
pub mod discrete;
pub mod error;
pub mod exponential;
pub mod fixed;
pub mod gamma;
pub mod gaussian;
pub mod grad;
pub mod gumbel;
pub mod half_normal;
pub mod input;
pub mod laplace;
pub mod logit_rows;
pub mod lognormal;
pub mod mvn_rows;
pub mod param;
pub mod pareto;
pub mod real;
pub mod rows;
pub mod scalar;
mod simd;
pub mod spd;
pub mod special;
pub mod student_t;
#[doc(hidden)]
pub mod testing;
pub mod uniform;
pub mod validate;
pub mod von_mises;

pub use batch::{
    all_binary, all_counts, all_finite, all_nonnegative, all_positive, all_unit_interval, chunk_rows, for_each_chunk,
    kernel_chunk_rows,
};
pub use beta::*;
pub use categorical::*;
pub use cauchy::*;
pub use continuous_bernoulli::*;
pub use cross::*;
pub use cshape::{shape_of, CDist, CShape};
pub use dense::*;
pub use dirichlet::*;
pub use discrete::*;
pub use error::*;
pub use exponential::*;
pub use fixed::*;
pub use gamma::*;
pub use gaussian::*;
pub use grad::*;
pub use gumbel::*;
pub use half_normal::*;
pub use input::*;
pub use laplace::*;
pub use logit_rows::{bernoulli_kl_logits_rows, categorical_kl_logits_rows};
pub use lognormal::*;
pub use mvn_rows::{cov_kl_rows, diag_tril_kl_rows, tril_kl_rows, COV_MAX, TRIL_MAX};
pub use param::*;
pub use pareto::*;
pub use real::*;
pub use rows::{normal_kl_rows, normal_log_prob_rows, std_normal_kl_rows};
pub use scalar::*;
pub use spd::*;
pub use student_t::*;
pub use uniform::*;
pub use validate::*;
pub use von_mises::*;
