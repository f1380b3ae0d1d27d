//! Throttling of guessing (passwords, enrolment codes), race-free and shared by every server
//! process on the database (issue 14).
//!
//! An attempt is *reserved* before the slow check (Argon2, database), in one database
//! transaction serialised with every other reservation: every key it touches is checked
//! against its cap and counted at once, so concurrent attempts — on one process or on several
//! behind a load balancer — can never exceed a cap. A failed attempt keeps its count; an
//! attempt that succeeds, or that ends before the secret was checked (e.g. a malformed
//! request), gives its reservation back. Counts live in fixed windows of [`WINDOW_MINUTES`]
//! from a key's first counted attempt, in the table `throttle_windows` (migration 0013); the
//! rule deciding a reservation is [`plan`], the backends only read and write.
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
//! audit log; names and codes are stored as hashes only.
use crate::storage::shared::Counted;
use crate::storage::{ServerStore, StoreError};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

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

/// The counting window of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// When the window started (the key's first counted attempt in it).
    pub started: DateTime<Utc>,
    /// Attempts counted in it.
    pub count: u32,
}

/// Which throttle a limiter is (the keys of the two are counted apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// Sign-in with a password.
    Login,
    /// Device enrolment with a one-time code.
    Enrol,
}

impl Throttle {
    /// Stored name (`throttle_windows.limiter`).
    pub fn as_str(self) -> &'static str {
        match self {
            Throttle::Login => "login",
            Throttle::Enrol => "enrol",
        }
    }
}

/// Counts attempts per key in fixed windows, in the database; see the module documentation.
pub struct FailureLimiter {
    throttle: Throttle,
    window: Duration,
    store: Arc<dyn ServerStore>,
}

impl std::fmt::Debug for FailureLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailureLimiter")
            .field("throttle", &self.throttle)
            .field("window", &self.window)
            .finish_non_exhaustive()
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

/// The reservation rule. `current` holds the stored windows of the limits' keys (missing:
/// none). Refused when a key's live window is at its cap; otherwise one more attempt is
/// counted against every key (a window that is over starts again at `now`) and the windows
/// to write are returned, one per limit. A window is live while `now - started < window`; a
/// request that read the clock just before another one that opened the window is in that
/// window too (`now` may be a little earlier than `started`): treating it as outside would
/// restart the count and let extra attempts through.
pub fn plan(
    current: &HashMap<String, Window>,
    limits: &[Limit],
    now: DateTime<Utc>,
    window: Duration,
) -> Result<Vec<(String, Window)>, Throttled> {
    let live = |w: &Window| now - w.started < window;
    for limit in limits {
        if let Some(w) = current.get(&limit.key)
            && live(w)
            && w.count >= limit.max
        {
            return Err(Throttled);
        }
    }
    let mut out: Vec<(String, Window)> = Vec::with_capacity(limits.len());
    for limit in limits {
        if out.iter().any(|(k, _)| *k == limit.key) {
            continue;
        }
        let w = match current.get(&limit.key) {
            Some(w) if live(w) => Window {
                started: w.started,
                count: w.count + 1,
            },
            _ => Window {
                started: now,
                count: 1,
            },
        };
        out.push((limit.key.clone(), w));
    }
    Ok(out)
}

/// A reserved attempt. Call [`Attempt::failed`] when the secret was wrong (the counts stay)
/// or [`Attempt::succeeded`]; [`Attempt::release`] (or dropping it, which releases in the
/// background) gives the reservation back.
#[derive(Debug)]
pub struct Attempt {
    limiter: Arc<FailureLimiter>,
    /// Keys counted, with the start of the window they were counted in.
    counted: Vec<Counted>,
    settled: bool,
}

impl Attempt {
    /// The secret was wrong: the attempt stays counted.
    pub fn failed(mut self) {
        self.settled = true;
    }

    /// The secret was right: gives the reservation back and forgets the keys in `reset`.
    pub async fn succeeded(mut self, reset: &[&str]) -> Result<(), StoreError> {
        self.settled = true;
        let reset: Vec<String> = reset.iter().map(|k| (*k).to_owned()).collect();
        self.limiter
            .store
            .throttle_release(self.limiter.throttle.as_str(), &self.counted, &reset)
            .await
    }

    /// The secret was not checked: gives the reservation back now.
    pub async fn release(mut self) -> Result<(), StoreError> {
        self.settled = true;
        self.limiter
            .store
            .throttle_release(self.limiter.throttle.as_str(), &self.counted, &[])
            .await
    }
}

impl Drop for Attempt {
    /// An attempt neither failed nor succeeded (an error on the way, a dropped request) gives
    /// its reservation back in the background.
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let limiter = Arc::clone(&self.limiter);
        let counted = std::mem::take(&mut self.counted);
        runtime.spawn(async move {
            if let Err(e) = limiter
                .store
                .throttle_release(limiter.throttle.as_str(), &counted, &[])
                .await
            {
                tracing::warn!(error = %e, "giving a throttle reservation back failed");
            }
        });
    }
}

