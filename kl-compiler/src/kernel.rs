//! Kernels as data: one [`Kernel`] descriptor per closed-form kernel gives its operands, what it
//! computes, its runtime function (for the interpreter as a function pointer, for the emitter
//! as a call it writes out), its batched row form, its formula for `klc explain` and its labels
//! in the pretty IR. The interpreter, the emitter and `explain` read the descriptor, so a new
//! kernel changes no stage: it is a runtime function plus a descriptor in its family's file.
//!
//! Descriptors cover the elementwise (scalar) kernels; the multivariate Gaussian kernels
//! (`tril_kl` and friends, which take matrix blocks and scratch space) are still `Op` variants.

use std::fmt;

/// Static parameters of a kernel node (for the normal kernels: how each side's scale is given,
/// as `NormalParam` indices). Part of the node's identity.
pub type Attrs = [u8; 2];

/// What a kernel's value is, for `explain`'s left-hand side (`KL[b] = ..`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    Kl,
    LogProb,
    Entropy,
}

impl Quantity {
    /// The symbol `explain` writes.
    pub fn symbol(self) -> &'static str {
        match self {
            Quantity::Kl => "KL",
            Quantity::LogProb => "log_prob",
            Quantity::Entropy => "H",
        }
    }
}

/// One argument of an emitted runtime call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallArg {
    /// The element of operand `slot`.
    Operand(usize),
    /// `kl_runtime::ScaleParam::{name}`.
    ScaleParam(&'static str),
    /// The element type's zero and one.
    Zero,
    One,
}

/// The runtime call emitted code makes for one element: `kl_runtime::{runtime}(args..)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub runtime: &'static str,
    pub args: Vec<CallArg>,
}

impl Call {
    /// `runtime(operand 0, operand 1, ..)`.
    pub fn operands(runtime: &'static str, n: usize) -> Call {
        Call { runtime, args: (0..n).map(CallArg::Operand).collect() }
    }
}

/// A batched row kernel of the runtime: `sum_last` of the kernel over rows of `d` contiguous
/// elements of full-shape inputs, validated in the same pass (`kl_runtime::rows`).
pub struct Rows {
    pub runtime: &'static str,
    pub f64: RowsFn<f64>,
    pub f32: RowsFn<f32>,
    /// Whether it also serves the kernel itself at the root, unsummed (`d = 1`): for kernels
    /// whose elementwise loop would not vectorize.
    pub elementwise: bool,
}

impl Rows {
    /// Run it in the precision of `T`; `false` when it declines (an invalid value, lengths that
    /// disagree).
    pub fn call<T: kl_runtime::Real>(&self, d: usize, inputs: &[&[T]], out: &mut [T], check: bool) -> bool {
        if let (Some(ins), Some(o)) =
            (inputs.iter().map(|s| same::<T, f64>(s)).collect::<Option<Vec<_>>>(), same_mut::<T, f64>(out))
        {
            return (self.f64)(d, &ins, o, check);
        }
        if let (Some(ins), Some(o)) =
            (inputs.iter().map(|s| same::<T, f32>(s)).collect::<Option<Vec<_>>>(), same_mut::<T, f32>(out))
        {
            return (self.f32)(d, &ins, o, check);
        }
        false
    }
}

/// `f(d, inputs, out, check)`: every row of `out` from `d` elements of each input; `false` when
/// it declines (see `kl_runtime::rows`).
pub type RowsFn<T> = fn(usize, &[&[T]], &mut [T], bool) -> bool;

/// What a formula is written with: the operands as atoms, and named sub-terms.
pub trait Formula {
    /// Operand `slot` as written (a parameter, a literal, or a defined name).
    fn arg(&mut self, slot: usize) -> String;
    /// A fresh name from `base`, defined by the line `body(name)`.
    fn define(&mut self, base: &str, body: &dyn Fn(&str) -> String) -> String;
}

