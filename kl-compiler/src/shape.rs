//! Shapes with static and symbolic dims, and the broadcasting rules of NumPy / PyTorch.

use std::fmt;

/// One dimension: a number known now, or a symbol bound at run time.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dim {
    Static(usize),
    Symbol(String),
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Static(n) => write!(f, "{n}"),
            Dim::Symbol(s) => f.write_str(s),
        }
    }
}

impl Dim {
    pub fn as_static(&self) -> Option<usize> {
        match self {
            Dim::Static(n) => Some(*n),
            Dim::Symbol(_) => None,
        }
    }
}

/// A tensor shape, outermost dim first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shape(pub Vec<Dim>);

impl Shape {
    pub fn scalar() -> Self {
        Shape(Vec::new())
    }

    pub fn of(dims: &[usize]) -> Self {
        Shape(dims.iter().map(|&d| Dim::Static(d)).collect())
    }

    pub fn rank(&self) -> usize {
        self.0.len()
    }

    pub fn dims(&self) -> &[Dim] {
        &self.0
    }

    /// All dims but the last `n` (empty when `n >= rank`).
    pub fn drop_last(&self, n: usize) -> Shape {
        Shape(self.0[..self.rank().saturating_sub(n)].to_vec())
    }

    /// The last `n` dims.
    pub fn last(&self, n: usize) -> Shape {
        Shape(self.0[self.rank().saturating_sub(n)..].to_vec())
    }

    pub fn concat(&self, other: &Shape) -> Shape {
        Shape(self.0.iter().chain(&other.0).cloned().collect())
    }

    /// Every dim static: their values.
    pub fn as_static(&self) -> Option<Vec<usize>> {
        self.0.iter().map(Dim::as_static).collect()
    }

    /// Number of elements when all dims are static.
    pub fn numel(&self) -> Option<usize> {
        self.as_static().map(|d| d.iter().product())
    }

    /// NumPy broadcasting: align right; equal dims stay, a `1` yields to the other; a symbol
    /// broadcasts only with itself or `1`. `None` when the shapes are incompatible.
    pub fn broadcast(&self, other: &Shape) -> Option<Shape> {
        let rank = self.rank().max(other.rank());
        let mut out = Vec::with_capacity(rank);
        for i in 0..rank {
            let a = dim_from_right(self, rank - 1 - i);
            let b = dim_from_right(other, rank - 1 - i);
            out.push(match (a, b) {
                (None, Some(d)) | (Some(d), None) => d.clone(),
                (Some(a), Some(b)) if a == b => a.clone(),
                (Some(Dim::Static(1)), Some(d)) | (Some(d), Some(Dim::Static(1))) => d.clone(),
                _ => return None,
            });
        }
        Some(Shape(out))
    }

    /// Broadcast of many shapes.
    pub fn broadcast_all<'a>(shapes: impl IntoIterator<Item = &'a Shape>) -> Option<Shape> {
        shapes.into_iter().try_fold(Shape::scalar(), |acc, s| acc.broadcast(s))
    }

    /// Can `self` be broadcast to exactly `target` (as `expand` requires)?
    pub fn expands_to(&self, target: &Shape) -> bool {
        self.rank() <= target.rank() && self.broadcast(target).as_ref() == Some(target)
    }

    /// Bind symbols to sizes; `None` if a symbol is unbound.
    pub fn resolve(&self, bind: &dyn Fn(&str) -> Option<usize>) -> Option<Vec<usize>> {
        self.0
            .iter()
            .map(|d| match d {
                Dim::Static(n) => Some(*n),
                Dim::Symbol(s) => bind(s),
            })
            .collect()
    }
}

/// Dim `k` counted from the right (0 = last).
fn dim_from_right(s: &Shape, k: usize) -> Option<&Dim> {
    s.rank().checked_sub(k + 1).map(|i| &s.0[i])
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(dims: &[&str]) -> Shape {
        Shape(
            dims.iter()
                .map(|d| match d.parse() {
                    Ok(n) => Dim::Static(n),
                    Err(_) => Dim::Symbol(d.to_string()),
                })
                .collect(),
        )
    }

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(s(&["3", "1"]).broadcast(&s(&["4"])), Some(s(&["3", "4"])));
        assert_eq!(s(&[]).broadcast(&s(&["2", "5"])), Some(s(&["2", "5"])));
        assert_eq!(s(&["3"]).broadcast(&s(&["4"])), None);
    }

    #[test]
    fn symbols_broadcast_only_with_themselves_or_one() {
        assert_eq!(s(&["B", "8"]).broadcast(&s(&["1", "8"])), Some(s(&["B", "8"])));
        assert_eq!(s(&["B"]).broadcast(&s(&["B"])), Some(s(&["B"])));
        assert_eq!(s(&["B"]).broadcast(&s(&["T"])), None);
        assert_eq!(s(&["B"]).broadcast(&s(&["4"])), None);
    }

    #[test]
    fn expand_needs_an_exact_broadcast_target() {
        assert!(s(&["1"]).expands_to(&s(&["4", "3"])));
        assert!(s(&[]).expands_to(&s(&["64"])));
        assert!(!s(&["2"]).expands_to(&s(&["3"])));
        assert!(!s(&["2", "3"]).expands_to(&s(&["3"])));
    }
}
