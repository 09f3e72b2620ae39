//! Kernels as data: one [`Kernel`] descriptor per closed-form kernel gives its operands, what it
//! computes, its runtime function (for the interpreter as a function pointer, for the emitter
//! by name) and its formula for `klc explain`. The interpreter, the emitter and `explain` read
//! the descriptor, so a new kernel changes no stage: it is a runtime function plus a
//! descriptor in its family's file.
//!
//! Descriptors cover the elementwise (scalar) kernels a family adds; the Gaussian kernels that
//! predate them are still `Op` variants (see the notes in `ir.rs`).

use std::fmt;

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

/// An elementwise kernel: one scalar per element from one scalar per operand (operands
/// broadcast).
pub struct Kernel {
    /// Its name in the IR and in `explain`.
    pub name: &'static str,
    /// Operand names, in slot order (also the arity).
    pub operands: &'static [&'static str],
    pub quantity: Quantity,
    /// The `kl_runtime` function the emitted code calls with the operands' elements, in slot
    /// order: `kl_runtime::{runtime}(a, b, ..)`.
    pub runtime: &'static str,
    /// The same function, for the interpreter.
    pub f64: fn(&[f64]) -> f64,
    pub f32: fn(&[f32]) -> f32,
    /// The name of its value in emitted code.
    pub hint: &'static str,
    /// The formula `explain` prints, from the operands as written.
    pub formula: fn(&[String]) -> String,
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

impl Kernel {
    /// Evaluate at one element, in the precision of `T` (`f32` or `f64`).
    pub fn call<T: kl_runtime::Real>(&self, args: &[T]) -> T {
        use std::any::Any;
        const MAX: usize = 8;
        debug_assert!(args.len() <= MAX, "kernel `{}` with {} operands", self.name, args.len());
        let mut out = T::NAN;
        if let Some(o) = (&mut out as &mut dyn Any).downcast_mut::<f64>() {
            let mut a = [0.0f64; MAX];
            for (d, s) in a.iter_mut().zip(args) {
                *d = s.to_f64();
            }
            *o = (self.f64)(&a[..args.len()]);
        } else if let Some(o) = (&mut out as &mut dyn Any).downcast_mut::<f32>() {
            let mut a = [0.0f32; MAX];
            for (d, s) in a.iter_mut().zip(args) {
                // Exact: `T` is `f32` here.
                *d = s.to_f64() as f32;
            }
            *o = (self.f32)(&a[..args.len()]);
        }
        out
    }
}
