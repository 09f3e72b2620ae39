//! Rust values as kl parameters: the [`Input`] trait tells a parameter's element type, its shape
//! as far as the Rust type fixes it (for compile-time shape checks), its actual sizes, and its
//! values in row-major order (for the kernels).
//!
//! Scalars, fixed-size arrays nested up to three deep, slices and `Vec`s of those, references and
//! boxes implement it; with the `ndarray` feature, so do ndarray arrays of dimension 0 to 6.
//!
//! ```
//! use kl_runtime::{dims_of, Input, DYN};
//!
//! let batch: Vec<[f64; 3]> = vec![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
//! assert_eq!(<Vec<[f64; 3]> as Input>::RANK, 2);
//! assert_eq!(<Vec<[f64; 3]> as Input>::DIMS[..2], [DYN, 3]);
//! assert_eq!(dims_of(&batch), [2, 3]);
//! assert_eq!(*batch.flat(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
//! ```

use std::borrow::Cow;

use crate::real::Real;

/// The largest rank a parameter (or any shape kl works with) may have.
pub const MAX_RANK: usize = 8;

/// A dim whose size the Rust type leaves to run time (the length of a slice or `Vec`).
pub const DYN: usize = usize::MAX;

/// A Rust value usable as a kl parameter: a tensor of [`Real`] elements.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a kl parameter",
    label = "not a kl parameter",
    note = "kl accepts f32/f64 scalars, fixed-size arrays ([T; N], [[T; N]; M], ..), Vec<T>, Vec<[T; N]>, slices of those, and ndarray arrays with the `ndarray` feature"
)]
pub trait Input {
    /// The element type, `f32` or `f64`.
    type Elem: Real;
    /// The rank.
    const RANK: usize;
    /// The static dims, outermost first: [`DYN`] where the type leaves a size to run time;
    /// entries past `RANK` are 0.
    const DIMS: [usize; MAX_RANK];
    /// The actual sizes, outermost first (entries past `RANK` are 0).
    fn dims(&self) -> [usize; MAX_RANK];
    /// The values in row-major order, borrowed whenever the memory already is row-major
    /// contiguous.
    fn flat(&self) -> Cow<'_, [Self::Elem]>;
}

/// The actual shape of `x`: its first `RANK` sizes.
pub fn dims_of<I: Input + ?Sized>(x: &I) -> Vec<usize> {
    x.dims()[..I::RANK].to_vec()
}

/// `dims` padded with zeros to [`MAX_RANK`] entries (`dims` has at most that many: every impl
/// here has rank <= 7).
const fn pad(dims: &[usize]) -> [usize; MAX_RANK] {
    let mut out = [0; MAX_RANK];
    let mut i = 0;
    while i < dims.len() {
        out[i] = dims[i];
        i += 1;
    }
    out
}

macro_rules! impl_scalar {
    ($($t:ty),*) => {$(
        impl Input for $t {
            type Elem = $t;
            const RANK: usize = 0;
            const DIMS: [usize; MAX_RANK] = [0; MAX_RANK];
            fn dims(&self) -> [usize; MAX_RANK] {
                Self::DIMS
            }
            fn flat(&self) -> Cow<'_, [$t]> {
                Cow::Borrowed(core::slice::from_ref(self))
            }
        }
    )*};
}
impl_scalar!(f32, f64);

// Coherence accepts `[T; N]` next to `[[T; N]; M]` (and `Vec<T>` next to `Vec<[T; N]>`) because
// `Real` is a local trait and no crate can implement it for an array type: arrays are not
// fundamental, so the impls cannot overlap.

impl<T: Real, const N: usize> Input for [T; N] {
    type Elem = T;
    const RANK: usize = 1;
    const DIMS: [usize; MAX_RANK] = pad(&[N]);
    fn dims(&self) -> [usize; MAX_RANK] {
        Self::DIMS
    }
    fn flat(&self) -> Cow<'_, [T]> {
        Cow::Borrowed(self)
    }
}

impl<T: Real, const N: usize, const M: usize> Input for [[T; N]; M] {
    type Elem = T;
    const RANK: usize = 2;
    const DIMS: [usize; MAX_RANK] = pad(&[M, N]);
    fn dims(&self) -> [usize; MAX_RANK] {
        Self::DIMS
    }
    fn flat(&self) -> Cow<'_, [T]> {
        Cow::Borrowed(self.as_flattened())
    }
}

