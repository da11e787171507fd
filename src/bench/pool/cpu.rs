//! The load generator's own CPU time (user + system, all threads), read
//! with getrusage(RUSAGE_SELF) around each step, so a report can tell when
//! the client rather than the server was the bottleneck.

use std::time::Duration;

/// CPU time this process has used so far; zero if the call fails.
pub fn process_cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct we pass, which is plain data
    // that may start zeroed.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    if rc != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Cores this process may run on (the tokio runtime starts one worker each).
pub fn client_cores() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_grows_with_work() {
        let before = process_cpu_time();
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(30) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        assert!(process_cpu_time() > before);
        assert!(client_cores() >= 1);
    }
}