impl FailureLimiter {
    /// A limiter of `throttle` on `store` with windows of [`WINDOW_MINUTES`].
    pub fn new(throttle: Throttle, store: Arc<dyn ServerStore>) -> Self {
        FailureLimiter::with_window(throttle, store, Duration::minutes(WINDOW_MINUTES))
    }

    /// A limiter with windows of `window`.
    pub fn with_window(throttle: Throttle, store: Arc<dyn ServerStore>, window: Duration) -> Self {
        FailureLimiter {
            throttle,
            window,
            store,
        }
    }

    /// Checks every limit and, if none is at its cap at `now`, counts one attempt against
    /// each, atomically over every process on the database. `Ok(Err(Throttled))` counts
    /// nothing.
    pub async fn reserve(
        self: &Arc<Self>,
        limits: &[Limit],
        now: DateTime<Utc>,
    ) -> Result<Result<Attempt, Throttled>, StoreError> {
        // Stored times keep microseconds; a window is given back by its exact start.
        let now = now.trunc_subsecs(6);
        let counted = self
            .store
            .throttle_reserve(self.throttle.as_str(), limits, now, self.window)
            .await?;
        Ok(counted.map(|counted| Attempt {
            limiter: Arc::clone(self),
            counted,
            settled: false,
        }))
    }

    /// Remembers a successful sign-in for `known_key` ([`LoginKeys::known`]) at `now`.
    pub async fn remember_known(
        &self,
        known_key: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now = now.trunc_subsecs(6);
        self.store
            .throttle_remember(known_key, now, now - Duration::days(KNOWN_ADDRESS_DAYS))
            .await
    }

    /// Whether `known_key` had a successful sign-in within [`KNOWN_ADDRESS_DAYS`] of `now`.
    pub async fn is_known(&self, known_key: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(self
            .store
            .throttle_known_at(known_key)
            .await?
            .is_some_and(|t| now - t < Duration::days(KNOWN_ADDRESS_DAYS)))
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
    use crate::storage::SqliteStore;

    struct Fixture {
        _dir: tempfile::TempDir,
        store: Arc<dyn ServerStore>,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn ServerStore> =
            Arc::new(SqliteStore::open(dir.path().join("t.db")).unwrap());
        Fixture { _dir: dir, store }
    }

    fn limiter(f: &Fixture) -> Arc<FailureLimiter> {
        Arc::new(FailureLimiter::new(Throttle::Login, f.store.clone()))
    }

    fn limit(key: &str, max: u32) -> Limit {
        Limit {
            key: key.into(),
            max,
        }
    }

    async fn reserve(
        l: &Arc<FailureLimiter>,
        limits: &[Limit],
        t: DateTime<Utc>,
    ) -> Result<Attempt, Throttled> {
        l.reserve(limits, t).await.unwrap()
    }

    #[test]
    fn the_plan_counts_every_key_or_none() {
        let t = Utc::now();
        let w = Duration::minutes(WINDOW_MINUTES);
        let mut current = HashMap::new();
        current.insert(
            "a".to_owned(),
            Window {
                started: t,
                count: 1,
            },
        );
        assert_eq!(
            plan(&current, &[limit("b", 1), limit("a", 1)], t, w),
            Err(Throttled)
        );
        let out = plan(&current, &[limit("a", 2), limit("b", 1)], t, w).unwrap();
        assert_eq!(
            out[0],
            (
                "a".to_owned(),
                Window {
                    started: t,
                    count: 2
                }
            )
        );
        assert_eq!(
            out[1],
            (
                "b".to_owned(),
                Window {
                    started: t,
                    count: 1
                }
            )
        );
        // A window that is over starts again.
        let later = t + w;
        let out = plan(&current, &[limit("a", 1)], later, w).unwrap();
        assert_eq!(
            out[0].1,
            Window {
                started: later,
                count: 1
            }
        );
        // A clock read a little before the window opened is inside it.
        let earlier = t - Duration::milliseconds(5);
        assert_eq!(plan(&current, &[limit("a", 1)], earlier, w), Err(Throttled));
    }

    #[tokio::test]
    async fn reservations_count_before_the_outcome_is_known() {
        let f = fixture();
        let l = limiter(&f);
        let t = Utc::now();
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(reserve(&l, &[limit("k", 3)], t).await.unwrap());
        }
        // Three attempts in flight fill the cap: a fourth is refused at once.
        assert_eq!(
            reserve(&l, &[limit("k", 3)], t).await.unwrap_err(),
            Throttled
        );
        // Releasing one (never checked) frees its place; a failure keeps it.
        let mut held = held.into_iter();
        held.next().unwrap().release().await.unwrap();
        held.next().unwrap().failed();
        let again = reserve(&l, &[limit("k", 3)], t).await.unwrap();
        assert!(reserve(&l, &[limit("k", 3)], t).await.is_err());
        again.succeeded(&[]).await.unwrap();
        assert!(reserve(&l, &[limit("k", 3)], t).await.is_ok());
    }

