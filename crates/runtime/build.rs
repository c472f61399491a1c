//! Rebuilds when a migration is added, so `sqlx::migrate!` embeds every one.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
