use kl::kl;

fn main() {
    let _ = kl!(@ 42 # foo ;);
}
