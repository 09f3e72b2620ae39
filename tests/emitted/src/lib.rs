//! The functions `kl_codegen::emit` generates for every `tests/inputs/*.kl` (and the local
//! `tests/emitted/inputs/*.kl`), compiled as ordinary Rust, with adapters that take their
//! arguments as slices so the differential test can call all of them alike.
//!
//! `build.rs` writes `generated.rs` (generic over `T: Real`) and `generated_f32.rs` (a few with
//! `dtype: Some(F32)`).

/// The generic functions, one per input.
pub mod generic {
    include!(concat!(env!("OUT_DIR"), "/generated.rs"));
}

/// `dtype: Some(F32)` versions of a few inputs.
pub mod f32 {
    include!(concat!(env!("OUT_DIR"), "/generated_f32.rs"));
}

/// One generic function per mpmath reference case, shapes fixed by its data.
pub mod reference {
    include!(concat!(env!("OUT_DIR"), "/reference.rs"));
}

/// `kl_fn!` items as a user's crate has them: `RUSTDOCFLAGS="-D warnings" cargo doc --workspace`
/// (run by CI) checks the documentation they generate (shapes such as `[B, 3]` must not read as
/// links).
pub mod items {
    kl::kl_fn! {
        /// Per-row KL between diagonal Gaussians.
        pub fn diag_kl(m1: [B, 3], s1: [B, 3], m2: [B, 3], s2: [B, 3]) -> f64 {
            Normal(m1, s1).to_event(1) || Normal(m2, s2).to_event(1)
        }
    }

    kl::kl_fn! {
        /// Full covariance against a Cholesky factor, one `[T, B]` batch.
        pub fn cov_tril_kl(m1: [T, B, 2], c1: [T, B, 2, 2], m2: [2], l2: [2, 2]) -> f32 {
            MultivariateNormal(m1, covariance_matrix=c1) || MultivariateNormal(m2, scale_tril=l2)
        }
    }

    kl::kl_fn! {
        /// Log-density of a shared diagonal Gaussian at each row of `x`.
        pub fn diag_log_prob(m: [4], s: [4], x: [N, 4]) -> f64 {
            log_prob(Normal(m, s).to_event(1), x)
        }
    }
}

/// Calls an emitted function with parameters and dims given as slices (in the function's
/// argument order, `kl_codegen::emit::arguments`).
pub type Call<T> = fn(&[&[T]], &[usize], &mut [T]) -> Result<(), kl_runtime::Error>;

/// Calls an emitted VJP: parameters, dims, the upstream gradient, the value buffer and one
/// gradient buffer per parameter (all in the function's argument order).
pub type VjpCall<T> = fn(&[&[T]], &[usize], &[T], &mut [T], &mut [Vec<T>]) -> Result<(), kl_runtime::Error>;

/// One input file and its emitted function.
pub struct Case<T: 'static> {
    /// The file stem (also the function name, up to deduplication).
    pub name: &'static str,
    pub path: &'static str,
    pub src: &'static str,
    pub checked: Call<T>,
    pub unchecked: Call<T>,
}
