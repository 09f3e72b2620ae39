//! The functions `kl_ir::emit` generates for every `tests/inputs/*.kl` (and the local
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

/// Calls an emitted function with parameters and dims given as slices (sorted as the
/// function's arguments are).
pub type Call<T> = fn(&[&[T]], &[usize], &mut [T]) -> Result<(), kl_runtime::Error>;

/// One input file and its emitted function.
pub struct Case<T: 'static> {
    /// The file stem (also the function name, up to deduplication).
    pub name: &'static str,
    pub path: &'static str,
    pub src: &'static str,
    pub checked: Call<T>,
    pub unchecked: Call<T>,
}