    #[tokio::test]
    async fn a_dropped_attempt_gives_its_place_back() {
        let f = fixture();
        let l = limiter(&f);
        let t = Utc::now();
        drop(reserve(&l, &[limit("k", 1)], t).await.unwrap());
        // Given back in the background: it frees the place soon.
        let mut freed = false;
        for _ in 0..100 {
            if let Ok(a) = reserve(&l, &[limit("k", 1)], t).await {
                a.failed();
                freed = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(freed);
        assert!(reserve(&l, &[limit("k", 1)], t).await.is_err());
    }

    #[tokio::test]
    async fn a_refusal_counts_nothing_and_windows_expire() {
        let f = fixture();
        let l = limiter(&f);
        let t = Utc::now();
        reserve(&l, &[limit("a", 1)], t).await.unwrap().failed();
        // "b" is not counted when "a" refuses the attempt.
        assert!(
            reserve(&l, &[limit("b", 1), limit("a", 1)], t)
                .await
                .is_err()
        );
        reserve(&l, &[limit("b", 1)], t).await.unwrap().failed();
        assert!(reserve(&l, &[limit("b", 1)], t).await.is_err());
        let later = t + Duration::minutes(WINDOW_MINUTES);
        assert!(
            reserve(&l, &[limit("a", 1), limit("b", 1)], later)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn the_two_throttles_count_apart() {
        let f = fixture();
        let login = limiter(&f);
        let enrol = Arc::new(FailureLimiter::new(Throttle::Enrol, f.store.clone()));
        let t = Utc::now();
        reserve(&login, &[limit("addr:10.0.0.1", 1)], t)
            .await
            .unwrap()
            .failed();
        assert!(
            reserve(&login, &[limit("addr:10.0.0.1", 1)], t)
                .await
                .is_err()
        );
        assert!(
            reserve(&enrol, &[limit("addr:10.0.0.1", 1)], t)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn success_resets_the_pair_only() {
        let f = fixture();
        let l = limiter(&f);
        let t = Utc::now();
        let keys = LoginKeys::new("admin", Some("10.0.0.1".parse().unwrap()));
        for _ in 0..5 {
            reserve(&l, &keys.limits(false), t).await.unwrap().failed();
        }
        reserve(&l, &keys.limits(false), t)
            .await
            .unwrap()
            .succeeded(&[&keys.pair])
            .await
            .unwrap();
        // The pair starts again (10 more allowed); the name and address keep 5 each.
        let pair_only = [limit(&keys.pair, 1)];
        reserve(&l, &pair_only, t).await.unwrap().failed();
        assert!(reserve(&l, &[limit(&keys.name, 5)], t).await.is_err());
        assert!(reserve(&l, &[limit(&keys.address, 5)], t).await.is_err());
        assert!(reserve(&l, &[limit(&keys.name, 6)], t).await.is_ok());
    }

    #[tokio::test]
    async fn the_name_cap_spares_known_addresses() {
        let f = fixture();
        let l = limiter(&f);
        let t = Utc::now();
        let office: IpAddr = "10.0.0.1".parse().unwrap();
        l.remember_known("admin|10.0.0.1", t).await.unwrap();
        // Attackers at many addresses exhaust the name-wide cap…
        for i in 0..LOGIN_PER_NAME {
            let from: IpAddr = format!("10.1.{}.{}", i / 10, i % 10).parse().unwrap();
            let keys = LoginKeys::new("admin", Some(from));
            reserve(&l, &keys.limits(false), t).await.unwrap().failed();
        }
        let stranger = LoginKeys::new("admin", Some("10.2.0.1".parse().unwrap()));
        assert!(reserve(&l, &stranger.limits(false), t).await.is_err());
        // …but the office, where the admin signed in before, is not locked out.
        assert!(l.is_known("admin|10.0.0.1", t).await.unwrap());
        let at_office = LoginKeys::new("admin", Some(office));
        assert!(reserve(&l, &at_office.limits(true), t).await.is_ok());
        let much_later = t + Duration::days(KNOWN_ADDRESS_DAYS);
        assert!(!l.is_known("admin|10.0.0.1", much_later).await.unwrap());
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

    #[tokio::test]
    async fn one_address_cannot_lock_a_name_everywhere() {
        let f = fixture();
        let l = limiter(&f);
        let t = Utc::now();
        let attacker = LoginKeys::new("admin", Some("10.9.9.9".parse().unwrap()));
        let mut checked = 0;
        for _ in 0..30 {
            if let Ok(a) = reserve(&l, &attacker.limits(false), t).await {
                a.failed();
                checked += 1;
            }
        }
        assert_eq!(checked, LOGIN_PER_NAME_AND_ADDRESS);
        let elsewhere = LoginKeys::new("admin", Some("10.0.0.1".parse().unwrap()));
        assert!(reserve(&l, &elsewhere.limits(false), t).await.is_ok());
    }
}
