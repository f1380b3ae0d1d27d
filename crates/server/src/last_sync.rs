//! When each device last synced. [`LastSync`] decides when a pull or upload should write the
//! device's `last_sync_at`: at most once per [`RESOLUTION`] per device, so syncing does not
//! cost a database write per request. In memory; a restart only means one extra write.
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

/// Precision of `last_sync_at`: one minute.
pub const RESOLUTION: Duration = Duration::minutes(1);

/// Remembers when each device's sync time was last written.
#[derive(Debug, Default)]
pub struct LastSync {
    written: Mutex<HashMap<Uuid, DateTime<Utc>>>,
}

impl LastSync {
    /// Whether `device`'s sync time should be written now; if so, remembers `now` as written.
    pub fn due(&self, device: Uuid, now: DateTime<Utc>) -> bool {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        match written.get(&device) {
            Some(t) if now - *t < RESOLUTION && now >= *t => false,
            _ => {
                written.insert(device, now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_at_most_once_a_minute_per_device() {
        let s = LastSync::default();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let t = Utc::now();
        assert!(s.due(a, t));
        assert!(!s.due(a, t + Duration::seconds(59)));
        assert!(s.due(b, t));
        assert!(s.due(a, t + Duration::seconds(61)));
    }
}
