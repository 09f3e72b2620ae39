use kl::kl;

// A flat buffer declared with a static length: the declaration's `[8]` is what the compile-time
// checks see, so it cannot silently broadcast against the `[4]` location.
fn main() {
    let m = [0.0_f64; 4];
    let s = vec![1.0_f64; 8];
    let _ = kl!(entropy(Normal(m, s)) where s: [8]);
}
