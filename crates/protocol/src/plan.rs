//! The pure sync planner: which outbox records go in which batch, and what each
//! acknowledgement means for the outbox. No IO, so every case is unit-tested.
use crate::wire::{AckReason, AckStatus, RecordAck};
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

/// A record waiting in the device outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    /// Response id.
    pub id: Uuid,
    /// Revision.
    pub revision: u32,
    /// Serialised size in bytes.
    pub size: usize,
}

/// Splits pending records into batches of at most `max_records` records and about
/// `max_bytes` bytes (a single record larger than `max_bytes` travels alone), keeping order.
pub fn plan_batches(
    pending: &[Pending],
    max_records: usize,
    max_bytes: usize,
) -> Vec<Vec<Pending>> {
    let mut batches: Vec<Vec<Pending>> = Vec::new();
    let mut current: Vec<Pending> = Vec::new();
    let mut bytes = 0usize;
    for p in pending {
        if !current.is_empty()
            && (current.len() >= max_records.max(1) || bytes + p.size > max_bytes)
        {
            batches.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += p.size;
        current.push(*p);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// What to do to one outbox record after a batch was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxOp {
    /// The server has it (accepted or duplicate): mark synced.
    MarkAcked {
        /// Response id.
        id: Uuid,
        /// Revision.
        revision: u32,
    },
    /// The server refused it for good (invalid or conflict): keep it, show the reason, do
    /// not resend until the surveyor edits it. With a `quarantine_id` the server keeps the
    /// refused record for a supervisor; without one (an older server) only the device has it.
    MarkRejected {
        /// Response id.
        id: Uuid,
        /// Revision.
        revision: u32,
        /// The server's reason as text (English, for logs; answer issues in Vietnamese).
        reason: String,
        /// The server's reason code: what the surveyor is shown, in their language
        /// ([`AckReason::message_vi`], [`AckReason::message_en`]).
        reason_code: Option<AckReason>,
        /// The quarantine entry keeping the record on the server (`invalid` only).
        quarantine_id: Option<Uuid>,
    },
    /// No acknowledgement for it: leave it pending and send again.
    Retry {
        /// Response id.
        id: Uuid,
        /// Revision.
        revision: u32,
    },
}

/// Turns the server's acks for a sent batch into outbox operations, one per sent record,
/// in the order sent. A record is marked synced only on an explicit acknowledgement.
pub fn operations_for_acks(sent: &[Pending], acks: &[RecordAck]) -> Vec<OutboxOp> {
    let by_key: HashMap<(Uuid, u32), &RecordAck> =
        acks.iter().map(|a| ((a.id, a.revision), a)).collect();
    sent.iter()
        .map(|p| match by_key.get(&(p.id, p.revision)) {
            Some(a) if a.status.is_delivered() => OutboxOp::MarkAcked {
                id: p.id,
                revision: p.revision,
            },
            Some(a) => OutboxOp::MarkRejected {
                id: p.id,
                revision: p.revision,
                reason: rejection_reason(a),
                reason_code: a.reason_code,
                quarantine_id: a.quarantine_id.filter(|_| a.status == AckStatus::Invalid),
            },
            None => OutboxOp::Retry {
                id: p.id,
                revision: p.revision,
            },
        })
        .collect()
}

fn rejection_reason(a: &RecordAck) -> String {
    let head = match a.status {
        AckStatus::Conflict => "conflict",
        _ => "invalid",
    };
    let mut parts: Vec<String> = a.reason.iter().cloned().collect();
    parts.extend(
        a.issues
            .iter()
            .map(|i| format!("{}: {}", i.item_code, i.message_vi)),
    );
    if parts.is_empty() {
        head.to_string()
    } else {
        format!("{head}: {}", parts.join("; "))
    }
}

/// Exponential backoff with jitter: `base * 2^attempt`, capped at `max`, then scaled by a
/// factor in `[1 - jitter, 1]` chosen by `unit_random` (a number in `[0, 1)`), so many devices
/// coming back online at once do not retry in lockstep.
pub fn backoff_delay(
    attempt: u32,
    base: Duration,
    max: Duration,
    jitter: f64,
    unit_random: f64,
) -> Duration {
    let exp = base.saturating_mul(1u32.checked_shl(attempt.min(30)).unwrap_or(u32::MAX));
    let capped = exp.min(max);
    let factor = 1.0 - jitter.clamp(0.0, 1.0) * unit_random.clamp(0.0, 1.0);
    capped.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: u128, size: usize) -> Pending {
        Pending {
            id: Uuid::from_u128(n),
            revision: 1,
            size,
        }
    }

    #[test]
    fn batches_respect_count_and_bytes_and_order() {
        let pending: Vec<_> = (0..7).map(|i| p(i, 100)).collect();
        let b = plan_batches(&pending, 3, 10_000);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 3, 1]);
        let b = plan_batches(&pending, 100, 250);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2, 2, 1]);
        let flat: Vec<_> = b.concat();
        assert_eq!(flat, pending);
        let big = [p(1, 10), p(2, 1000), p(3, 10)];
        let b = plan_batches(&big, 100, 500);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![1, 1, 1]);
        assert!(plan_batches(&[], 10, 10).is_empty());
    }

    #[test]
    fn only_acknowledged_records_are_marked_synced() {
        let sent = [p(1, 1), p(2, 1), p(3, 1), p(4, 1)];
        let ack = |n: u128, status| RecordAck {
            id: Uuid::from_u128(n),
            revision: 1,
            status,
            reason: Some("r".into()),
            reason_code: None,
            quarantine_id: None,
            issues: vec![],
        };
        let ops = operations_for_acks(
            &sent,
            &[
                ack(1, AckStatus::Accepted),
                ack(2, AckStatus::Duplicate),
                ack(3, AckStatus::Conflict),
            ],
        );
        assert!(matches!(ops[0], OutboxOp::MarkAcked { .. }));
        assert!(matches!(ops[1], OutboxOp::MarkAcked { .. }));
        assert_eq!(
            ops[2],
            OutboxOp::MarkRejected {
                id: Uuid::from_u128(3),
                revision: 1,
                reason: "conflict: r".into(),
                reason_code: None,
                quarantine_id: None,
            }
        );
        assert_eq!(
            ops[3],
            OutboxOp::Retry {
                id: Uuid::from_u128(4),
                revision: 1
            }
        );
    }

    #[test]
    fn refusals_carry_the_reason_code_and_the_quarantine_entry() {
        let sent = [p(1, 1), p(2, 1), p(3, 1)];
        let q = Uuid::from_u128(77);
        let acks = [
            RecordAck {
                id: Uuid::from_u128(1),
                revision: 1,
                status: AckStatus::Invalid,
                reason: Some("not your assignment".into()),
                reason_code: Some(AckReason::NotYourAssignment),
                quarantine_id: Some(q),
                issues: vec![],
            },
            // An older server: no code, no quarantine entry.
            RecordAck {
                id: Uuid::from_u128(2),
                revision: 1,
                status: AckStatus::Invalid,
                reason: Some("unknown form version".into()),
                reason_code: None,
                quarantine_id: None,
                issues: vec![],
            },
            RecordAck {
                id: Uuid::from_u128(3),
                revision: 1,
                status: AckStatus::Conflict,
                reason: Some("approved".into()),
                reason_code: Some(AckReason::AlreadyApproved),
                quarantine_id: Some(q),
                issues: vec![],
            },
        ];
        let ops = operations_for_acks(&sent, &acks);
        assert_eq!(
            ops[0],
            OutboxOp::MarkRejected {
                id: Uuid::from_u128(1),
                revision: 1,
                reason: "invalid: not your assignment".into(),
                reason_code: Some(AckReason::NotYourAssignment),
                quarantine_id: Some(q),
            }
        );
        assert_eq!(
            ops[1],
            OutboxOp::MarkRejected {
                id: Uuid::from_u128(2),
                revision: 1,
                reason: "invalid: unknown form version".into(),
                reason_code: None,
                quarantine_id: None,
            }
        );
        // A quarantine id only means something on an invalid ack.
        assert!(matches!(
            &ops[2],
            OutboxOp::MarkRejected {
                reason_code: Some(AckReason::AlreadyApproved),
                quarantine_id: None,
                ..
            }
        ));
    }

    #[test]
    fn backoff_grows_caps_and_jitters() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(10);
        assert_eq!(backoff_delay(0, base, max, 0.5, 0.0), base);
        assert_eq!(
            backoff_delay(3, base, max, 0.5, 0.0),
            Duration::from_millis(800)
        );
        assert_eq!(backoff_delay(40, base, max, 0.5, 0.0), max);
        assert_eq!(
            backoff_delay(3, base, max, 0.5, 1.0),
            Duration::from_millis(400)
        );
    }
}
