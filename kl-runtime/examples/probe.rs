//! Scratch: one kernel instantiation, for reading its assembly and profiling it.
fn main() {
    let b = 20;
    let d = 32;
    let mut l = vec![0.0; b * d * d];
    for r in 0..b {
        for i in 0..d {
            for j in 0..i {
                l[r * d * d + i * d + j] = 0.01 * ((i * 7 + j * 3 + r) % 11) as f64 - 0.05;
            }
            l[r * d * d + i * d + i] = 1.0 + 0.01 * ((i + r) % 5) as f64;
        }
    }
    let l2: Vec<f64> = l.iter().map(|v| v * 1.1).collect();
    let m = vec![0.5; b * d];
    let mut out = vec![0.0; b];
    let reps: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut ok = true;
    for _ in 0..reps {
        ok &= kl_runtime::tril_kl_rows::<f64, 32>(std::hint::black_box(&m), &l, &m, &l2, &mut out, false);
    }
    println!("{ok} {}", out[0]);
}
