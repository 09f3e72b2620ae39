use kl::kl;

fn main() {
    let _ = kl!();
}
