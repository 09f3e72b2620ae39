//! Scratch: one kernel instantiation, for reading its assembly.
fn main() {
    let b = 64;
    let (m, l) = (vec![0.5; b * 3], vec![1.0; b * 9]);
    let mut out = vec![0.0; b];
    let (m, l) = (vec![0.5; b * 4], vec![1.0; b * 16]);
    let ok =
        kl_runtime::cov_kl_rows::<f64, 4>(std::hint::black_box(&m), &l, &m, &l, &mut out, std::env::args().count() > 1);
    println!("{ok} {}", out[0]);
}