/// An elementwise kernel: one scalar per element from one scalar per operand (operands
/// broadcast).
pub struct Kernel {
    /// Its name in the IR and in `explain`.
    pub name: &'static str,
    /// Operand names, in slot order (also the arity).
    pub operands: &'static [&'static str],
    pub quantity: Quantity,
    /// The call emitted code makes at these attributes.
    pub call: fn(Attrs) -> Call,
    /// The same function, for the interpreter.
    pub f64: fn(&[f64], Attrs) -> f64,
    pub f32: fn(&[f32], Attrs) -> f32,
    /// The name of its value in emitted code.
    pub hint: &'static str,
    /// The formula `explain` prints.
    pub formula: fn(&mut dyn Formula, Attrs) -> String,
    /// An operand's label in the pretty IR when the attributes rename it (`var1` for `s1`).
    pub label: fn(usize, Attrs) -> Option<String>,
    /// The batched row kernel for `sum_last` of it, at these attributes.
    pub rows: fn(Attrs) -> Option<&'static Rows>,
    /// Its closed-form adjoint: the partial derivative of its value with respect to each
    /// operand at a point (reverse mode multiplies them by the upstream gradient).
    pub adjoint: Adjoint,
    /// The rules between its operands that no single parameter's role can state (`Uniform`'s
    /// `high > low`, a `log_prob` value inside a support that depends on the parameters),
    /// checked at every element before the value is used.
    pub check: Option<Check>,
}

/// `f(operands)`: which operand breaks which rule between them, if any
/// (`kl_runtime::uniform_kl_check` and friends).
pub struct Check {
    /// The runtime function emitted code calls with the operands' elements.
    pub runtime: &'static str,
    pub f64: fn(&[f64]) -> Result<(), kl_runtime::Violation>,
    pub f32: fn(&[f32]) -> Result<(), kl_runtime::Violation>,
}

/// `f(operands, attrs, partials)`: writes `∂value/∂operand` into `partials`, one per operand.
pub struct Adjoint {
    /// The call emitted code makes for the partials at one element: a runtime function that
    /// returns them as an array `[T; operands]`, in slot order.
    pub call: fn(Attrs) -> Call,
    pub f64: fn(&[f64], Attrs, &mut [f64]),
    pub f32: fn(&[f32], Attrs, &mut [f32]),
}

// Descriptors are singletons: the same kernel when the names are.
impl PartialEq for Kernel {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl fmt::Debug for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kernel({})", self.name)
    }
}

/// A kernel node: the descriptor and its attributes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KernelOp {
    pub kernel: &'static Kernel,
    pub attrs: Attrs,
}

impl KernelOp {
    pub fn new(kernel: &'static Kernel) -> KernelOp {
        KernelOp { kernel, attrs: [0, 0] }
    }

    /// Evaluate at one element, in the precision of `T` (`f32` or `f64`).
    pub fn call<T: kl_runtime::Real>(&self, args: &[T]) -> T {
        // The conversions are exact: `T` is the type the function computes in.
        if let Some(a) = same::<T, f64>(args) {
            T::from_f64((self.kernel.f64)(a, self.attrs))
        } else if let Some(a) = same::<T, f32>(args) {
            T::from_f64(f64::from((self.kernel.f32)(a, self.attrs)))
        } else {
            T::NAN
        }
    }

    /// The partial derivatives at one element, in the precision of `T`, into `partials`.
    pub fn partials<T: kl_runtime::Real>(&self, args: &[T], partials: &mut [T]) {
        let adj = &self.kernel.adjoint;
        if let (Some(a), Some(p)) = (same::<T, f64>(args), same_mut::<T, f64>(partials)) {
            (adj.f64)(a, self.attrs, p);
        } else if let (Some(a), Some(p)) = (same::<T, f32>(args), same_mut::<T, f32>(partials)) {
            (adj.f32)(a, self.attrs, p);
        }
    }

    /// The first rule between the operands `args` break (see [`Kernel::check`]).
    pub fn violation<T: kl_runtime::Real>(&self, args: &[T]) -> Option<kl_runtime::Violation> {
        let check = self.kernel.check.as_ref()?;
        if let Some(a) = same::<T, f64>(args) {
            (check.f64)(a).err()
        } else if let Some(a) = same::<T, f32>(args) {
            (check.f32)(a).err()
        } else {
            None
        }
    }

