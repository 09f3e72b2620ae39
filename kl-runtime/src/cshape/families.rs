//! The families' shape rules over Rust types, one `const fn` per rule of `kl-compiler`'s family
//! descriptors (each `Family` names its rule here by its `cshape` field).

use super::{broadcast, may_equal, valid, CDist, CShape, Msg};
use crate::input::DYN;

/// A one-parameter scalar family (`Exponential(rate)`, `HalfNormal(scale)`): batch the
/// parameter's shape, event `[]`.
pub const fn single(param: CShape, what: &str) -> CDist {
    CDist { batch: valid(param, what), event: CShape::SCALAR }
}

/// `Normal(loc, <scale_kw>)`: batch `broadcast(loc, scale)`, event `[]`.
pub const fn normal(loc: CShape, scale: CShape, scale_kw: &str, what: &str) -> CDist {
    pair(loc, scale, "loc", scale_kw, what)
}

/// A scalar family of two parameters (`Uniform(low, high)`, `Gamma(concentration, rate)`):
/// batch `broadcast(a, b)`, event `[]`.
pub const fn pair(a: CShape, b: CShape, a_kw: &str, b_kw: &str, what: &str) -> CDist {
    let (a, b) = (valid(a, what), valid(b, what));
    // Rule: the two parameters broadcast against each other.
    let Some(batch) = broadcast(a, b) else {
        Msg::new(what)
            .s("`")
            .s(a_kw)
            .s("` has shape ")
            .shape(a)
            .s(" and `")
            .s(b_kw)
            .s("` has shape ")
            .shape(b)
            .s("; they do not broadcast")
            .fail()
    };
    CDist { batch, event: CShape::SCALAR }
}

/// A scalar family of three parameters (`StudentT(df, loc, scale)`): batch
/// `broadcast(a, b, c)`, event `[]`.
pub const fn triple(a: CShape, b: CShape, c: CShape, a_kw: &str, b_kw: &str, c_kw: &str, what: &str) -> CDist {
    let ab = pair(a, b, a_kw, b_kw, what).batch;
    // Rule: the third broadcasts with the first two; a clash names the first it meets.
    let (c, first) = (valid(c, what), valid(a, what));
    if broadcast(first, c).is_none() {
        return pair(a, c, a_kw, c_kw, what);
    }
    let Some(batch) = broadcast(ab, c) else { return pair(b, c, b_kw, c_kw, what) };
    CDist { batch, event: CShape::SCALAR }
}

/// A family on the simplex (`Dirichlet(concentration)`): batch `c[:-1]`, event `[K]` with `K`
/// the last dim of `c`.
pub const fn simplex(c: CShape, kw: &str, what: &str) -> CDist {
    let c = valid(c, what);
    if c.rank == 0 {
        Msg::new(what)
            .s("the `")
            .s(kw)
            .s("` of a distribution on the simplex needs at least one dim (the number of categories K), but it is a scalar (shape [])")
            .fail()
    }
    CDist { batch: c.drop_last(1), event: c.last(1) }
}

/// A family over the categories of the last dim of `c` (`Categorical(probs | logits)`): batch
/// `c[:-1]`, event `[]`.
pub const fn categories(c: CShape, kw: &str, what: &str) -> CDist {
    let c = valid(c, what);
    if c.rank == 0 {
        Msg::new(what)
            .s("the `")
            .s(kw)
            .s("` of a distribution over categories needs at least one dim (the number of categories K), but it is a scalar (shape [])")
            .fail()
    }
    CDist { batch: c.drop_last(1), event: CShape::SCALAR }
}

