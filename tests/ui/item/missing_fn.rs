// The item form is a function signature.
use kl::kl_fn;

kl_fn! {
    Normal(m, s) || Normal(0, 1)
}

fn main() {}
