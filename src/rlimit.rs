//! Raises the open-file limit to its hard maximum at start: every forwarded
//! connection holds a descriptor, and the default soft limit (often 1024) is
//! far below what a SOCKS proxy for a browser reaches. When it is reached
//! anyway, listeners pause instead of spinning ([`crate::listen::accept_loop`]).

/// Sets RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft
/// limit, or None when it could not be read or changed.
pub fn raise_nofile() -> Option<u64> {
    let (soft, hard) = crate::sys::open_files_limit()?;
    if soft < hard {
        crate::sys::set_open_files_limit(hard, hard).ok()?;
    }
    Some(hard)
}

#[cfg(test)]
mod tests {
    #[test]
    fn soft_limit_ends_at_the_hard_limit() {
        let soft = super::raise_nofile().expect("getrlimit works here");
        let (now, hard) = crate::sys::open_files_limit().unwrap();
        assert_eq!((soft, now), (hard, hard));
    }
}
