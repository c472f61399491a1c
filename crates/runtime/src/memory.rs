//! Memory the process gives back: large blocks (argon2's 19 MiB, upload parts of 8 MiB)
//! are served straight from mmap and returned to the OS when freed, instead of staying in
//! glibc's arenas after a burst.

/// Serves allocations of 4 MiB and more from mmap. A fixed threshold also turns off
/// glibc's dynamic raising of it (mallopt(3)), which would otherwise move such blocks
/// into the arenas after the first one is freed. Process-wide; the first call sets it.
pub fn return_large_blocks_to_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        // SAFETY: mallopt takes plain integers and changes only glibc's allocation policy.
        ONCE.call_once(|| unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        });
    }
}
