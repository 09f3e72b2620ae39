//! Integration tests of the `kl` facade: golden files for every compiler stage and every
//! diagnostic.

#[path = "kl/snapshots.rs"]
mod snapshots;

#[path = "kl/expansions.rs"]
mod expansions;

#[path = "kl/ui.rs"]
mod ui;

#[path = "kl/differential.rs"]
mod differential;

#[path = "kl/order.rs"]
mod order;

#[path = "kl/families.rs"]
mod families;

#[path = "kl/grad.rs"]
mod grad;
