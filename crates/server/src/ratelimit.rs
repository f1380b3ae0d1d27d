//! Throttling of guessing: after too many failed attempts for one key within a window,
//! further attempts get `429.1` until the window has passed. In memory only (a restart
//! forgets). Keys: the username for logins; the client IP address and the code tried (as a
//! hash) for enrolments.
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// Entries kept before stale ones are pruned.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    started: DateTime<Utc>,
    failures: u32,
}

/// Counts failed attempts per key (lower-cased) in a fixed window.
#[derive(Debug)]
pub struct FailureLimiter {
    max_failures: u32,
    window: Duration,
    entries: Mutex<HashMap<String, Window>>,
}

impl Default for FailureLimiter {
    /// 10 failures per 15 minutes.
    fn default() -> Self {
        FailureLimiter::new(10, Duration::minutes(15))
    }
}

impl FailureLimiter {
    /// At most `max_failures` failures per `window`.
    pub fn new(max_failures: u32, window: Duration) -> Self {
        FailureLimiter {
            max_failures,
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn key(key: &str) -> String {
        key.trim().to_lowercase()
    }

    /// Whether another attempt for `key` is allowed at `now`.
    pub fn allowed(&self, key: &str, now: DateTime<Utc>) -> bool {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(&Self::key(key)) {
            Some(w) if now - w.started < self.window => w.failures < self.max_failures,
            _ => true,
        }
    }

    /// Records a failed attempt for `key` at `now`.
    pub fn record_failure(&self, key: &str, now: DateTime<Utc>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() > PRUNE_ABOVE {
            let window = self.window;
            entries.retain(|_, w| now - w.started < window);
        }
        let w = entries.entry(Self::key(key)).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now - w.started >= self.window {
            *w = Window {
                started: now,
                failures: 0,
            };
        }
        w.failures += 1;
    }

    /// Forgets `key` (after a successful attempt).
    pub fn reset(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&Self::key(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_failures_until_the_window_passes() {
        let l = FailureLimiter::new(2, Duration::minutes(1));
        let t = Utc::now();
        assert!(l.allowed("Alice", t));
        l.record_failure("alice", t);
        l.record_failure("ALICE", t);
        assert!(!l.allowed("alice", t));
        assert!(l.allowed("bob", t));
        assert!(l.allowed("alice", t + Duration::minutes(2)));
        l.reset("alice");
        assert!(l.allowed("alice", t));
    }
}