    /// Run the batched row kernel, in the precision of `T`; `false` when it declines (an invalid
    /// value, lengths that disagree, or no row kernel at these attributes).
    pub fn rows<T: kl_runtime::Real>(&self, d: usize, inputs: &[&[T]], out: &mut [T], check: bool) -> bool {
        (self.kernel.rows)(self.attrs).is_some_and(|rows| rows.call(d, inputs, out, check))
    }
}

/// `s` as a slice of `U` when `T` is `U`.
fn same<T: 'static, U: 'static>(s: &[T]) -> Option<&[U]> {
    // SAFETY: `T` and `U` are the same type, so the layout and the lifetime carry over.
    (std::any::TypeId::of::<T>() == std::any::TypeId::of::<U>())
        .then(|| unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<U>(), s.len()) })
}

fn same_mut<T: 'static, U: 'static>(s: &mut [T]) -> Option<&mut [U]> {
    // SAFETY: as in `same`; the exclusive borrow moves into the result.
    (std::any::TypeId::of::<T>() == std::any::TypeId::of::<U>())
        .then(|| unsafe { std::slice::from_raw_parts_mut(s.as_mut_ptr().cast::<U>(), s.len()) })
}

/// The descriptor of an elementwise kernel whose runtime function and adjoint take the
/// operands in order and have no attributes:
///
/// ```ignore
/// scalar_kernel! {
///     name: "laplace_kl", quantity: Kl, hint: "kl",
///     runtime: laplace_kl, adjoint: laplace_kl_grad,
///     operands: [m1 = 0, b1 = 1, m2 = 2, b2 = 3],
///     formula: |m1, b1, m2, b2| format!(".."),
/// }
/// ```
macro_rules! scalar_kernel {
    (
        name: $name:literal, quantity: $q:ident, hint: $hint:literal,
        runtime: $rt:ident, adjoint: $grad:ident,
        operands: [$($op:ident = $i:literal),+ $(,)?],
        formula: |$($arg:ident),+| $formula:expr
        $(, rows: $rows:expr)? $(, check: $check:ident)? $(,)?
    ) => {
        $crate::kernel::Kernel {
            name: $name,
            operands: &[$(stringify!($op)),+],
            quantity: $crate::kernel::Quantity::$q,
            call: |_| $crate::kernel::Call::operands(stringify!($rt), [$($i),+].len()),
            f64: |a, _| kl_runtime::$rt($(a[$i]),+),
            f32: |a, _| kl_runtime::$rt($(a[$i]),+),
            hint: $hint,
            formula: |f, _| {
                let [$($arg),+] = [$(f.arg($i)),+];
                $formula
            },
            label: $crate::kernel::no_labels,
            rows: $crate::kernel::rows_or_none!($($rows)?),
            adjoint: $crate::kernel::Adjoint {
                call: |_| $crate::kernel::Call::operands(stringify!($grad), [$($i),+].len()),
                f64: |a, _, g| g.copy_from_slice(&kl_runtime::$grad($(a[$i]),+)),
                f32: |a, _, g| g.copy_from_slice(&kl_runtime::$grad($(a[$i]),+)),
            },
            check: $crate::kernel::check_or_none!($($check)?; $($i),+),
        }
    };
}
pub(crate) use scalar_kernel;

/// The `check` field of [`scalar_kernel!`]: the named runtime check on the operands in order,
/// else none.
macro_rules! check_or_none {
    (; $($i:literal),+) => {
        None
    };
    ($check:ident; $($i:literal),+) => {
        Some($crate::kernel::Check {
            runtime: stringify!($check),
            f64: |a| kl_runtime::$check($(a[$i]),+),
            f32: |a| kl_runtime::$check($(a[$i]),+),
        })
    };
}
pub(crate) use check_or_none;

