//! The shape rules of `kl-compiler`'s checker, as `const fn`s over the shapes the Rust types of the
//! parameters fix, so that `kl!` can turn a shape error into a compile error.
//!
//! The macro calls these in an inline `const { .. }` block, in the structure of the expression:
//! a violation panics during constant evaluation, and rustc reports `evaluation panicked:` and
//! the message. Messages mirror `kl-compiler/src/check.rs` word for word, prefixed by the source text
//! of the sub-expression: ``in `Normal(a, b)`: `loc` has shape [3] and `scale` ..``.
//!
//! A [`DYN`] dim (a size the Rust type leaves to run time, or a symbol of a `where` clause) is
//! unknown here, so any rule that depends on its size is deferred to the run-time checks; but a
//! rank is always known, and a rank error is always reported. Shapes print DYN dims as `_`.
//!
//! ```
//! use kl_runtime::cshape::{self, CShape};
//! use kl_runtime::DYN;
//!
//! // Normal(mu1, s1).to_event(1) || Normal(mu2, s2).to_event(1), mu1 and s1 of type Vec<[f64; 8]>
//! const OUT: CShape = {
//!     let v = CShape::new(&[DYN, 8]);
//!     let p = cshape::independent(cshape::normal(v, v, "scale", "Normal(mu1, s1)"), 1, "Normal(mu1, s1).to_event(1)");
//!     let q = cshape::independent(cshape::normal(v, v, "scale", "Normal(mu2, s2)"), 1, "Normal(mu2, s2).to_event(1)");
//!     cshape::kl(p, q, "Normal(mu1, s1).to_event(1) || Normal(mu2, s2).to_event(1)")
//! };
//! assert_eq!(OUT, CShape::new(&[DYN]));
//! ```

use core::fmt;

use crate::input::{Input, DYN, MAX_RANK};

mod families;
pub use families::*;

/// The shape the Rust type `I` fixes, for the compile-time shape checks of this module.
pub const fn shape_of<I: Input + ?Sized>() -> CShape {
    CShape::of::<I>()
}

/// A shape known at compile time as far as the Rust types fix it: `rank` dims, outermost first,
/// [`DYN`] where the size is known only at run time; entries past `rank` are 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CShape {
    pub rank: usize,
    pub dims: [usize; MAX_RANK],
}

/// A distribution's shapes: batch shape and event shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CDist {
    pub batch: CShape,
    pub event: CShape,
}

impl CShape {
    /// The shape `[]`.
    pub const SCALAR: CShape = CShape { rank: 0, dims: [0; MAX_RANK] };

    /// The shape with these dims; panics if there are more than [`MAX_RANK`].
    pub const fn new(dims: &[usize]) -> CShape {
        if dims.len() > MAX_RANK {
            Msg::new("")
                .s("a shape of rank ")
                .n(dims.len())
                .s(" is more than kl supports (at most ")
                .n(MAX_RANK)
                .s(")")
                .fail()
        }
        let mut s = CShape::SCALAR;
        while s.rank < dims.len() {
            s.dims[s.rank] = dims[s.rank];
            s.rank += 1;
        }
        s
    }

    /// The shape the Rust type `I` fixes.
    pub const fn of<I: Input + ?Sized>() -> CShape {
        if I::RANK > MAX_RANK {
            Msg::new("")
                .s("a parameter type of rank ")
                .n(I::RANK)
                .s(" is more than kl supports (at most ")
                .n(MAX_RANK)
                .s(")")
                .fail()
        }
        let dims = I::DIMS;
        CShape::new(dims.split_at(I::RANK).0)
    }

    /// Dim `k` counted from the right (0 = last); `1` past the left end, which broadcasts like
    /// a missing dim.
    const fn rdim(self, k: usize) -> usize {
        if k < self.rank {
            self.dims[self.rank - 1 - k]
        } else {
            1
        }
    }

    /// The last dim (the shape has rank >= 1).
    const fn last_dim(self) -> usize {
        self.dims[self.rank - 1]
    }

