//! Phúc tra on the monitor's device (issue 13): spot-check tasks pulled from the server and
//! the findings recorded offline, waiting to be sent.
//!
//! * [`Store::replace_monitor_tasks`] keeps the server's list of a monitor's tasks (as JSON,
//!   the shape of `GET /monitor/tasks`; the store does not interpret it beyond `task_id`). A
//!   task the server no longer lists is dropped unless findings for it are still pending.
//! * [`Store::record_monitor_finding`] records the findings of a task, final on the device
//!   (a second recording is refused), in one transaction with its audit entry (which never
//!   holds the answers or the note).
//! * The sync client sends [`Store::pending_monitor_findings`] and marks each one by the
//!   server's answer: acked with the receipt, failed (retry later) or refused for good.
//!
//! Everything lives in the encrypted store, so the contact of an open task is protected at
//! rest like the surveyor's data.
use crate::audit;
use crate::codec;
use crate::error::{Result, StoreError};
use crate::store::Store;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A task on the device with its local findings, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalMonitorTask {
    /// Task id.
    pub task_id: Uuid,
    /// Who pulled it (`username@server`).
    pub monitor: String,
    /// The task as the server gave it.
    pub task: serde_json::Value,
    /// When it was last refreshed from the server.
    pub pulled_at: DateTime<Utc>,
    /// The findings recorded on the device, if any.
    pub finding: Option<MonitorFinding>,
}

/// Findings recorded on the device and their delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorFinding {
    /// Task.
    pub task_id: Uuid,
    /// `{visit_happened, answers, note}` as sent to the server.
    pub findings: serde_json::Value,
    /// When recorded.
    pub recorded_at: DateTime<Utc>,
    /// Still to be sent.
    pub pending: bool,
    /// Failed send attempts.
    pub attempts: u32,
    /// Last failure; when no longer pending, the server's reason for refusing them.
    pub last_error: Option<String>,
    /// The server's receipt once delivered.
    pub receipt: Option<serde_json::Value>,
}

impl MonitorFinding {
    /// Whether the server refused these findings for good.
    pub fn refused(&self) -> bool {
        !self.pending && self.last_error.is_some()
    }
}

/// Number of findings in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorOutboxCounts {
    /// Waiting to be sent.
    pub pending: u64,
    /// Delivered.
    pub acked: u64,
    /// Refused for good.
    pub refused: u64,
}

type RawFinding = (
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
);

fn decode_finding(raw: RawFinding) -> Result<MonitorFinding> {
    let (id, findings, recorded_at, state, attempts, last_error, receipt) = raw;
    let what = format!("findings of spot-check task {id}");
    let json = |s: &str| serde_json::from_str(s).map_err(|e| StoreError::corrupt(&what, e));
    Ok(MonitorFinding {
        task_id: codec::parse_uuid(&id, &what)?,
        findings: json(&findings)?,
        recorded_at: codec::parse_ts(&recorded_at, &what)?,
        pending: match state.as_str() {
            "pending" => true,
            "acked" => false,
            other => {
                return Err(StoreError::corrupt(
                    &what,
                    format!("unknown state {other:?}"),
                ));
            }
        },
        attempts: u32::try_from(attempts).map_err(|e| StoreError::corrupt(&what, e))?,
        last_error,
        receipt: receipt.as_deref().map(json).transpose()?,
    })
}

const FINDING_COLS: &str =
    "task_id, findings_json, recorded_at, state, attempts, last_error, receipt_json";

fn raw_finding(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawFinding> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn task_id_of(task: &serde_json::Value) -> Result<Uuid> {
    task.get("task_id")
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| StoreError::corrupt("spot-check task from the server", "no task_id"))
}

impl Store {
    /// Replaces the monitor's tasks with the server's list `tasks` (each an object with a
    /// `task_id`). Tasks no longer listed are dropped unless findings for them are still
    /// pending. Returns how many tasks are stored for `monitor` now.
    pub fn replace_monitor_tasks(
        &mut self,
        monitor: &str,
        tasks: &[serde_json::Value],
    ) -> Result<usize> {
        let ids = tasks.iter().map(task_id_of).collect::<Result<Vec<_>>>()?;
        let now = codec::ts(&codec::now());
        self.write(|tx, actor| {
            for (id, task) in ids.iter().zip(tasks) {
                tx.execute(
                    "INSERT INTO monitor_tasks (task_id, monitor, task_json, pulled_at)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (task_id) DO UPDATE SET monitor = excluded.monitor,
                        task_json = excluded.task_json, pulled_at = excluded.pulled_at",
                    params![id.to_string(), monitor, task.to_string(), now],
                )?;
            }
            // Gone from the server's list (re-assigned, or another monitor's list): forget
            // them, but never findings that still have to be sent, and never delivered ones.
            let listed: std::collections::BTreeSet<String> =
                ids.iter().map(Uuid::to_string).collect();
            let stored: Vec<String> = tx
                .prepare(
                    "SELECT task_id FROM monitor_tasks WHERE task_id NOT IN
                            (SELECT task_id FROM monitor_findings)",
                )?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for id in stored.iter().filter(|id| !listed.contains(*id)) {
                tx.execute("DELETE FROM monitor_tasks WHERE task_id = ?1", [id])?;
            }
            audit::append(
                tx,
                actor,
                "monitor.tasks_pulled",
                "monitor_tasks",
                monitor,
                serde_json::json!({ "tasks": ids.len() }),
            )?;
            let n: i64 = tx.query_row(
                "SELECT COUNT(*) FROM monitor_tasks WHERE monitor = ?1",
                [monitor],
                |r| r.get(0),
            )?;
            Ok(usize::try_from(n).unwrap_or(0))
        })
    }

