//! The closed forms as data, like torch.distributions' `register_kl` table: KL pairs keyed by
//! the two base families, `log_prob` and `entropy` keyed by one. The `closed_form` pass looks
//! a query up here; each rule builds the kernel nodes for its query and lives in its family's
//! file (`crate::family::*`). Adding a pair is one line below.

use crate::family::{
    bernoulli, beta, binomial, categorical, continuous_bernoulli as cb, cross, dirichlet, gamma, geometric, gumbel,
    poisson, student_t, von_mises, Family, BERNOULLI, BETA, BINOMIAL, CATEGORICAL, CAUCHY, CHI2, CONTINUOUS_BERNOULLI,
    DIRICHLET, EXPONENTIAL, GAMMA, GEOMETRIC, GUMBEL, HALF_NORMAL, LAPLACE, LOG_NORMAL, LOW_RANK, MVN, NORMAL,
    ONE_HOT_CATEGORICAL, PARETO, POISSON, STUDENT_T, UNIFORM, VON_MISES, WEIBULL,
};
use crate::ir::{Ir, NodeId};
use crate::span::Span;

/// Where a rule applies: the query node's span and its operands (base families, unwrapped).
#[derive(Clone, Copy, Debug)]
pub struct Site {
    pub span: Span,
    /// The (left) distribution.
    pub p: NodeId,
    /// The right distribution of a KL, or the value of a `log_prob`; unused for `entropy`.
    pub other: NodeId,
}

/// Builds the closed form at a site; `None` when the rule does not cover these operands.
pub type Lower = fn(&mut Ir, Site) -> Option<NodeId>;

/// KL(p ‖ q) for base families `p` and `q`.
pub struct KlRule {
    pub p: &'static Family,
    pub q: &'static Family,
    pub lower: Lower,
}

/// `log_prob` or `entropy` of one base family.
pub struct UnaryRule {
    pub family: &'static Family,
    pub lower: Lower,
}