impl<T: Real, const N: usize, const M: usize, const K: usize> Input for [[[T; N]; M]; K] {
    type Elem = T;
    const RANK: usize = 3;
    const DIMS: [usize; MAX_RANK] = pad(&[K, M, N]);
    fn dims(&self) -> [usize; MAX_RANK] {
        Self::DIMS
    }
    fn flat(&self) -> Cow<'_, [T]> {
        Cow::Borrowed(self.as_flattened().as_flattened())
    }
}

impl<T: Real> Input for [T] {
    type Elem = T;
    const RANK: usize = 1;
    const DIMS: [usize; MAX_RANK] = pad(&[DYN]);
    fn dims(&self) -> [usize; MAX_RANK] {
        pad(&[self.len()])
    }
    fn flat(&self) -> Cow<'_, [T]> {
        Cow::Borrowed(self)
    }
}

impl<T: Real, const N: usize> Input for [[T; N]] {
    type Elem = T;
    const RANK: usize = 2;
    const DIMS: [usize; MAX_RANK] = pad(&[DYN, N]);
    fn dims(&self) -> [usize; MAX_RANK] {
        pad(&[self.len(), N])
    }
    fn flat(&self) -> Cow<'_, [T]> {
        Cow::Borrowed(self.as_flattened())
    }
}

impl<T: Real, const N: usize, const M: usize> Input for [[[T; N]; M]] {
    type Elem = T;
    const RANK: usize = 3;
    const DIMS: [usize; MAX_RANK] = pad(&[DYN, M, N]);
    fn dims(&self) -> [usize; MAX_RANK] {
        pad(&[self.len(), M, N])
    }
    fn flat(&self) -> Cow<'_, [T]> {
        Cow::Borrowed(self.as_flattened().as_flattened())
    }
}

/// A `Vec` is its slice.
macro_rules! impl_vec {
    ($([$($g:tt)*] $elem:ty;)*) => {$(
        impl<$($g)*> Input for Vec<$elem> {
            type Elem = T;
            const RANK: usize = <[$elem] as Input>::RANK;
            const DIMS: [usize; MAX_RANK] = <[$elem] as Input>::DIMS;
            fn dims(&self) -> [usize; MAX_RANK] {
                self.as_slice().dims()
            }
            fn flat(&self) -> Cow<'_, [T]> {
                self.as_slice().flat()
            }
        }
    )*};
}
impl_vec! {
    [T: Real] T;
    [T: Real, const N: usize] [T; N];
    [T: Real, const N: usize, const M: usize] [[T; N]; M];
}

/// References and boxes are what they point to.
macro_rules! impl_pointer {
    ($($p:ty),*) => {$(
        impl<U: Input + ?Sized> Input for $p {
            type Elem = U::Elem;
            const RANK: usize = U::RANK;
            const DIMS: [usize; MAX_RANK] = U::DIMS;
            fn dims(&self) -> [usize; MAX_RANK] {
                (**self).dims()
            }
            fn flat(&self) -> Cow<'_, [U::Elem]> {
                (**self).flat()
            }
        }
    )*};
}
impl_pointer!(&U, &mut U, Box<U>);

/// ndarray arrays of a fixed dimension (`Ix0` to `Ix6`): every size is known only at run time.
#[cfg(feature = "ndarray")]
impl<S, T, const N: usize> Input for ndarray::ArrayBase<S, ndarray::Dim<[usize; N]>>
where
    S: ndarray::Data<Elem = T>,
    T: Real,
    ndarray::Dim<[usize; N]>: ndarray::Dimension,
{
    type Elem = T;
    const RANK: usize = N;
    const DIMS: [usize; MAX_RANK] = {
        let mut dims = [0; MAX_RANK];
        let mut i = 0;
        while i < N {
            dims[i] = DYN;
            i += 1;
        }
        dims
    };
    fn dims(&self) -> [usize; MAX_RANK] {
        pad(self.shape())
    }
    fn flat(&self) -> Cow<'_, [T]> {
        match self.as_slice() {
            Some(s) => Cow::Borrowed(s),
            // Not in standard layout (a transposed or strided view): copy in logical order.
            None => Cow::Owned(self.iter().copied().collect()),
        }
    }
}
