//! The descriptor of the epoll instance behind a Tokio runtime's I/O driver (Linux), for an
//! event loop that waits in its own selector and must learn when the runtime has work: that
//! instance is readable whenever one of the runtime's sockets is ready, or the runtime was woken
//! from another thread. Tokio does not expose it, so it is found through the kernel: a probe
//! socket is registered with the runtime, and the one epoll instance of the process that
//! watches the probe (by descriptor and inode, as `/proc/self/fdinfo` lists them) is the
//! runtime's. Anything unexpected (no `/proc`, no match, two matches) gives `None`, and the
//! caller does without.

use std::os::fd::RawFd;

/// The epoll descriptor of `rt`'s I/O driver, if it can be found.
#[cfg(target_os = "linux")]
pub fn of(rt: &tokio::runtime::Runtime) -> Option<RawFd> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;

    let _inside = rt.enter();
    // Registered with this runtime's driver as it is made; kept open for the whole search, so
    // its number and inode name it alone.
    let (probe, _peer) = tokio::net::UnixStream::pair().ok()?;
    let fd = probe.as_raw_fd();
    let inode = std::fs::metadata(format!("/proc/self/fd/{fd}")).ok()?.ino();
    // The driver holds its instance under two descriptors (mio's registry is a duplicate);
    // both list the same entries, and either one will do.
    let mut found: Option<(RawFd, Vec<String>)> = None;
    for entry in std::fs::read_dir("/proc/self/fd").ok()?.flatten() {
        let Some(candidate) = entry.file_name().to_str().and_then(|n| n.parse::<RawFd>().ok()) else { continue };
        if std::fs::read_link(entry.path()).ok().as_deref() != Some(std::path::Path::new("anon_inode:[eventpoll]")) {
            continue;
        }
        let Ok(info) = std::fs::read_to_string(format!("/proc/self/fdinfo/{candidate}")) else { continue };
        if !info.lines().any(|line| watches(line, fd, inode)) {
            continue;
        }
        let entries: Vec<String> = info.lines().filter(|l| l.starts_with("tfd:")).map(str::to_owned).collect();
        match &found {
            None => found = Some((candidate, entries)),
            Some((_, seen)) if *seen == entries => {}
            // Another instance watching the probe: cannot tell which is the runtime's.
            Some(_) => return None,
        }
    }
    found.map(|(fd, _)| fd)
}

/// Elsewhere the driver is not an epoll instance this search knows.
#[cfg(not(target_os = "linux"))]
pub fn of(_rt: &tokio::runtime::Runtime) -> Option<RawFd> {
    None
}

/// Whether `line` of an epoll instance's fdinfo (`tfd: 7 events: … ino:3a2f sdev:9`) is its
/// entry for descriptor `fd` with inode `inode`.
#[cfg(target_os = "linux")]
fn watches(line: &str, fd: RawFd, inode: u64) -> bool {
    let mut words = line.split_whitespace();
    if words.next() != Some("tfd:") || words.next().and_then(|w| w.parse::<RawFd>().ok()) != Some(fd) {
        return false;
    }
    words.any(|w| w.strip_prefix("ino:").and_then(|h| u64::from_str_radix(h, 16).ok()) == Some(inode))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn reads_an_fdinfo_entry() {
        let line = "tfd:        4 events: 80000019 data:                4  pos:0 ino:30c752 sdev:9";
        assert!(watches(line, 4, 0x30c752));
        assert!(!watches(line, 5, 0x30c752));
        assert!(!watches(line, 4, 0x30c753));
        assert!(!watches("pos:\t0", 4, 0x30c752));
    }

    /// Whether epoll instance `epfd` watches `fd`.
    fn listed(epfd: RawFd, fd: RawFd) -> bool {
        use std::os::unix::fs::MetadataExt;
        let inode = std::fs::metadata(format!("/proc/self/fd/{fd}")).unwrap().ino();
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{epfd}")).unwrap();
        info.lines().any(|l| watches(l, fd, inode))
    }

    #[test]
    fn finds_the_instance_that_watches_the_runtimes_sockets() {
        use std::os::fd::AsRawFd;
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        // Another runtime in the process, whose instance must not be taken for this one's.
        let other = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (ours, theirs) = (of(&rt).expect("found"), of(&other).expect("found"));
        assert_ne!(ours, theirs);
        // A socket the runtime opens later is watched by that instance, not by the other.
        let (a, _b) = rt.block_on(async { tokio::net::UnixStream::pair() }).unwrap();
        assert!(listed(ours, a.as_raw_fd()));
        assert!(!listed(theirs, a.as_raw_fd()));
    }
}