    /// The tasks on the device (of every monitor who pulled on it), by task id, with their
    /// local findings.
    pub fn monitor_tasks(&self) -> Result<Vec<LocalMonitorTask>> {
        let mut stmt = self.conn().prepare(
            "SELECT task_id, monitor, task_json, pulled_at FROM monitor_tasks ORDER BY task_id",
        )?;
        let rows: Vec<(String, String, String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(id, monitor, task, pulled_at)| {
                let what = format!("spot-check task {id}");
                let task_id = codec::parse_uuid(&id, &what)?;
                Ok(LocalMonitorTask {
                    task_id,
                    monitor,
                    task: serde_json::from_str(&task).map_err(|e| StoreError::corrupt(&what, e))?,
                    pulled_at: codec::parse_ts(&pulled_at, &what)?,
                    finding: self.monitor_finding(task_id)?,
                })
            })
            .collect()
    }

    /// The findings recorded for a task, if any.
    pub fn monitor_finding(&self, task_id: Uuid) -> Result<Option<MonitorFinding>> {
        self.conn()
            .query_row(
                &format!("SELECT {FINDING_COLS} FROM monitor_findings WHERE task_id = ?1"),
                [task_id.to_string()],
                raw_finding,
            )
            .optional()?
            .map(decode_finding)
            .transpose()
    }

