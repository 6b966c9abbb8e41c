//! Raises the open-file limit to its hard maximum at start: every forwarded
//! connection holds a descriptor, and the default soft limit (often 1024) is
//! far below what a SOCKS proxy for a browser reaches. When it is reached
//! anyway, listeners pause instead of spinning ([`crate::forward::accept_loop`]).

/// Sets RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft
/// limit, or None when it could not be read or changed.
pub fn raise_nofile() -> Option<u64> {
    // SAFETY: getrlimit/setrlimit only read and write the local struct.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return None;
            }
        }
        Some(limit.rlim_cur as u64)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn soft_limit_ends_at_the_hard_limit() {
        let soft = super::raise_nofile().expect("getrlimit works here");
        // SAFETY: as above.
        let hard = unsafe {
            let mut limit: libc::rlimit = std::mem::zeroed();
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
            limit.rlim_max as u64
        };
        assert_eq!(soft, hard);
    }
}
