// Expressions of numeric literals only: no parameters, computed in f64.
use kl::kl;

fn main() {
    // KL(N(0, 1) || N(1, 2²)) = ln 2 + (1 + 1) / 8 - 1/2.
    let d = kl!(Normal(0, 1) || Normal(1, 2)).unwrap();
    let by_hand = 2.0_f64.ln() + 2.0 / 8.0 - 0.5;
    assert!((d.scalar().unwrap() - by_hand).abs() < 1e-12);

    // KL(P || P) = 0 exactly.
    let zero = kl!(Normal(-1.5, 0.25) || Normal(-1.5, 0.25)).unwrap();
    assert_eq!(zero.scalar(), Some(0.0));

    // Entropy of N(0, 2²): ½ ln(2πe·4).
    let h = kl!(entropy(Normal(0, 2))).unwrap();
    assert!((h.scalar().unwrap() - 0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E * 4.0).ln()).abs() < 1e-12);

    // An expanded standard normal in 4 dims against a shifted one: 4 × ½ (0.5)².
    let e = kl!(Normal(0, 1).expand([4]).to_event(1) || Normal(0.5, 1).expand([4]).to_event(1)).unwrap();
    assert!((e.scalar().unwrap() - 4.0 * 0.125).abs() < 1e-12);
}