    /// Records the findings of a task on the device, queued for sending. Final: a task that
    /// already has findings is refused ([`StoreError::FindingsFinal`]), an unknown task is
    /// [`StoreError::NotFound`]. Once recorded, the respondent's contact is dropped from the
    /// stored task (it was needed for the visit only).
    pub fn record_monitor_finding(
        &mut self,
        task_id: Uuid,
        findings: &serde_json::Value,
    ) -> Result<MonitorFinding> {
        let id = task_id.to_string();
        self.write(|tx, actor| {
            let task: Option<String> = tx
                .query_row(
                    "SELECT task_json FROM monitor_tasks WHERE task_id = ?1",
                    [&id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(task) = task else {
                return Err(StoreError::not_found("spot-check task", task_id));
            };
            let done = tx
                .prepare("SELECT 1 FROM monitor_findings WHERE task_id = ?1")?
                .exists([&id])?;
            if done {
                return Err(StoreError::FindingsFinal { id: task_id });
            }
            tx.execute(
                "INSERT INTO monitor_findings (task_id, findings_json, recorded_at)
                 VALUES (?1, ?2, ?3)",
                params![id, findings.to_string(), codec::ts(&codec::now())],
            )?;
            let mut task: serde_json::Value = serde_json::from_str(&task)
                .map_err(|e| StoreError::corrupt("spot-check task", e))?;
            if let Some(obj) = task.as_object_mut() {
                obj.insert("contact".into(), serde_json::Value::Null);
            }
            tx.execute(
                "UPDATE monitor_tasks SET task_json = ?2 WHERE task_id = ?1",
                params![id, task.to_string()],
            )?;
            audit::append(
                tx,
                actor,
                "monitor.finding_recorded",
                "spot_check_task",
                &id,
                serde_json::json!({
                    "visit_happened": findings.get("visit_happened"),
                }),
            )?;
            Ok(())
        })?;
        self.monitor_finding(task_id)?
            .ok_or_else(|| StoreError::not_found("spot-check findings", task_id))
    }

    /// Findings waiting to be sent, oldest first.
    pub fn pending_monitor_findings(&self) -> Result<Vec<MonitorFinding>> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {FINDING_COLS} FROM monitor_findings WHERE state = 'pending'
             ORDER BY recorded_at, task_id"
        ))?;
        let rows = stmt
            .query_map([], raw_finding)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(decode_finding).collect()
    }

    /// Findings pending, delivered and refused.
    pub fn monitor_outbox_counts(&self) -> Result<MonitorOutboxCounts> {
        Ok(self.conn().query_row(
            "SELECT COALESCE(SUM(state = 'pending'), 0),
                    COALESCE(SUM(state = 'acked' AND last_error IS NULL), 0),
                    COALESCE(SUM(state = 'acked' AND last_error IS NOT NULL), 0)
             FROM monitor_findings",
            [],
            |r| {
                let n = |i| r.get::<_, i64>(i).map(|v| u64::try_from(v).unwrap_or(0));
                Ok(MonitorOutboxCounts {
                    pending: n(0)?,
                    acked: n(1)?,
                    refused: n(2)?,
                })
            },
        )?)
    }

    /// The server took the findings of `task_id` and answered `receipt`. Repeating it is
    /// harmless.
    pub fn mark_monitor_finding_acked(
        &mut self,
        task_id: Uuid,
        receipt: &serde_json::Value,
    ) -> Result<()> {
        self.finish_finding(
            task_id,
            "acked",
            None,
            Some(receipt),
            "monitor.finding_acked",
        )
    }

    /// A failed attempt (network, server error): stays pending, `attempts` + 1.
    pub fn mark_monitor_finding_failed(&mut self, task_id: Uuid, error: &str) -> Result<()> {
        self.finish_finding(
            task_id,
            "pending",
            Some(error),
            None,
            "monitor.finding_failed",
        )
    }

    /// The server refused the findings for good (reason kept; not sent again).
    pub fn mark_monitor_finding_refused(&mut self, task_id: Uuid, reason: &str) -> Result<()> {
        self.finish_finding(
            task_id,
            "acked",
            Some(reason),
            None,
            "monitor.finding_refused",
        )
    }

    fn finish_finding(
        &mut self,
        task_id: Uuid,
        state: &str,
        error: Option<&str>,
        receipt: Option<&serde_json::Value>,
        action: &str,
    ) -> Result<()> {
        let id = task_id.to_string();
        self.write(|tx, actor| {
            let current: Option<String> = tx
                .query_row(
                    "SELECT state FROM monitor_findings WHERE task_id = ?1",
                    [&id],
                    |r| r.get(0),
                )
                .optional()?;
            match current.as_deref() {
                None => return Err(StoreError::not_found("spot-check findings", task_id)),
                Some("acked") => return Ok(()), // answered already
                Some(_) => {}
            }
            tx.execute(
                "UPDATE monitor_findings SET state = ?2,
                    attempts = attempts + (?2 = 'pending'),
                    last_error = ?3, receipt_json = ?4
                 WHERE task_id = ?1",
                params![id, state, error, receipt.map(|r| r.to_string())],
            )?;
            audit::append(
                tx,
                actor,
                action,
                "spot_check_task",
                &id,
                serde_json::json!({ "error": error }),
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::error::StoreError;
    use crate::test_support::TempStore;
    use serde_json::json;
    use uuid::Uuid;

    fn task(id: Uuid) -> serde_json::Value {
        json!({"task_id": id, "state": "open", "key_items": [{"code": "A1"}],
               "contact": {"name": "Người mẫu", "address": "Hàng Bạc", "phone": "090"}})
    }

    #[test]
    fn tasks_and_findings_survive_reopen_and_are_final() {
        let t = TempStore::new();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        {
            let mut s = t.open();
            assert_eq!(
                s.replace_monitor_tasks("m@x", &[task(a), task(b)]).unwrap(),
                2
            );
            let f = s
                .record_monitor_finding(
                    a,
                    &json!({"visit_happened": true, "answers": {"A1": "nam"}}),
                )
                .unwrap();
            assert!(f.pending);
            // final on the device
            assert!(matches!(
                s.record_monitor_finding(a, &json!({"visit_happened": false})),
                Err(StoreError::FindingsFinal { .. })
            ));
            assert!(matches!(
                s.record_monitor_finding(Uuid::now_v7(), &json!({})),
                Err(StoreError::NotFound { .. })
            ));
        }
        let mut s = t.open();
        let tasks = s.monitor_tasks().unwrap();
        assert_eq!(tasks.len(), 2);
        let ta = tasks.iter().find(|x| x.task_id == a).unwrap();
        assert!(
            ta.task["contact"].is_null(),
            "contact dropped once recorded"
        );
        assert!(ta.finding.as_ref().unwrap().pending);
        // The server's list without both: b goes, a stays (pending findings).
        assert_eq!(s.replace_monitor_tasks("m@x", &[]).unwrap(), 1);
        assert_eq!(s.pending_monitor_findings().unwrap().len(), 1);
        s.mark_monitor_finding_failed(a, "offline").unwrap();
        let f = s.monitor_finding(a).unwrap().unwrap();
        assert_eq!((f.pending, f.attempts), (true, 1));
        s.mark_monitor_finding_acked(a, &json!({"state": "done"}))
            .unwrap();
        s.mark_monitor_finding_acked(a, &json!({"state": "x"}))
            .unwrap();
        let f = s.monitor_finding(a).unwrap().unwrap();
        assert!(!f.pending && !f.refused());
        assert_eq!(f.receipt.unwrap()["state"], "done");
        assert_eq!(s.monitor_outbox_counts().unwrap().acked, 1);
        // a task without an id is refused, nothing stored
        assert!(s.replace_monitor_tasks("m@x", &[json!({"x": 1})]).is_err());
    }
}