/// `MultivariateNormal(loc, <matrix_kw>=m)`: batch `broadcast(loc[:-1], m[:-2])`, event `[d]`.
pub const fn mvn(loc: CShape, matrix: CShape, matrix_kw: &str, what: &str) -> CDist {
    let (loc, m) = (valid(loc, what), valid(matrix, what));
    let d = loc_event_dim(loc, what);
    // Rule: the matrix is square, [.., d, d], with d = loc's last dim.
    if m.rank < 2 || !may_equal(m.rdim(0), m.rdim(1)) {
        Msg::new(what).s("`").s(matrix_kw).s("` must be a square matrix [.., d, d], but its shape is ").shape(m).fail()
    }
    let md = if m.rdim(0) != DYN { m.rdim(0) } else { m.rdim(1) };
    if !may_equal(md, d) {
        Msg::new(what)
            .s("`")
            .s(matrix_kw)
            .s("` is ")
            .dim(m.rdim(1))
            .s("x")
            .dim(m.rdim(0))
            .s(" but `loc` has event size ")
            .dim(d)
            .s(" (loc shape ")
            .shape(loc)
            .s(", ")
            .s(matrix_kw)
            .s(" shape ")
            .shape(m)
            .s(")")
            .fail()
    }
    let Some(batch) = broadcast(loc.drop_last(1), m.drop_last(2)) else {
        Msg::new(what)
            .s("the batch dims of `loc` ")
            .shape(loc.drop_last(1))
            .s(" and `")
            .s(matrix_kw)
            .s("` ")
            .shape(m.drop_last(2))
            .s(" do not broadcast")
            .fail()
    };
    let d = if d == DYN { md } else { d };
    CDist { batch, event: CShape::new(&[d]) }
}

/// `LowRankMultivariateNormal(loc, cov_factor=w, cov_diag=dg)`: `w: [.., d, r]`, `dg: [.., d]`.
pub const fn low_rank(loc: CShape, cov_factor: CShape, cov_diag: CShape, what: &str) -> CDist {
    let (loc, w, dg) = (valid(loc, what), valid(cov_factor, what), valid(cov_diag, what));
    let d = loc_event_dim(loc, what);
    // Rule: cov_factor is [.., d, r] and cov_diag is [.., d].
    if w.rank < 2 || !may_equal(w.rdim(1), d) {
        Msg::new(what)
            .s("`cov_factor` must have shape [.., ")
            .dim(d)
            .s(", r] to match `loc` ")
            .shape(loc)
            .s(", but its shape is ")
            .shape(w)
            .fail()
    }
    // When loc leaves d to run time, cov_factor may fix it, and cov_diag must agree with that.
    let d_from_w = d == DYN && w.rdim(1) != DYN;
    let d = if d_from_w { w.rdim(1) } else { d };
    if dg.rank < 1 || !may_equal(dg.rdim(0), d) {
        let m = Msg::new(what).s("`cov_diag` must have shape [.., ").dim(d).s("] to match `loc` ").shape(loc);
        let m = if d_from_w { m.s(" and `cov_factor` ").shape(w) } else { m };
        m.s(", but its shape is ").shape(dg).fail()
    }
    let d = if d == DYN { dg.rdim(0) } else { d };
    let batch = match broadcast(loc.drop_last(1), w.drop_last(2)) {
        Some(b) => broadcast(b, dg.drop_last(1)),
        None => None,
    };
    let Some(batch) = batch else {
        Msg::new(what)
            .s("the batch dims of `loc` ")
            .shape(loc.drop_last(1))
            .s(", `cov_factor` ")
            .shape(w.drop_last(2))
            .s(" and `cov_diag` ")
            .shape(dg.drop_last(1))
            .s(" do not broadcast")
            .fail()
    };
    CDist { batch, event: CShape::new(&[d]) }
}

/// Rule: an MVN's `loc` has at least one dim, the event size `d`.
const fn loc_event_dim(loc: CShape, what: &str) -> usize {
    if loc.rank == 0 {
        Msg::new(what)
            .s("the `loc` of a multivariate normal needs at least one dim (the event size d), but it is a scalar (shape [])")
            .fail()
    }
    loc.last_dim()
}