/// The `rows` field of [`scalar_kernel!`]: the given one, else none.
macro_rules! rows_or_none {
    () => {
        $crate::kernel::no_rows
    };
    ($rows:expr) => {
        $rows
    };
}
pub(crate) use rows_or_none;

/// Operand labels that need no renaming.
pub fn no_labels(_: usize, _: Attrs) -> Option<String> {
    None
}

/// No batched row kernel.
pub fn no_rows(_: Attrs) -> Option<&'static Rows> {
    None
}

/// A kernel over rows: one scalar per batch element from the last dim (`K` entries, the same
/// `K` for every row operand) of its row operands and one element of each other operand. Its
/// runtime function takes every operand as a slice (`K` entries, or one), in slot order:
/// `kl_runtime::{runtime}(a, b, ..) -> T`; its adjoint `{runtime}_grad(a, b, .., g, ga, gb, ..)`
/// adds `g ·` the partials into one slice per operand; its check `(a, b, ..) -> Result<(),
/// Violation>` states the rules of whole rows (`probs` that sum to 1, an index below `K`).
pub struct VectorKernel {
    /// Its name in the IR and in `explain`.
    pub name: &'static str,
    /// Operand names, in slot order (also the arity).
    pub operands: &'static [&'static str],
    /// How many trailing dims of each operand one call reads: 1 (a row) or 0 (one element).
    pub cores: &'static [usize],
    pub quantity: Quantity,
    /// The runtime function emitted code calls.
    pub runtime: &'static str,
    /// The same function, for the interpreter.
    pub f64: fn(&[&[f64]]) -> f64,
    pub f32: fn(&[&[f32]]) -> f32,
    /// The name of its value in emitted code.
    pub hint: &'static str,
    /// The formula `explain` prints (`K` is the row length).
    pub formula: fn(&mut dyn Formula) -> String,
    pub adjoint: VectorAdjoint,
    /// The rules of its rows, if any.
    pub check: Option<VectorCheck>,
    /// A batched form over whole batches of rows (`d` = the row length), if any: called where
    /// every operand is a row parameter of the full shape.
    pub rows: Option<&'static Rows>,
}

/// `f(rows, g, grads)`: adds `g · ∂value/∂operand` into one slice per operand.
pub type RowsAdjoint<T> = fn(&[&[T]], T, &mut [&mut [T]]);

/// The adjoint of a [`VectorKernel`] in each precision.
pub struct VectorAdjoint {
    /// The runtime function emitted code calls: `(rows.., g, grads..)`, adding `g ·` the
    /// partials into one slice per operand.
    pub runtime: &'static str,
    pub f64: RowsAdjoint<f64>,
    pub f32: RowsAdjoint<f32>,
}

/// `f(rows)`: which operand breaks which rule of its row, if any.
pub struct VectorCheck {
    pub runtime: &'static str,
    pub f64: fn(&[&[f64]]) -> Result<(), kl_runtime::Violation>,
    pub f32: fn(&[&[f32]]) -> Result<(), kl_runtime::Violation>,
}

impl PartialEq for VectorKernel {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl fmt::Debug for VectorKernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VectorKernel({})", self.name)
    }
}

impl VectorKernel {
    /// Evaluate at one batch element, in the precision of `T`.
    pub fn call<T: kl_runtime::Real>(&self, rows: &[&[T]]) -> T {
        if let Some(r) = rows.iter().map(|s| same::<T, f64>(s)).collect::<Option<Vec<_>>>() {
            T::from_f64((self.f64)(&r))
        } else if let Some(r) = rows.iter().map(|s| same::<T, f32>(s)).collect::<Option<Vec<_>>>() {
            T::from_f64(f64::from((self.f32)(&r)))
        } else {
            T::NAN
        }
    }

