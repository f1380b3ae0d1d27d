//! Throttling of guessing (passwords, enrolment codes), race-free.
//!
//! An attempt is *reserved* before the slow check (Argon2, database), under one lock: every
//! key it touches is checked against its cap and counted at once, so concurrent attempts can
//! never exceed a cap. A failed attempt keeps its count; an attempt that succeeds, or that
//! ends before the secret was checked (e.g. a malformed request), gives its reservation back.
//! Counts live in fixed windows of [`WINDOW_MINUTES`] from a key's first counted attempt.
//! In memory only: a restart forgets.
//!
//! The keys and caps ([`LoginKeys`], [`EnrolKeys`]) are chosen so that an attacker cannot
//! lock a real user out from elsewhere:
//!
//! * sign-in: [`LOGIN_PER_NAME_AND_ADDRESS`] failures per user name *and* client address lock
//!   that pair only; [`LOGIN_PER_NAME`] failures per name from all addresses together slow
//!   the name everywhere, except at addresses where that user signed in successfully within
//!   [`KNOWN_ADDRESS_DAYS`]; [`LOGIN_PER_ADDRESS`] failures per address over all names stop
//!   password spraying from one address;
//! * enrolment: [`ENROL_PER_CODE`] failures per code tried (kept as a hash), and
//!   [`ENROL_PER_ADDRESS`] per client address, higher, so that one bad device behind a
//!   post office's shared address does not block the others.
//!
//! A client address is an IPv4 address or an IPv6 /64 network. Keys never reach a log or the
//! audit log.
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// Length of a counting window, minutes.
pub const WINDOW_MINUTES: i64 = 15;
/// Failed sign-ins per user name and client address per window.
pub const LOGIN_PER_NAME_AND_ADDRESS: u32 = 10;
/// Failed sign-ins per user name from all addresses per window (not applied at addresses
/// where the user signed in successfully lately).
pub const LOGIN_PER_NAME: u32 = 100;
/// Failed sign-ins per client address over all names per window.
pub const LOGIN_PER_ADDRESS: u32 = 50;
/// How long an address where a user signed in counts as known for that user, days.
pub const KNOWN_ADDRESS_DAYS: i64 = 30;
/// Failed enrolments per code tried per window.
pub const ENROL_PER_CODE: u32 = 10;
/// Failed enrolments per client address per window.
pub const ENROL_PER_ADDRESS: u32 = 30;

/// Entries kept before stale ones are pruned.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    started: DateTime<Utc>,
    count: u32,
}

#[derive(Debug, Default)]
struct State {
    windows: HashMap<String, Window>,
    /// `name|address` → last successful sign-in there.
    known: HashMap<String, DateTime<Utc>>,
}

/// Counts attempts per key in fixed windows; see the module documentation.
#[derive(Debug)]
pub struct FailureLimiter {
    window: Duration,
    state: Mutex<State>,
}

impl Default for FailureLimiter {
    /// Windows of [`WINDOW_MINUTES`].
    fn default() -> Self {
        FailureLimiter::new(Duration::minutes(WINDOW_MINUTES))
    }
}

/// One key of an attempt with its cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// The key (already canonical).
    pub key: String,
    /// Attempts allowed per window.
    pub max: u32,
}

/// The attempt was refused: a key is at its cap. Answer `429.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many failed attempts; wait until the window has passed")]
pub struct Throttled;

/// A reserved attempt. Call [`Attempt::failed`] when the secret was wrong (the counts stay)
/// or [`Attempt::succeeded`]; dropping it otherwise gives the reservation back.
#[derive(Debug)]
pub struct Attempt {
    limiter: Arc<FailureLimiter>,
    /// Keys counted, with the start of the window they were counted in.
    counted: Vec<(String, DateTime<Utc>)>,
    settled: bool,
}

impl Attempt {
    /// The secret was wrong: the attempt stays counted.
    pub fn failed(mut self) {
        self.settled = true;
    }

    /// The secret was right: gives the reservation back and forgets the keys in `reset`.
    pub fn succeeded(mut self, reset: &[&str]) {
        let mut state = self.limiter.lock();
        release(&mut state, &self.counted);
        for key in reset {
            state.windows.remove(*key);
        }
        self.settled = true;
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.settled {
            let mut state = self.limiter.lock();
            release(&mut state, &self.counted);
        }
    }
}

fn release(state: &mut State, counted: &[(String, DateTime<Utc>)]) {
    for (key, started) in counted {
        if let Some(w) = state.windows.get_mut(key)
            && w.started == *started
        {
            w.count = w.count.saturating_sub(1);
        }
    }
}