/// Every KL pair with a closed form.
pub const KL: &[KlRule] = &[
    KlRule { p: &NORMAL, q: &NORMAL, lower: crate::family::normal::kl },
    KlRule { p: &MVN, q: &MVN, lower: crate::family::mvn::kl },
    KlRule { p: &MVN, q: &LOW_RANK, lower: crate::family::mvn::kl_by_factors },
    KlRule { p: &LOW_RANK, q: &MVN, lower: crate::family::mvn::kl_by_factors },
    KlRule { p: &LOW_RANK, q: &LOW_RANK, lower: crate::family::low_rank::kl },
    KlRule { p: &LAPLACE, q: &LAPLACE, lower: crate::family::laplace::kl },
    KlRule { p: &CAUCHY, q: &CAUCHY, lower: crate::family::cauchy::kl },
    // The KL of log-normals is the KL of the normals of the logs.
    KlRule { p: &LOG_NORMAL, q: &LOG_NORMAL, lower: crate::family::normal::kl },
    KlRule { p: &EXPONENTIAL, q: &EXPONENTIAL, lower: crate::family::exponential::kl },
    KlRule { p: &HALF_NORMAL, q: &HALF_NORMAL, lower: crate::family::half_normal::kl },
    KlRule { p: &UNIFORM, q: &UNIFORM, lower: crate::family::uniform::kl },
    KlRule { p: &PARETO, q: &PARETO, lower: crate::family::pareto::kl },
    KlRule { p: &GAMMA, q: &GAMMA, lower: gamma::kl },
    KlRule { p: &CHI2, q: &CHI2, lower: gamma::chi2_kl },
    // Chi2(k) = Gamma(k/2, 1/2) (torch: Chi2 is a Gamma) and Exponential(r) = Gamma(1, r).
    KlRule { p: &CHI2, q: &GAMMA, lower: gamma::gamma_like_kl },
    KlRule { p: &GAMMA, q: &CHI2, lower: gamma::gamma_like_kl },
    KlRule { p: &EXPONENTIAL, q: &GAMMA, lower: gamma::gamma_like_kl },
    KlRule { p: &GAMMA, q: &EXPONENTIAL, lower: gamma::gamma_like_kl },
    KlRule { p: &EXPONENTIAL, q: &CHI2, lower: gamma::gamma_like_kl },
    KlRule { p: &CHI2, q: &EXPONENTIAL, lower: gamma::gamma_like_kl },
    KlRule { p: &BETA, q: &BETA, lower: beta::kl },
    KlRule { p: &DIRICHLET, q: &DIRICHLET, lower: dirichlet::kl },
    KlRule { p: &GUMBEL, q: &GUMBEL, lower: gumbel::kl },
    KlRule { p: &WEIBULL, q: &WEIBULL, lower: gumbel::weibull_kl },
    // A pair torch.distributions lacks.
    KlRule { p: &WEIBULL, q: &GAMMA, lower: gumbel::weibull_gamma_kl },
    KlRule { p: &VON_MISES, q: &VON_MISES, lower: von_mises::kl },
    // torch.distributions' cross-family pairs (`crate::family::cross`).
    KlRule { p: &LAPLACE, q: &NORMAL, lower: cross::laplace_normal },
    KlRule { p: &GUMBEL, q: &NORMAL, lower: cross::gumbel_normal },
    KlRule { p: &EXPONENTIAL, q: &NORMAL, lower: cross::exponential_normal },
    KlRule { p: &GAMMA, q: &NORMAL, lower: cross::gamma_normal },
    KlRule { p: &BETA, q: &NORMAL, lower: cross::beta_normal },
    KlRule { p: &PARETO, q: &NORMAL, lower: cross::pareto_normal },
    KlRule { p: &UNIFORM, q: &NORMAL, lower: cross::uniform_normal },
    KlRule { p: &NORMAL, q: &GUMBEL, lower: cross::normal_gumbel },
    KlRule { p: &EXPONENTIAL, q: &GUMBEL, lower: cross::exponential_gumbel },
    KlRule { p: &GAMMA, q: &GUMBEL, lower: cross::gamma_gumbel },
    KlRule { p: &UNIFORM, q: &GUMBEL, lower: cross::uniform_gumbel },
    KlRule { p: &NORMAL, q: &LAPLACE, lower: cross::normal_laplace },
    KlRule { p: &BETA, q: &EXPONENTIAL, lower: cross::beta_exponential },
    KlRule { p: &PARETO, q: &EXPONENTIAL, lower: cross::pareto_exponential },
    KlRule { p: &UNIFORM, q: &EXPONENTIAL, lower: cross::uniform_exponential },
    KlRule { p: &BETA, q: &GAMMA, lower: cross::beta_gamma },
    KlRule { p: &PARETO, q: &GAMMA, lower: cross::pareto_gamma },
    KlRule { p: &UNIFORM, q: &GAMMA, lower: cross::uniform_gamma },
    KlRule { p: &BETA, q: &UNIFORM, lower: cross::beta_uniform },
    KlRule { p: &UNIFORM, q: &BETA, lower: cross::uniform_beta },
    KlRule { p: &UNIFORM, q: &PARETO, lower: cross::uniform_pareto },
    // ContinuousBernoulli (`crate::family::continuous_bernoulli`), torch's pairs.
    KlRule { p: &CONTINUOUS_BERNOULLI, q: &CONTINUOUS_BERNOULLI, lower: cb::kl },
    KlRule { p: &BETA, q: &CONTINUOUS_BERNOULLI, lower: cb::beta_kl },
    KlRule { p: &UNIFORM, q: &CONTINUOUS_BERNOULLI, lower: cb::uniform_kl },
    KlRule { p: &CONTINUOUS_BERNOULLI, q: &EXPONENTIAL, lower: cb::exponential_kl },
    KlRule { p: &CONTINUOUS_BERNOULLI, q: &NORMAL, lower: cb::normal_kl },
    KlRule { p: &CONTINUOUS_BERNOULLI, q: &UNIFORM, lower: cb::uniform_q_kl },
    // The discrete families.
    KlRule { p: &BERNOULLI, q: &BERNOULLI, lower: bernoulli::kl },
    KlRule { p: &BINOMIAL, q: &BINOMIAL, lower: binomial::kl },
    KlRule { p: &GEOMETRIC, q: &GEOMETRIC, lower: geometric::kl },
    KlRule { p: &POISSON, q: &POISSON, lower: poisson::kl },
    KlRule { p: &BERNOULLI, q: &POISSON, lower: bernoulli::poisson_kl },
    KlRule { p: &CATEGORICAL, q: &CATEGORICAL, lower: categorical::kl },
    KlRule { p: &ONE_HOT_CATEGORICAL, q: &ONE_HOT_CATEGORICAL, lower: categorical::kl },
];