    /// Add `g ·` the partials at one batch element into `grads`, one slice per operand.
    pub fn add_partials<T: kl_runtime::Real>(&self, rows: &[&[T]], g: T, grads: &mut [&mut [T]]) {
        let (g64, g32) = (g.to_f64(), g.to_f64() as f32);
        if let Some(r) = rows.iter().map(|s| same::<T, f64>(s)).collect::<Option<Vec<_>>>() {
            let mut out: Vec<&mut [f64]> = grads.iter_mut().filter_map(|s| same_mut::<T, f64>(s)).collect();
            (self.adjoint.f64)(&r, g64, &mut out);
        } else if let Some(r) = rows.iter().map(|s| same::<T, f32>(s)).collect::<Option<Vec<_>>>() {
            let mut out: Vec<&mut [f32]> = grads.iter_mut().filter_map(|s| same_mut::<T, f32>(s)).collect();
            (self.adjoint.f32)(&r, g32, &mut out);
        }
    }

    /// The first rule of its rows that `rows` break.
    pub fn violation<T: kl_runtime::Real>(&self, rows: &[&[T]]) -> Option<kl_runtime::Violation> {
        let check = self.check.as_ref()?;
        if let Some(r) = rows.iter().map(|s| same::<T, f64>(s)).collect::<Option<Vec<_>>>() {
            (check.f64)(&r).err()
        } else if let Some(r) = rows.iter().map(|s| same::<T, f32>(s)).collect::<Option<Vec<_>>>() {
            (check.f32)(&r).err()
        } else {
            None
        }
    }
}

/// The descriptor of a [`VectorKernel`] whose runtime function is `runtime`, its adjoint
/// `runtime_grad` and its check `runtime_check` (or `none`):
///
/// ```ignore
/// vector_kernel! {
///     name: "categorical_kl_logits", quantity: Kl, hint: "kl",
///     runtime: categorical_kl_logits, adjoint: categorical_kl_logits_grad,
///     check: categorical_kl_logits_check,
///     operands: [l1 = 0: 1, l2 = 1: 1],
///     formula: |l1, l2| format!(".."),
/// }
/// ```
macro_rules! vector_kernel {
    (
        name: $name:literal, quantity: $q:ident, hint: $hint:literal,
        runtime: $rt:ident, adjoint: $grad:ident, check: $check:ident,
        operands: [$($op:ident = $i:literal: $core:literal),+ $(,)?],
        formula: |$($arg:ident),+| $formula:expr
        $(, rows: $rows:expr)? $(,)?
    ) => {
        $crate::kernel::VectorKernel {
            name: $name,
            operands: &[$(stringify!($op)),+],
            cores: &[$($core),+],
            quantity: $crate::kernel::Quantity::$q,
            runtime: stringify!($rt),
            f64: |a| kl_runtime::$rt($(a[$i]),+),
            f32: |a| kl_runtime::$rt($(a[$i]),+),
            hint: $hint,
            formula: |f| {
                let [$($arg),+] = [$(f.arg($i)),+];
                $formula
            },
            adjoint: $crate::kernel::VectorAdjoint {
                runtime: stringify!($grad),
                f64: |a, g, out| {
                    if let [$($op),+] = out {
                        kl_runtime::$grad($(a[$i]),+, g, $($op),+)
                    }
                },
                f32: |a, g, out| {
                    if let [$($op),+] = out {
                        kl_runtime::$grad($(a[$i]),+, g, $($op),+)
                    }
                },
            },
            check: $crate::kernel::vector_check!($check; $($i),+),
            rows: $crate::kernel::some_or_none!($($rows)?),
        }
    };
}
pub(crate) use vector_kernel;

/// `Some(e)` for a given `e`, else `None`.
macro_rules! some_or_none {
    () => {
        None
    };
    ($e:expr) => {
        Some($e)
    };
}
pub(crate) use some_or_none;

/// The `check` field of [`vector_kernel!`]: `none`, or the named runtime check.
macro_rules! vector_check {
    (none; $($i:literal),+) => {
        None
    };
    ($check:ident; $($i:literal),+) => {
        Some($crate::kernel::VectorCheck {
            runtime: stringify!($check),
            f64: |a| kl_runtime::$check($(a[$i]),+),
            f32: |a| kl_runtime::$check($(a[$i]),+),
        })
    };
}
pub(crate) use vector_check;