    /// All dims but the last `n` (`[]` when `n >= rank`).
    const fn drop_last(self, n: usize) -> CShape {
        let mut out = CShape::SCALAR;
        while out.rank + n < self.rank {
            out.dims[out.rank] = self.dims[out.rank];
            out.rank += 1;
        }
        out
    }

    /// The last `n` dims (all when `n >= rank`).
    const fn last(self, n: usize) -> CShape {
        let skip = self.rank.saturating_sub(n);
        let mut out = CShape::SCALAR;
        while skip + out.rank < self.rank {
            out.dims[out.rank] = self.dims[skip + out.rank];
            out.rank += 1;
        }
        out
    }
}

impl fmt::Display for CShape {
    /// `[_, 8]`: DYN dims print as `_`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, &d) in self.dims[..self.rank.min(MAX_RANK)].iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match d {
                DYN => f.write_str("_")?,
                d => write!(f, "{d}")?,
            }
        }
        f.write_str("]")
    }
}

// ---------------------------------------------------------------------------------------------
// Broadcasting with deferred dims

/// One broadcast dim: equal dims stay, a `1` yields to the other, and a DYN dim yields to a
/// static one (at run time it must equal it or be 1). `None` when two static dims conflict.
const fn broadcast_dim(a: usize, b: usize) -> Option<usize> {
    if a == b || b == 1 {
        Some(a)
    } else if a == 1 || a == DYN {
        Some(b)
    } else if b == DYN {
        Some(a)
    } else {
        None
    }
}

/// NumPy broadcasting aligned from the right; `None` when two static dims conflict.
const fn broadcast(a: CShape, b: CShape) -> Option<CShape> {
    let rank = if a.rank > b.rank { a.rank } else { b.rank };
    let mut out = CShape { rank, dims: [0; MAX_RANK] };
    let mut k = 0;
    while k < rank {
        match broadcast_dim(a.rdim(k), b.rdim(k)) {
            Some(d) => out.dims[rank - 1 - k] = d,
            None => return None,
        }
        k += 1;
    }
    Some(out)
}

/// Can dim `a` equal dim `b` (equal, or either unknown)?
const fn may_equal(a: usize, b: usize) -> bool {
    a == b || a == DYN || b == DYN
}

/// Equal ranks, and dims that may be equal.
const fn may_equal_shapes(a: CShape, b: CShape) -> bool {
    if a.rank != b.rank {
        return false;
    }
    let mut i = 0;
    while i < a.rank {
        if !may_equal(a.dims[i], b.dims[i]) {
            return false;
        }
        i += 1;
    }
    true
}

/// Can `batch` be broadcast to exactly `target` (as `expand` requires)?
const fn expands_to(batch: CShape, target: CShape) -> bool {
    if batch.rank > target.rank {
        return false;
    }
    let mut k = 0;
    while k < batch.rank {
        let b = batch.rdim(k);
        if b != 1 && !may_equal(b, target.rdim(k)) {
            return false;
        }
        k += 1;
    }
    true
}

/// `a` then `b`; panics (naming `what`) past [`MAX_RANK`].
const fn concat(a: CShape, b: CShape, what: &str) -> CShape {
    if a.rank + b.rank > MAX_RANK {
        rank_overflow(what, a.rank + b.rank)
    }
    let mut out = a;
    let mut i = 0;
    while i < b.rank {
        out.dims[out.rank] = b.dims[i];
        out.rank += 1;
        i += 1;
    }
    out
}

/// Rejects a hand-built shape whose rank is past [`MAX_RANK`] before anything indexes it.
const fn valid(s: CShape, what: &str) -> CShape {
    if s.rank > MAX_RANK {
        rank_overflow(what, s.rank)
    }
    s
}

const fn valid_dist(d: CDist, what: &str) -> CDist {
    CDist { batch: valid(d.batch, what), event: valid(d.event, what) }
}

const fn rank_overflow(what: &str, rank: usize) -> ! {
    Msg::new(what).s("a shape of rank ").n(rank).s(" is more than kl supports (at most ").n(MAX_RANK).s(")").fail()
}

// ---------------------------------------------------------------------------------------------
// The rules, in the order of kl-compiler's checker