impl FailureLimiter {
    /// A limiter with windows of `window`.
    pub fn new(window: Duration) -> Self {
        FailureLimiter {
            window,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Checks every limit and, if none is at its cap at `now`, counts one attempt against
    /// each, atomically. `Err(Throttled)` counts nothing.
    pub fn reserve(
        self: &Arc<Self>,
        limits: &[Limit],
        now: DateTime<Utc>,
    ) -> Result<Attempt, Throttled> {
        let mut state = self.lock();
        if state.windows.len() > PRUNE_ABOVE {
            let window = self.window;
            state.windows.retain(|_, w| now - w.started < window);
        }
        // A request that read the clock just before another one that opened the window is in
        // that window too (`now` may be a little earlier than `started`); treating it as
        // outside would restart the count and let extra attempts through.
        let live = |w: &Window| now - w.started < self.window;
        for limit in limits {
            if let Some(w) = state.windows.get(&limit.key)
                && live(w)
                && w.count >= limit.max
            {
                return Err(Throttled);
            }
        }
        let mut counted = Vec::with_capacity(limits.len());
        for limit in limits {
            let w = state.windows.entry(limit.key.clone()).or_insert(Window {
                started: now,
                count: 0,
            });
            if !live(w) {
                *w = Window {
                    started: now,
                    count: 0,
                };
            }
            w.count += 1;
            counted.push((limit.key.clone(), w.started));
        }
        Ok(Attempt {
            limiter: Arc::clone(self),
            counted,
            settled: false,
        })
    }

    /// Remembers a successful sign-in for `known_key` ([`LoginKeys::known`]) at `now`.
    pub fn remember_known(&self, known_key: &str, now: DateTime<Utc>) {
        let mut state = self.lock();
        if state.known.len() > PRUNE_ABOVE {
            state
                .known
                .retain(|_, t| now - *t < Duration::days(KNOWN_ADDRESS_DAYS));
        }
        state.known.insert(known_key.to_owned(), now);
    }

    /// Whether `known_key` had a successful sign-in within [`KNOWN_ADDRESS_DAYS`] of `now`.
    pub fn is_known(&self, known_key: &str, now: DateTime<Utc>) -> bool {
        self.lock()
            .known
            .get(known_key)
            .is_some_and(|t| now - *t < Duration::days(KNOWN_ADDRESS_DAYS))
    }
}

/// The throttled unit of a client address: an IPv4 address, or the /64 network of an IPv6
/// address (one subscriber usually holds a whole /64, so single IPv6 addresses are free to
/// rotate).
fn address_text(address: Option<IpAddr>) -> String {
    match address {
        None => "unknown".into(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The keys of one sign-in attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginKeys {
    /// Name and address together.
    pub pair: String,
    /// The name alone.
    pub name: String,
    /// The address alone.
    pub address: String,
    /// Name and address as remembered after a successful sign-in.
    pub known: String,
}

impl LoginKeys {
    /// Keys for user name `name` (canonical, or a hash of it) signing in from `address`.
    pub fn new(name: &str, address: Option<IpAddr>) -> Self {
        let address = address_text(address);
        LoginKeys {
            known: format!("{name}|{address}"),
            pair: format!("pair:{name}|{address}"),
            name: format!("name:{name}"),
            address: format!("addr:{address}"),
        }
    }

    /// The limits of an attempt; the name-wide cap is left out at a known address.
    pub fn limits(&self, known_address: bool) -> Vec<Limit> {
        let mut limits = vec![
            Limit {
                key: self.pair.clone(),
                max: LOGIN_PER_NAME_AND_ADDRESS,
            },
            Limit {
                key: self.address.clone(),
                max: LOGIN_PER_ADDRESS,
            },
        ];
        if !known_address {
            limits.push(Limit {
                key: self.name.clone(),
                max: LOGIN_PER_NAME,
            });
        }
        limits
    }
}

/// The keys of one enrolment attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolKeys {
    /// The code tried, as its hash.
    pub code: String,
    /// The client address.
    pub address: String,
}

impl EnrolKeys {
    /// Keys for a code with hash `code_hash` tried from `address`.
    pub fn new(code_hash: &str, address: Option<IpAddr>) -> Self {
        EnrolKeys {
            code: format!("code:{code_hash}"),
            address: format!("addr:{}", address_text(address)),
        }
    }

    /// The limits of an attempt.
    pub fn limits(&self) -> Vec<Limit> {
        vec![
            Limit {
                key: self.code.clone(),
                max: ENROL_PER_CODE,
            },
            Limit {
                key: self.address.clone(),
                max: ENROL_PER_ADDRESS,
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> Arc<FailureLimiter> {
        Arc::new(FailureLimiter::default())
    }

    fn limit(key: &str, max: u32) -> Limit {
        Limit {
            key: key.into(),
            max,
        }
    }

    #[test]
    fn reservations_count_before_the_outcome_is_known() {
        let l = limiter();
        let t = Utc::now();
        let held: Vec<Attempt> = (0..3)
            .map(|_| l.reserve(&[limit("k", 3)], t).unwrap())
            .collect();
        // Three attempts in flight fill the cap: a fourth is refused at once.
        assert_eq!(l.reserve(&[limit("k", 3)], t).unwrap_err(), Throttled);
        // Dropping one (never checked) frees its place; a failure keeps it.
        let mut held = held.into_iter();
        drop(held.next());
        held.next().unwrap().failed();
        let again = l.reserve(&[limit("k", 3)], t).unwrap();
        assert!(l.reserve(&[limit("k", 3)], t).is_err());
        again.succeeded(&[]);
        assert!(l.reserve(&[limit("k", 3)], t).is_ok());
    }

    #[test]
    fn a_refusal_counts_nothing_and_windows_expire() {
        let l = limiter();
        let t = Utc::now();
        l.reserve(&[limit("a", 1)], t).unwrap().failed();
        // "b" is not counted when "a" refuses the attempt.
        assert!(l.reserve(&[limit("b", 1), limit("a", 1)], t).is_err());
        l.reserve(&[limit("b", 1)], t).unwrap().failed();
        assert!(l.reserve(&[limit("b", 1)], t).is_err());
        let later = t + Duration::minutes(WINDOW_MINUTES);
        assert!(l.reserve(&[limit("a", 1), limit("b", 1)], later).is_ok());
    }

    #[test]
    fn success_resets_the_pair_only() {
        let l = limiter();
        let t = Utc::now();
        let keys = LoginKeys::new("admin", Some("10.0.0.1".parse().unwrap()));
        for _ in 0..5 {
            l.reserve(&keys.limits(false), t).unwrap().failed();
        }
        l.reserve(&keys.limits(false), t)
            .unwrap()
            .succeeded(&[&keys.pair]);
        let state = l.lock();
        assert!(!state.windows.contains_key(&keys.pair));
        assert_eq!(state.windows[&keys.name].count, 5);
        assert_eq!(state.windows[&keys.address].count, 5);
    }

    #[test]
    fn the_name_cap_spares_known_addresses() {
        let l = limiter();
        let t = Utc::now();
        let office: IpAddr = "10.0.0.1".parse().unwrap();
        l.remember_known("admin|10.0.0.1", t);
        // Attackers at many addresses exhaust the name-wide cap…
        for i in 0..LOGIN_PER_NAME {
            let from: IpAddr = format!("10.1.{}.{}", i / 10, i % 10).parse().unwrap();
            let keys = LoginKeys::new("admin", Some(from));
            l.reserve(&keys.limits(false), t).unwrap().failed();
        }
        let stranger = LoginKeys::new("admin", Some("10.2.0.1".parse().unwrap()));
        assert!(l.reserve(&stranger.limits(false), t).is_err());
        // …but the office, where the admin signed in before, is not locked out.
        assert!(l.is_known("admin|10.0.0.1", t));
        let at_office = LoginKeys::new("admin", Some(office));
        assert!(l.reserve(&at_office.limits(true), t).is_ok());
        assert!(!l.is_known("admin|10.0.0.1", t + Duration::days(KNOWN_ADDRESS_DAYS)));
    }

    #[test]
    fn ipv6_addresses_are_throttled_per_64_network() {
        let a = EnrolKeys::new("h", Some("2001:db8:1:2:aaaa::1".parse().unwrap()));
        let b = EnrolKeys::new("h", Some("2001:db8:1:2:bbbb::9".parse().unwrap()));
        let c = EnrolKeys::new("h", Some("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(a.address, b.address);
        assert_ne!(a.address, c.address);
        let mapped = EnrolKeys::new("h", Some("::ffff:10.0.0.1".parse().unwrap()));
        let v4 = EnrolKeys::new("h", Some("10.0.0.1".parse().unwrap()));
        assert_eq!(mapped.address, v4.address);
    }

    #[test]
    fn one_address_cannot_lock_a_name_everywhere() {
        let l = limiter();
        let t = Utc::now();
        let attacker = LoginKeys::new("admin", Some("10.9.9.9".parse().unwrap()));
        let mut checked = 0;
        for _ in 0..1000 {
            if let Ok(a) = l.reserve(&attacker.limits(false), t) {
                a.failed();
                checked += 1;
            }
        }
        assert_eq!(checked, LOGIN_PER_NAME_AND_ADDRESS);
        let elsewhere = LoginKeys::new("admin", Some("10.0.0.1".parse().unwrap()));
        assert!(l.reserve(&elsewhere.limits(false), t).is_ok());
    }
}