pub const LOG_PROB: &[UnaryRule] = &[
    UnaryRule { family: &NORMAL, lower: crate::family::normal::log_prob },
    UnaryRule { family: &MVN, lower: crate::family::mvn::log_prob },
    UnaryRule { family: &LOW_RANK, lower: crate::family::mvn::log_prob },
    UnaryRule { family: &LAPLACE, lower: crate::family::laplace::log_prob },
    UnaryRule { family: &CAUCHY, lower: crate::family::cauchy::log_prob },
    UnaryRule { family: &LOG_NORMAL, lower: crate::family::lognormal::log_prob },
    UnaryRule { family: &EXPONENTIAL, lower: crate::family::exponential::log_prob },
    UnaryRule { family: &HALF_NORMAL, lower: crate::family::half_normal::log_prob },
    UnaryRule { family: &UNIFORM, lower: crate::family::uniform::log_prob },
    UnaryRule { family: &PARETO, lower: crate::family::pareto::log_prob },
    UnaryRule { family: &GAMMA, lower: gamma::log_prob },
    UnaryRule { family: &CHI2, lower: gamma::chi2_log_prob },
    UnaryRule { family: &BETA, lower: beta::log_prob },
    UnaryRule { family: &CONTINUOUS_BERNOULLI, lower: cb::log_prob },
    UnaryRule { family: &DIRICHLET, lower: dirichlet::log_prob },
    UnaryRule { family: &GUMBEL, lower: gumbel::log_prob },
    UnaryRule { family: &WEIBULL, lower: gumbel::weibull_log_prob },
    UnaryRule { family: &STUDENT_T, lower: student_t::log_prob },
    UnaryRule { family: &VON_MISES, lower: von_mises::log_prob },
    UnaryRule { family: &BERNOULLI, lower: bernoulli::log_prob },
    UnaryRule { family: &BINOMIAL, lower: binomial::log_prob },
    UnaryRule { family: &GEOMETRIC, lower: geometric::log_prob },
    UnaryRule { family: &POISSON, lower: poisson::log_prob },
    UnaryRule { family: &CATEGORICAL, lower: categorical::log_prob },
    UnaryRule { family: &ONE_HOT_CATEGORICAL, lower: categorical::one_hot_log_prob },
];

pub const ENTROPY: &[UnaryRule] = &[
    UnaryRule { family: &NORMAL, lower: crate::family::normal::entropy },
    UnaryRule { family: &MVN, lower: crate::family::mvn::entropy },
    UnaryRule { family: &LOW_RANK, lower: crate::family::mvn::entropy },
    UnaryRule { family: &LAPLACE, lower: crate::family::laplace::entropy },
    UnaryRule { family: &CAUCHY, lower: crate::family::cauchy::entropy },
    UnaryRule { family: &LOG_NORMAL, lower: crate::family::lognormal::entropy },
    UnaryRule { family: &EXPONENTIAL, lower: crate::family::exponential::entropy },
    UnaryRule { family: &HALF_NORMAL, lower: crate::family::half_normal::entropy },
    UnaryRule { family: &UNIFORM, lower: crate::family::uniform::entropy },
    UnaryRule { family: &PARETO, lower: crate::family::pareto::entropy },
    UnaryRule { family: &GAMMA, lower: gamma::entropy },
    UnaryRule { family: &CHI2, lower: gamma::chi2_entropy },
    UnaryRule { family: &BETA, lower: beta::entropy },
    UnaryRule { family: &CONTINUOUS_BERNOULLI, lower: cb::entropy },
    UnaryRule { family: &DIRICHLET, lower: dirichlet::entropy },
    UnaryRule { family: &GUMBEL, lower: gumbel::entropy },
    UnaryRule { family: &WEIBULL, lower: gumbel::weibull_entropy },
    UnaryRule { family: &STUDENT_T, lower: student_t::entropy },
    UnaryRule { family: &VON_MISES, lower: von_mises::entropy },
    UnaryRule { family: &BERNOULLI, lower: bernoulli::entropy },
    UnaryRule { family: &GEOMETRIC, lower: geometric::entropy },
    UnaryRule { family: &CATEGORICAL, lower: categorical::entropy },
    UnaryRule { family: &ONE_HOT_CATEGORICAL, lower: categorical::entropy },
];

/// The KL rule for base families `p` and `q`.
pub fn kl(p: &Family, q: &Family) -> Option<&'static KlRule> {
    KL.iter().find(|r| r.p == p && r.q == q)
}

/// The rule for `family` in a unary table.
pub fn unary(table: &'static [UnaryRule], family: &Family) -> Option<&'static UnaryRule> {
    table.iter().find(|r| r.family == family)
}