/// A numeric literal: shape `[]`.
pub const fn literal() -> CShape {
    CShape::SCALAR
}

/// `diag(v)`: `[.., d]` -> `[.., d, d]`.
pub const fn diag(v: CShape, what: &str) -> CShape {
    let v = valid(v, what);
    // Rule: diag(v) needs a vector (rank >= 1).
    if v.rank == 0 {
        Msg::new(what).s("`diag(v)` needs a vector, but `v` is a scalar (shape [])").fail()
    }
    concat(v, CShape::new(&[v.last_dim()]), what)
}

/// `Independent(P, n)` / `P.to_event(n)`: the last `n` batch dims move into the event.
pub const fn independent(d: CDist, n: usize, what: &str) -> CDist {
    let CDist { batch, event } = valid_dist(d, what);
    // Rule: to_event(n) needs n <= batch rank.
    if n > batch.rank {
        Msg::new(what)
            .s("`to_event(")
            .n(n)
            .s(")` needs at least ")
            .n(n)
            .s(" batch dim(s), but the distribution has batch shape ")
            .shape(batch)
            .s(" (rank ")
            .n(batch.rank)
            .s(") and event shape ")
            .shape(event)
            .fail()
    }
    CDist { batch: batch.drop_last(n), event: concat(batch.last(n), event, what) }
}

/// `P.expand(shape)`: the batch shape becomes `shape`.
pub const fn expand(d: CDist, shape: CShape, what: &str) -> CDist {
    let (CDist { batch, event }, target) = (valid_dist(d, what), valid(shape, what));
    // Rule: expand broadcasts the batch shape to exactly the target.
    if !expands_to(batch, target) {
        Msg::new(what).s("batch shape ").shape(batch).s(" cannot be expanded to ").shape(target).fail()
    }
    CDist { batch: target, event }
}

/// `P || Q`: the broadcast batch shape.
pub const fn kl(p: CDist, q: CDist, what: &str) -> CShape {
    let (p, q) = (valid_dist(p, what), valid_dist(q, what));
    // Rule: KL operands have equal event shapes...
    if !may_equal_shapes(p.event, q.event) {
        Msg::new(what)
            .s("KL needs equal event shapes, but the left side has event shape ")
            .shape(p.event)
            .s(" and the right side ")
            .shape(q.event)
            .fail()
    }
    // ...and broadcastable batch shapes.
    let Some(batch) = broadcast(p.batch, q.batch) else {
        Msg::new(what)
            .s("the batch shapes of the two sides do not broadcast: left ")
            .shape(p.batch)
            .s(", right ")
            .shape(q.batch)
            .fail()
    };
    batch
}

/// `log_prob(P, x)`: `broadcast(x[:-len(event)], batch)`.
pub const fn log_prob(d: CDist, x: CShape, what: &str) -> CShape {
    let (CDist { batch, event }, x) = (valid_dist(d, what), valid(x, what));
    // Rule: the value's trailing dims equal the event shape; the rest broadcasts with the batch.
    if x.rank < event.rank || !may_equal_shapes(x.last(event.rank), event) {
        Msg::new(what)
            .s("`log_prob` needs a value whose trailing dims are the event shape ")
            .shape(event)
            .s(", but the value has shape ")
            .shape(x)
            .fail()
    }
    let sample_batch = x.drop_last(event.rank);
    let Some(out) = broadcast(sample_batch, batch) else {
        Msg::new(what)
            .s("the value's batch dims ")
            .shape(sample_batch)
            .s(" do not broadcast with the distribution's batch shape ")
            .shape(batch)
            .fail()
    };
    out
}

/// `entropy(P)`: the batch shape.
pub const fn entropy(d: CDist) -> CShape {
    valid_dist(d, "entropy").batch
}

