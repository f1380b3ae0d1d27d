//! Phúc tra offline (issue 13): pulling a monitor's spot-check tasks to the device and
//! sending the findings recorded offline.
//!
//! * [`pull_monitor_tasks`]: `GET /monitor/tasks` → [`Store::replace_monitor_tasks`]. A task
//!   carries the key items to re-ask (only those relevant to the respondent) and the contact
//!   while open, never the original answers (the re-check is blind).
//! * [`push_monitor_findings`]: each pending finding is sent with
//!   `POST /monitor/tasks/{id}/result`, one by one, each acknowledged on its own: a 2xx reply
//!   marks it delivered with the server's receipt (the server answers the same findings sent
//!   again with the same receipt, so a lost reply is simply resent); a numbered 4xx problem
//!   (e.g. `409.1`: different findings are already final, `403.2`: no longer this monitor's
//!   task) marks it refused for good with the reason; anything else (network, 5xx, 429, 401)
//!   leaves it pending with the error counted and stops the pass.
use crate::client::ApiClient;
use crate::engine::refuses_change;
use crate::error::SyncError;
use serde::Serialize;
use sipas_store::Store;

/// Outcome of one push of findings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MonitorPushReport {
    /// Findings delivered (acknowledged) in this pass.
    pub acked: usize,
    /// Findings refused for good in this pass.
    pub refused: usize,
    /// Findings still pending after the pass.
    pub pending: usize,
}

/// Pulls the signed-in monitor's tasks into the store under `monitor` (`username@server`).
/// Returns how many tasks of this monitor the device holds now.
pub async fn pull_monitor_tasks(
    client: &ApiClient,
    store: &mut Store,
    monitor: &str,
) -> Result<usize, SyncError> {
    let tasks: Vec<serde_json::Value> = client.get_json("/monitor/tasks").await?;
    Ok(store.replace_monitor_tasks(monitor, &tasks)?)
}

/// Sends the pending findings (see the module documentation).
pub async fn push_monitor_findings(
    client: &ApiClient,
    store: &mut Store,
) -> Result<MonitorPushReport, SyncError> {
    let mut report = MonitorPushReport::default();
    for f in store.pending_monitor_findings()? {
        let path = format!("/monitor/tasks/{}/result", f.task_id);
        match client
            .post_json::<_, serde_json::Value>(&path, &f.findings)
            .await
        {
            Ok(receipt) => {
                store.mark_monitor_finding_acked(f.task_id, &receipt)?;
                report.acked += 1;
            }
            Err(e) if refuses_change(&e) => {
                store.mark_monitor_finding_refused(f.task_id, &e.to_string())?;
                report.refused += 1;
            }
            Err(e) => {
                store.mark_monitor_finding_failed(f.task_id, &e.to_string())?;
                return Err(e);
            }
        }
    }
    report.pending = store.pending_monitor_findings()?.len();
    Ok(report)
}

/// Sends the pending findings, then refreshes the task list.
pub async fn sync_monitor(
    client: &ApiClient,
    store: &mut Store,
    monitor: &str,
) -> Result<MonitorPushReport, SyncError> {
    let report = push_monitor_findings(client, store).await?;
    pull_monitor_tasks(client, store, monitor).await?;
    Ok(report)
}
