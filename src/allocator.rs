//! mimalloc's settings, set from code at the start of `main` (the `hotline` binary and the
//! benches that use mimalloc as their global allocator call [`tune`] first).

/// mimalloc's options, by their index in the vendored mimalloc v3 `mi_option_t` (libmimalloc-sys
/// 0.1.49 exports `mi_option_set` but not these two names for v3; the test below checks the
/// indexes against the documented defaults, so a renumbering in an update fails the build's tests).
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Gives freed memory back to the system at once, commits arenas as they are used rather than
/// whole, and keeps transparent huge pages off: with mimalloc's defaults (purge after 10 s,
/// arenas committed eagerly and backed by huge pages) the server held ~160 MB more at its peak
/// (memory bench, README). Runs first in `main`; `MIMALLOC_PURGE_DELAY`,
/// `MIMALLOC_ARENA_EAGER_COMMIT` and `MIMALLOC_ALLOW_THP` in the environment still win, to
/// measure other settings.
pub fn tune() {
    for (option, env, value) in [
        (MI_OPTION_PURGE_DELAY, "MIMALLOC_PURGE_DELAY", 0),
        (
            MI_OPTION_ARENA_EAGER_COMMIT,
            "MIMALLOC_ARENA_EAGER_COMMIT",
            0,
        ),
    ] {
        if std::env::var_os(env).is_none() {
            // SAFETY: sets one of mimalloc's option values (a plain store into its option table,
            // range-checked by mimalloc); no memory is handed over.
            unsafe { libmimalloc_sys::mi_option_set(option, value) };
        }
    }
    disable_transparent_huge_pages();
}

/// No transparent huge pages for this process: mimalloc asks for them on its arenas
/// (`madvise(MADV_HUGEPAGE)`, already done for its first arena before `main`, which is why its
/// own `allow_thp` option cannot be set from here), and a 2 MB page is resident as soon as one
/// byte of it is touched: about 160 MB of the memory bench's peak. `MIMALLOC_ALLOW_THP` in the
/// environment leaves them on, to measure.
#[cfg(target_os = "linux")]
fn disable_transparent_huge_pages() {
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_some() {
        return;
    }
    // SAFETY: prctl with an integer option and integer arguments; no pointers.
    let failed = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) } != 0;
    if failed {
        // An old kernel (before 3.15): huge pages stay as the system sets them.
        eprintln!(
            "note: could not turn off transparent huge pages: {}",
            std::io::Error::last_os_error()
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn disable_transparent_huge_pages() {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option indexes name the options meant: their documented defaults in mimalloc v3
    /// (arena_eager_commit = 2, purge_delay = 1000 ms), read before anything sets them.
    #[test]
    fn mimalloc_option_indexes_match_the_vendored_header() {
        if std::env::vars().any(|(k, _)| k.starts_with("MIMALLOC_")) {
            return;
        }
        // SAFETY: reads mimalloc's option table.
        let (eager, purge) = unsafe {
            (
                libmimalloc_sys::mi_option_get(MI_OPTION_ARENA_EAGER_COMMIT),
                libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY),
            )
        };
        assert_eq!((eager, purge), (2, 1000));
    }
}