/// A shape declared in the macro (`where mu: [B, 8]`, symbols passed as [`DYN`]) against the
/// shape of the parameter's Rust type.
///
/// Rule: the ranks agree and static dims are equal, except that a rank-1 DYN type (a flat slice
/// or `Vec<T>`) carries any declared shape (its length is checked at run time).
pub const fn check_declared(name: &str, declared: CShape, declared_text: &str, actual: CShape) {
    let (declared, actual) = (valid(declared, name), valid(actual, name));
    if actual.rank == 1 && actual.dims[0] == DYN {
        return;
    }
    if declared.rank != actual.rank {
        Msg::new("")
            .s("parameter `")
            .s(name)
            .s("` is declared with shape ")
            .s(declared_text)
            .s(" (rank ")
            .n(declared.rank)
            .s("), but its Rust type has shape ")
            .shape(actual)
            .s(" (rank ")
            .n(actual.rank)
            .s(")")
            .fail()
    }
    let mut i = 0;
    while i < declared.rank {
        if !may_equal(declared.dims[i], actual.dims[i]) {
            Msg::new("")
                .s("parameter `")
                .s(name)
                .s("` is declared with shape ")
                .s(declared_text)
                .s(", but its Rust type has shape ")
                .shape(actual)
                .s(" (dim ")
                .n(i)
                .s(" is ")
                .n(declared.dims[i])
                .s(" in the declaration and ")
                .n(actual.dims[i])
                .s(" in the type)")
                .fail()
        }
        i += 1;
    }
}

// ---------------------------------------------------------------------------------------------
// Messages built in const context

/// Capacity of a message; the body stops at `BODY` so that the suffixes always fit.
const CAP: usize = 1024;
const BODY: usize = CAP - 64;

/// A message under construction in a fixed buffer, since const fns cannot allocate.
struct Msg {
    buf: [u8; CAP],
    len: usize,
    /// Some text was cut at `BODY`.
    truncated: bool,
    /// A printed shape has a DYN dim: explain `_` at the end.
    has_dyn: bool,
}

impl Msg {
    /// A message about the sub-expression `what` (none if empty).
    const fn new(what: &str) -> Msg {
        let m = Msg { buf: [0; CAP], len: 0, truncated: false, has_dyn: false };
        if what.is_empty() {
            m
        } else {
            m.s("in `").s(what).s("`: ")
        }
    }

    const fn push(mut self, bytes: &[u8], limit: usize) -> Msg {
        let mut i = 0;
        while i < bytes.len() {
            if self.len >= limit {
                self.truncated = true;
                break;
            }
            self.buf[self.len] = bytes[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    const fn s(self, s: &str) -> Msg {
        self.push(s.as_bytes(), BODY)
    }

    /// A number in decimal.
    const fn n(self, mut n: usize) -> Msg {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.push(digits.split_at(start).1, BODY)
    }

    /// A dim: its size, or `_` when DYN.
    const fn dim(mut self, d: usize) -> Msg {
        if d == DYN {
            self.has_dyn = true;
            self.s("_")
        } else {
            self.n(d)
        }
    }

    /// A shape as `[_, 8]`.
    const fn shape(self, s: CShape) -> Msg {
        let mut m = self.s("[");
        let mut i = 0;
        while i < s.rank {
            if i > 0 {
                m = m.s(", ");
            }
            m = m.dim(s.dims[i]);
            i += 1;
        }
        m.s("]")
    }

    /// Ends the message and panics with it (a compile error in const context).
    const fn fail(mut self) -> ! {
        if self.truncated {
            self = self.cut_to_char_boundary().push(b"...", CAP);
        }
        if self.has_dyn {
            self = self.push(b" (`_` = known at run time)", CAP);
        }
        match core::str::from_utf8(self.buf.split_at(self.len).0) {
            Ok(s) => panic!("{}", s),
            Err(_) => panic!("kl: shape error"),
        }
    }

    /// Drops a multi-byte character that truncation cut in the middle.
    const fn cut_to_char_boundary(mut self) -> Msg {
        let mut lead = self.len;
        while lead > 0 && self.buf[lead - 1] & 0xC0 == 0x80 {
            lead -= 1;
        }
        if lead > 0 {
            lead -= 1;
            let b = self.buf[lead];
            let need = if b < 0x80 {
                1
            } else if b >= 0xF0 {
                4
            } else if b >= 0xE0 {
                3
            } else {
                2
            };
            if self.len - lead < need {
                self.len = lead;
            }
        }
        self
    }
}
