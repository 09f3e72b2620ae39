// LowRankMultivariateNormal entropy against the dense MVN with Σ = W Wᵀ + diag(D), and
// against the closed form ½ ln det(2πe Σ).
use kl::kl;

fn main() {
    let m = [0.0_f64, 1.0, -1.0];
    let w = [[0.5_f64], [0.2], [-0.4]];
    let d = [1.0_f64, 0.5, 0.8];
    let mut c = [[0.0_f64; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            c[i][j] = w[i][0] * w[j][0] + if i == j { d[i] } else { 0.0 };
        }
    }
    let det = c[0][0] * (c[1][1] * c[2][2] - c[1][2] * c[2][1]) - c[0][1] * (c[1][0] * c[2][2] - c[1][2] * c[2][0])
        + c[0][2] * (c[1][0] * c[2][1] - c[1][1] * c[2][0]);
    let by_hand = 0.5 * (3.0 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln() + det.ln());

    let low = kl!(entropy(LowRankMultivariateNormal(m, cov_factor = w, cov_diag = d))).unwrap();
    let dense = kl!(entropy(MultivariateNormal(m, covariance_matrix = c))).unwrap();
    assert!((low.scalar().unwrap() - by_hand).abs() < 1e-12);
    assert!((dense.scalar().unwrap() - by_hand).abs() < 1e-12);
}
