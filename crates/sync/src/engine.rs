//! [`Syncer`]: drains the device outbox to the server and pulls assignments and decisions.
//!
//! One push pass:
//! 1. entries left `in_flight` by a crash or a cut connection go back to `pending`;
//! 2. the pending entries are planned into batches ([`plan::plan_batches`], at most
//!    [`SyncConfig::max_batch_records`] records and about [`SyncConfig::max_batch_bytes`]);
//! 3. per batch: its entries become `in_flight` (one transaction), the batch is uploaded, and
//!    the records' acknowledgements are applied together in one transaction
//!    ([`plan::operations_for_acks`], [`Store::apply_outbox_updates`]): accepted or duplicate →
//!    `acked` (the response becomes `synced`), conflict or invalid → `rejected_invalid` with
//!    the reason, its code (shown to the surveyor in their language) and, for an invalid
//!    record the server keeps in quarantine, the quarantine id (never resent); no
//!    acknowledgement → back to `pending`;
//! 4. on a failed upload (network, timeout, server error) the batch goes back to `pending`
//!    with the error counted, and the pass stops with the error;
//! 5. after the responses, the field outcomes recorded on the device (the store's status
//!    outbox, latest change per assignment) are sent one by one with
//!    `POST /assignments/{id}/status` (status only: the server keeps no notes). A 2xx answer
//!    marks the change delivered; a numbered 4xx problem (e.g. `403.2`, the assignment is no
//!    longer the surveyor's) marks it refused for good with the reason, so it is not resent
//!    forever; anything else (network, 5xx, 429, an invalid token) leaves it pending with the
//!    error counted and stops the pass with the error. A change replaced on the device while
//!    it was being sent stays pending for the next pass.
//!
//! A record is marked synced **only** on its explicit acknowledgement, and uploads are
//! at-least-once (the server answers `duplicate` for a record it already has), so no
//! interruption at any point can lose or duplicate an answer. Dropping a sync future midway
//! is safe for the same reason: whatever was `in_flight` is resent next time.
//!
//! Store calls are short blocking SQLite transactions made on the calling task.
use crate::client::ApiClient;
use crate::error::SyncError;
use crate::pull::{PullReport, apply_pull};
use serde::Serialize;
use sipas_protocol::plan::{self, OutboxOp, Pending};
use sipas_protocol::wire::{AckReason, AckStatus, UploadBatch, UploadRecord};
use sipas_protocol::{MAX_BATCH_BYTES, MAX_BATCH_RECORDS};
use sipas_store::{OutboxUpdate, Store, SyncLog};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Bytes kept free in each batch for the `{"records":[...]}` envelope.
const ENVELOPE_RESERVE: usize = 4096;

/// Outbox error recorded for a record the server did not acknowledge.
const NOT_ACKNOWLEDGED: &str = "the server did not acknowledge this record; it will be sent again";

/// Batching and retry settings of a [`Syncer`].
#[derive(Debug, Clone, PartialEq)]
pub struct SyncConfig {
    /// Most records per upload (the server refuses more than [`MAX_BATCH_RECORDS`]).
    pub max_batch_records: usize,
    /// About the most JSON bytes per upload before compression (the server refuses more
    /// than [`MAX_BATCH_BYTES`]).
    pub max_batch_bytes: usize,
    /// Most sync attempts made by [`Syncer::run_until_drained`].
    pub max_attempts: u32,
    /// Time after which [`Syncer::run_until_drained`] stops retrying.
    pub deadline: Duration,
    /// First retry delay; it doubles with every failed attempt …
    pub backoff_base: Duration,
    /// … up to this.
    pub backoff_max: Duration,
    /// Fraction (0–1) of each delay that is randomised, so devices do not retry in lockstep.
    pub jitter: f64,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            max_batch_records: MAX_BATCH_RECORDS,
            max_batch_bytes: MAX_BATCH_BYTES - ENVELOPE_RESERVE,
            max_attempts: 8,
            deadline: Duration::from_secs(5 * 60),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            jitter: 0.5,
        }
    }
}

/// What a push did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PushReport {
    /// Uploads answered by the server.
    pub batches: usize,
    /// Records sent in answered uploads.
    pub sent: usize,
    /// Records acknowledged (accepted or duplicate) and marked synced.
    pub acked: usize,
    /// Of those, records the server already had (an earlier reply was lost on the way).
    pub duplicates: usize,
    /// Records refused for good (conflict or invalid).
    pub rejected: usize,
    /// Of those, records the server keeps in quarantine for a supervisor.
    pub quarantined: usize,
    /// Records sent but not acknowledged (back in the queue).
    pub unacknowledged: usize,
    /// Records found `in_flight` at the start (interrupted earlier) and queued again.
    pub requeued: usize,
    /// Field outcomes the server took.
    pub statuses_acked: usize,
    /// Field outcomes the server refused for good (see the store's status outbox).
    pub statuses_refused: usize,
}

impl std::ops::AddAssign for PushReport {
    fn add_assign(&mut self, o: PushReport) {
        self.batches += o.batches;
        self.sent += o.sent;
        self.acked += o.acked;
        self.duplicates += o.duplicates;
        self.rejected += o.rejected;
        self.quarantined += o.quarantined;
        self.unacknowledged += o.unacknowledged;
        self.requeued += o.requeued;
        self.statuses_acked += o.statuses_acked;
        self.statuses_refused += o.statuses_refused;
    }
}

/// What a sync did: the push totals, the last pull and the number of attempts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Push totals over all attempts (failed ones included).
    pub push: PushReport,
    /// The last successful pull.
    pub pull: PullReport,
    /// Attempts made (1 for a single [`Syncer::sync`]).
    pub attempts: u32,
}

/// Syncs one device store with one server.
#[derive(Debug, Clone)]
pub struct Syncer {
    client: ApiClient,
    config: SyncConfig,
}

impl Syncer {
    /// A syncer using `client` (which must hold the device token) and `config`.
    pub fn new(client: ApiClient, config: SyncConfig) -> Syncer {
        Syncer { client, config }
    }

    /// The HTTP client.
    pub fn client(&self) -> &ApiClient {
        &self.client
    }

    /// The settings.
    pub fn config(&self) -> &SyncConfig {
        &self.config
    }

    /// One push pass over the outbox (see the module docs). Stops at the first failed upload
    /// with its error; everything acknowledged before stays acknowledged.
    pub async fn push(&self, store: &mut Store) -> Result<PushReport, SyncError> {
        let mut report = PushReport::default();
        self.push_into(store, &mut report).await?;
        Ok(report)
    }

    /// [`Syncer::push`], counting into `report` as it goes (so a failed pass still reports
    /// what it achieved before the failure).
    async fn push_into(&self, store: &mut Store, report: &mut PushReport) -> Result<(), SyncError> {
        report.requeued += store.requeue_in_flight()?;
        // Snapshot of the queue: records put back during this pass wait for the next one.
        let queue = store.pending_outbox(usize::MAX)?;
        for chunk in queue.chunks(self.config.max_batch_records.max(1)) {
            let mut records: HashMap<(Uuid, u32), UploadRecord> = HashMap::new();
            let mut pending = Vec::with_capacity(chunk.len());
            for entry in chunk {
                let Some(stored) = store.get_response(entry.response_id, entry.revision)? else {
                    continue; // cannot happen: the outbox references stored responses
                };
                let record = UploadRecord {
                    response: stored.response,
                    content_hash: stored.content_hash,
                };
                let size = serde_json::to_vec(&record)
                    .map_err(|e| SyncError::Encode {
                        detail: e.to_string(),
                    })?
                    .len()
                    + 1;
                pending.push(Pending {
                    id: entry.response_id,
                    revision: entry.revision,
                    size,
                });
                records.insert((entry.response_id, entry.revision), record);
            }
            let batches = plan::plan_batches(
                &pending,
                self.config.max_batch_records,
                self.config.max_batch_bytes,
            );
            for batch in batches {
                self.upload_batch(store, &batch, &mut records, report)
                    .await?;
            }
        }
        self.push_statuses(store, report).await
    }

    /// Sends the pending field outcomes, oldest first (step 5 of the module docs).
    async fn push_statuses(
        &self,
        store: &mut Store,
        report: &mut PushReport,
    ) -> Result<(), SyncError> {
        // Snapshot: a change recorded during this pass waits for the next one.
        for change in store.pending_status_changes(usize::MAX)? {
            let (id, at) = (change.assignment_id, change.changed_at);
            match self.client.set_assignment_status(id, change.status).await {
                Ok(_) => {
                    if store.mark_status_acked(id, at)? {
                        report.statuses_acked += 1;
                    }
                }
                Err(e) if refuses_change(&e) => {
                    if store.mark_status_refused(id, at, &e.to_string())? {
                        report.statuses_refused += 1;
                    }
                }
                Err(e) => {
                    store.mark_status_failed(id, at, &e.to_string())?;
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    async fn upload_batch(
        &self,
        store: &mut Store,
        batch: &[Pending],
        records: &mut HashMap<(Uuid, u32), UploadRecord>,
        report: &mut PushReport,
    ) -> Result<(), SyncError> {
        // One transaction per batch for each step: the whole batch becomes `in_flight`, and
        // its acknowledgements are applied together (one disk sync each, not one per record).
        let keys: Vec<(Uuid, u32)> = batch.iter().map(|p| (p.id, p.revision)).collect();
        store.mark_in_flight_many(&keys)?;
        let upload = UploadBatch {
            records: batch
                .iter()
                .filter_map(|p| records.remove(&(p.id, p.revision)))
                .collect(),
        };
        let result = match self.client.upload(&upload).await {
            Ok(result) => result,
            Err(e) => {
                let error = e.to_string();
                let failed: Vec<OutboxUpdate> = keys
                    .iter()
                    .map(|&(id, revision)| OutboxUpdate::Failed {
                        id,
                        revision,
                        error: error.clone(),
                    })
                    .collect();
                store.apply_outbox_updates(&failed)?;
                return Err(e);
            }
        };
        report.batches += 1;
        report.sent += batch.len();
        report.duplicates += result
            .acks
            .iter()
            .filter(|a| a.status == AckStatus::Duplicate)
            .filter(|a| {
                batch
                    .iter()
                    .any(|p| (p.id, p.revision) == (a.id, a.revision))
            })
            .count();
        let mut done = PushReport::default();
        let updates: Vec<OutboxUpdate> = plan::operations_for_acks(batch, &result.acks)
            .into_iter()
            .map(|op| match op {
                OutboxOp::MarkAcked { id, revision } => {
                    done.acked += 1;
                    OutboxUpdate::Acked { id, revision }
                }
                OutboxOp::MarkRejected {
                    id,
                    revision,
                    reason,
                    reason_code,
                    quarantine_id,
                } => {
                    done.rejected += 1;
                    done.quarantined += usize::from(quarantine_id.is_some());
                    OutboxUpdate::Refused {
                        id,
                        revision,
                        error: reason,
                        reason_code: reason_code_text(reason_code),
                        quarantine_id,
                    }
                }
                OutboxOp::Retry { id, revision } => {
                    done.unacknowledged += 1;
                    OutboxUpdate::Failed {
                        id,
                        revision,
                        error: NOT_ACKNOWLEDGED.to_string(),
                    }
                }
            })
            .collect();
        store.apply_outbox_updates(&updates)?;
        *report += done;
        Ok(())
    }

    /// Pulls assignments and review decisions changed since the saved cursor and applies
    /// them ([`apply_pull`]), then downloads the questionnaires they need and the rounds'
    /// catalogue options ([`crate::forms::fetch_forms`]).
    pub async fn pull(&self, store: &mut Store) -> Result<PullReport, SyncError> {
        let cursor = store.pull_cursor()?;
        let pulled = self.client.pull(cursor).await?;
        let mut report = apply_pull(store, &pulled)?;
        // Issue 12: the forms the assignments need and the rounds' catalogue options.
        report.forms = crate::forms::fetch_forms(&self.client, store).await?;
        Ok(report)
    }

    /// One sync: push, then pull. The outcome is recorded in the store's sync log
    /// (`last_success_at`, or `last_error_at` and `last_error`).
    pub async fn sync(&self, store: &mut Store) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport {
            attempts: 1,
            ..SyncReport::default()
        };
        self.sync_into(store, &mut report).await?;
        Ok(report)
    }

    /// One sync (push, pull, sync log), counting into `report`.
    async fn sync_into(&self, store: &mut Store, report: &mut SyncReport) -> Result<(), SyncError> {
        let outcome: Result<(), SyncError> = async {
            self.push_into(store, &mut report.push).await?;
            report.pull = self.pull(store).await?;
            Ok(())
        }
        .await;
        let mut log = store.get_sync_log().unwrap_or_default();
        match &outcome {
            Ok(()) => log.last_success_at = Some(chrono::Utc::now()),
            Err(e) => {
                log.last_error_at = Some(chrono::Utc::now());
                log.last_error = Some(e.to_string());
            }
        }
        record_log(store, &log, outcome)
    }

    /// Syncs until nothing is pending (answers and field outcomes), retrying transient
    /// failures (network, timeouts, 5xx, 429, unacknowledged records) with exponential
    /// backoff and jitter ([`plan::backoff_delay`]) up to [`SyncConfig::max_attempts`]
    /// attempts and [`SyncConfig::deadline`]. A failure that retrying cannot fix (e.g. the
    /// device token was revoked) is returned at once; running out of attempts is
    /// [`SyncError::GaveUp`].
    pub async fn run_until_drained(&self, store: &mut Store) -> Result<SyncReport, SyncError> {
        let started = Instant::now();
        let mut total = SyncReport::default();
        loop {
            total.attempts += 1;
            let failure = match self.sync_into(store, &mut total).await {
                Ok(()) => {
                    let pending =
                        store.outbox_counts()?.pending + store.status_outbox_counts()?.pending;
                    if pending == 0 {
                        return Ok(total);
                    }
                    SyncError::Unacknowledged { pending }
                }
                Err(e) if e.is_transient() => e,
                Err(e) => return Err(e),
            };
            let delay = plan::backoff_delay(
                total.attempts - 1,
                self.config.backoff_base,
                self.config.backoff_max,
                self.config.jitter,
                rand::random::<f64>(),
            );
            if total.attempts >= self.config.max_attempts
                || started.elapsed() + delay > self.config.deadline
            {
                return Err(SyncError::GaveUp {
                    attempts: total.attempts,
                    last: Box::new(failure),
                });
            }
            tokio::time::sleep(delay).await;
        }
    }
}

/// Records a refusal in the outbox with its reason code (stored in snake_case, as on the
/// wire) and quarantine id.
pub(crate) fn mark_refused(
    store: &mut Store,
    id: Uuid,
    revision: u32,
    reason: &str,
    reason_code: Option<AckReason>,
    quarantine_id: Option<Uuid>,
) -> Result<(), sipas_store::StoreError> {
    let code = reason_code_text(reason_code);
    store.mark_refused(id, revision, reason, code.as_deref(), quarantine_id)
}

/// A reason code as stored: snake_case, as on the wire.
fn reason_code_text(reason_code: Option<AckReason>) -> Option<String> {
    reason_code.and_then(|c| {
        serde_json::to_value(c)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    })
}

/// Whether the server refused a status change for good: a numbered 4xx problem other than
/// 401 (the token, not the change, is at fault), 408 and 429 (try again later). A 4xx
/// without a problem body comes from something in between (a proxy), not from the server,
/// so it is retried.
pub(crate) fn refuses_change(e: &SyncError) -> bool {
    match e {
        SyncError::Server(p) => {
            let status = p.status();
            (400..500).contains(&status) && !matches!(status, 401 | 408 | 429)
        }
        _ => false,
    }
}

/// Saves the sync log and returns `outcome`; a failure to save is returned only when the
/// sync itself succeeded (the sync's own error is the more useful one).
fn record_log<T>(
    store: &mut Store,
    log: &SyncLog,
    outcome: Result<T, SyncError>,
) -> Result<T, SyncError> {
    match (store.set_sync_log(log), outcome) {
        (Ok(()), outcome) => outcome,
        (Err(e), Ok(_)) => Err(e.into()),
        (Err(_), Err(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use sipas_core::questionnaire::FormKey;
    use sipas_core::response::{Paradata, Response};
    use sipas_protocol::problem::ProblemCode;
    use sipas_protocol::wire::{AssignmentStatus, PullResponse, RecordAck, UploadResult};
    use sipas_store::{OutboxState, ResponseStatus};
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    fn response(n: u128) -> Response {
        let t: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-20T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        Response {
            id: Uuid::from_u128(n),
            revision: 1,
            form: FormKey {
                form_id: "sipas-6-groups".into(),
                version: "2026.1".into(),
            },
            assignment_id: None,
            round_id: "R1".into(),
            unit_code: "00004".into(),
            answers: BTreeMap::new(),
            started_at: t,
            completed_at: t,
            paradata: Paradata::default(),
            origin: Default::default(),
        }
    }

    fn store_with(n: u128) -> Store {
        let mut s = Store::open_in_memory().unwrap();
        for i in 1..=n {
            s.insert_response(&response(i), ResponseStatus::Queued)
                .unwrap();
        }
        s
    }

    /// What the fake server does with one upload: the acks to send, or `None` to hang up.
    type Script = Arc<dyn Fn(&UploadBatch) -> Option<Vec<RecordAck>> + Send + Sync>;

    /// What the fake server does with one status change (assignment, JSON body): the HTTP
    /// status and body to answer, or `None` to hang up.
    type StatusScript =
        Arc<dyn Fn(Uuid, &serde_json::Value) -> Option<(u16, String)> + Send + Sync>;

    /// Status changes received by the fake server: (assignment, JSON body).
    type SeenStatuses = Arc<Mutex<Vec<(Uuid, serde_json::Value)>>>;

    /// What the fake server was given.
    #[derive(Clone, Default)]
    struct Seen {
        batches: Arc<Mutex<Vec<UploadBatch>>>,
        statuses: SeenStatuses,
    }

    /// A tiny HTTP/1.1 server: uploads are answered by `script`, pulls with an empty pull,
    /// status changes with 200. Returns its base URL and the batches it received.
    async fn fake_server(script: Script) -> (String, Arc<Mutex<Vec<UploadBatch>>>) {
        let ok: StatusScript = Arc::new(|id, body| {
            Some((
                200,
                serde_json::json!({ "id": id, "status": body["status"] }).to_string(),
            ))
        });
        let (url, seen) = fake_server_with(script, ok).await;
        (url, seen.batches)
    }

    /// [`fake_server`] answering status changes with `statuses`.
    async fn fake_server_with(script: Script, statuses: StatusScript) -> (String, Seen) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Seen::default();
        let seen2 = seen.clone();
        tokio::spawn(async move {
            loop {
                let (sock, _) = listener.accept().await.unwrap();
                let (script, statuses, seen) = (script.clone(), statuses.clone(), seen2.clone());
                tokio::spawn(async move { handle(sock, script, statuses, seen).await });
            }
        });
        (url, seen)
    }

    async fn handle(mut sock: TcpStream, script: Script, statuses: StatusScript, seen: Seen) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            // One request per loop (keep-alive).
            let head_end = loop {
                if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break p + 4;
                }
                match sock.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            while buf.len() < head_end + len {
                match sock.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let body: Vec<u8> = buf.drain(..head_end + len).skip(head_end).collect();
            let mut code = 200;
            let reply = if head.starts_with("post /api/v1/responses/batch") {
                let mut json = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut json)
                    .unwrap();
                let batch: UploadBatch = serde_json::from_slice(&json).unwrap();
                let acks = script(&batch);
                seen.batches.lock().unwrap().push(batch);
                match acks {
                    Some(acks) => serde_json::to_string(&UploadResult { acks }).unwrap(),
                    None => return, // hang up without a reply
                }
            } else if let Some(rest) = head.strip_prefix("post /api/v1/assignments/") {
                let id = Uuid::parse_str(rest.split('/').next().unwrap()).unwrap();
                let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
                let answer = statuses(id, &json);
                seen.statuses.lock().unwrap().push((id, json));
                match answer {
                    Some((status, reply)) => {
                        code = status;
                        reply
                    }
                    None => return, // hang up without a reply
                }
            } else if head.starts_with("get /api/v1/forms/") || head.contains("/catalogue-bundle") {
                // An older server without published forms: the client keeps its built-ins.
                code = 404;
                "{}".to_owned()
            } else {
                serde_json::to_string(&PullResponse {
                    assignments: vec![],
                    decisions: vec![],
                    withdrawn: vec![],
                    rounds: vec![],
                    cursor: 5,
                })
                .unwrap()
            };
            let out = format!(
                "HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{reply}",
                reply.len()
            );
            if sock.write_all(out.as_bytes()).await.is_err() {
                return;
            }
        }
    }

    fn ack(r: &UploadRecord, status: AckStatus) -> RecordAck {
        RecordAck {
            id: r.response.id,
            revision: r.response.revision,
            status,
            reason: (status == AckStatus::Conflict).then(|| "different content".into()),
            reason_code: None,
            quarantine_id: None,
            issues: vec![],
        }
    }

    fn fast_config() -> SyncConfig {
        SyncConfig {
            max_batch_records: 4,
            backoff_base: Duration::from_millis(1),
            backoff_max: Duration::from_millis(5),
            max_attempts: 5,
            ..SyncConfig::default()
        }
    }

    fn syncer(url: &str, config: SyncConfig) -> Syncer {
        let client = ApiClient::with_timeout(url, Duration::from_secs(5))
            .unwrap()
            .with_token("device-token");
        Syncer::new(client, config)
    }

    fn state(s: &Store, n: u128) -> OutboxState {
        s.get_outbox(Uuid::from_u128(n), 1).unwrap().unwrap().state
    }

    #[tokio::test]
    async fn only_acknowledged_records_are_synced_and_the_rest_retried() {
        // Record 2: conflict; record 3: never acknowledged; everything else accepted.
        let script: Script = Arc::new(|b: &UploadBatch| {
            Some(
                b.records
                    .iter()
                    .filter(|r| r.response.id != Uuid::from_u128(3))
                    .map(|r| {
                        let st = if r.response.id == Uuid::from_u128(2) {
                            AckStatus::Conflict
                        } else {
                            AckStatus::Accepted
                        };
                        ack(r, st)
                    })
                    .collect(),
            )
        });
        let (url, seen) = fake_server(script).await;
        let mut s = store_with(10);
        let sy = syncer(&url, fast_config());
        let r = sy.sync(&mut s).await.unwrap();
        assert_eq!(
            (
                r.push.batches,
                r.push.sent,
                r.push.acked,
                r.push.rejected,
                r.push.unacknowledged
            ),
            (3, 10, 8, 1, 1)
        );
        assert_eq!(
            seen.lock()
                .unwrap()
                .iter()
                .map(|b| b.records.len())
                .collect::<Vec<_>>(),
            [4, 4, 2]
        );
        assert_eq!(state(&s, 1), OutboxState::Acked);
        assert_eq!(state(&s, 2), OutboxState::RejectedInvalid);
        assert_eq!(state(&s, 3), OutboxState::Pending);
        assert_eq!(
            s.get_response(Uuid::from_u128(1), 1)
                .unwrap()
                .unwrap()
                .status,
            ResponseStatus::Synced
        );
        assert_eq!(
            s.get_response(Uuid::from_u128(3), 1)
                .unwrap()
                .unwrap()
                .status,
            ResponseStatus::Queued
        );
        assert_eq!(s.pull_cursor().unwrap(), 5);
        assert!(s.get_sync_log().unwrap().last_success_at.is_some());

        // Record 3 is never acknowledged: run_until_drained gives up after max_attempts.
        let err = sy.run_until_drained(&mut s).await.unwrap_err();
        assert!(
            matches!(&err, SyncError::GaveUp { attempts: 5, last } if matches!(**last, SyncError::Unacknowledged { pending: 1 })),
            "{err:?}"
        );
        let e = s.get_outbox(Uuid::from_u128(3), 1).unwrap().unwrap();
        assert_eq!((e.state, e.attempts), (OutboxState::Pending, 6));
        assert_eq!(e.last_error.as_deref(), Some(NOT_ACKNOWLEDGED));
    }

    #[tokio::test]
    async fn refused_records_keep_the_reason_code_and_are_not_resent() {
        use sipas_protocol::wire::AckReason;
        let q = Uuid::from_u128(500);
        // 1: invalid, quarantined; 2: invalid from an older server; 3: conflict with a code.
        let script: Script = Arc::new(move |b: &UploadBatch| {
            Some(
                b.records
                    .iter()
                    .map(|r| {
                        let n = r.response.id.as_u128();
                        let mut a = ack(
                            r,
                            if n == 3 {
                                AckStatus::Conflict
                            } else {
                                AckStatus::Invalid
                            },
                        );
                        a.reason = Some("server's English reason".into());
                        match n {
                            1 => {
                                a.reason_code = Some(AckReason::NotYourAssignment);
                                a.quarantine_id = Some(q);
                            }
                            3 => a.reason_code = Some(AckReason::AlreadyApproved),
                            _ => {}
                        }
                        a
                    })
                    .collect(),
            )
        });
        let (url, seen) = fake_server(script).await;
        let mut s = store_with(3);
        let sy = syncer(&url, fast_config());
        let r = sy.sync(&mut s).await.unwrap();
        assert_eq!((r.push.rejected, r.push.quarantined), (3, 1));
        let e = |n: u128| s.get_outbox(Uuid::from_u128(n), 1).unwrap().unwrap();
        let (e1, e2, e3) = (e(1), e(2), e(3));
        assert_eq!(e1.state, OutboxState::RejectedInvalid);
        assert_eq!(
            (e1.reason_code.as_deref(), e1.quarantine_id),
            (Some("not_your_assignment"), Some(q))
        );
        assert_eq!(
            (e2.state, e2.reason_code, e2.quarantine_id),
            (OutboxState::RejectedInvalid, None, None)
        );
        assert!(e2.last_error.unwrap().contains("server's English reason"));
        assert_eq!(
            (e3.reason_code.as_deref(), e3.quarantine_id),
            (Some("already_approved"), None)
        );
        // The records stay on the device and are not sent again.
        assert!(s.get_response(Uuid::from_u128(1), 1).unwrap().is_some());
        let r = sy.sync(&mut s).await.unwrap();
        assert_eq!(r.push.sent, 0);
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_lost_reply_is_resent_and_acknowledged_as_duplicate() {
        // The first upload is "processed" but the reply is lost; later ones are answered,
        // with duplicates for what was processed before.
        let processed = Arc::new(Mutex::new(std::collections::HashSet::new()));
        let calls = Arc::new(Mutex::new(0u32));
        let script: Script = Arc::new(move |b: &UploadBatch| {
            let mut done = processed.lock().unwrap();
            let acks = b
                .records
                .iter()
                .map(|r| {
                    let fresh = done.insert(r.response.id);
                    ack(
                        r,
                        if fresh {
                            AckStatus::Accepted
                        } else {
                            AckStatus::Duplicate
                        },
                    )
                })
                .collect();
            let mut n = calls.lock().unwrap();
            *n += 1;
            (*n > 1).then_some(acks)
        });
        let (url, seen) = fake_server(script).await;
        let mut s = store_with(6);
        let sy = syncer(&url, fast_config());
        let err = sy.sync(&mut s).await.unwrap_err();
        assert!(matches!(err, SyncError::Unreachable { .. }), "{err:?}");
        assert_eq!(state(&s, 1), OutboxState::Pending);
        let log = s.get_sync_log().unwrap();
        assert!(log.last_error.unwrap().contains("server unreachable"));

        let r = sy.run_until_drained(&mut s).await.unwrap();
        assert_eq!((r.attempts, r.push.acked, r.push.duplicates), (1, 6, 4));
        let status = crate::sync_status(&s).unwrap();
        assert_eq!((status.pending, status.in_flight, status.acked), (0, 0, 6));
        assert!(status.is_drained());
        // 1 lost + 2 answered batches; the first 4 records were sent twice.
        assert_eq!(seen.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn records_left_in_flight_by_a_crash_are_resent() {
        let script: Script = Arc::new(|b: &UploadBatch| {
            Some(
                b.records
                    .iter()
                    .map(|r| ack(r, AckStatus::Duplicate))
                    .collect(),
            )
        });
        let (url, _) = fake_server(script).await;
        let mut s = store_with(3);
        s.mark_in_flight(Uuid::from_u128(2), 1).unwrap();
        let r = syncer(&url, fast_config()).push(&mut s).await.unwrap();
        assert_eq!((r.requeued, r.acked), (1, 3));
    }

    /// A store with `n` assignments (not visited), returned with their ids in order.
    fn store_with_assignments(n: u128) -> (Store, Vec<Uuid>) {
        let mut s = Store::open_in_memory().unwrap();
        let ids = (1..=n)
            .map(|i| {
                let a = sipas_store::Assignment {
                    id: Uuid::from_u128(100 + i),
                    round_id: "R1".into(),
                    unit_code: "00004".into(),
                    form: FormKey {
                        form_id: "sipas-6-groups".into(),
                        version: "2026.1".into(),
                    },
                    procedure: "Cấp giấy khai sinh".into(),
                    status: AssignmentStatus::NotVisited,
                    status_note: None,
                    updated_at: Utc::now(),
                    names: Default::default(),
                };
                s.upsert_assignment(&a, None).unwrap();
                a.id
            })
            .collect();
        (s, ids)
    }

    fn problem_reply(code: ProblemCode) -> Option<(u16, String)> {
        let p = code.problem("refused", "từ chối");
        Some((p.status(), serde_json::to_string(&p).unwrap()))
    }

    #[tokio::test]
    async fn field_outcomes_are_sent_after_responses_and_refusals_do_not_loop() {
        let (mut s, ids) = store_with_assignments(3);
        let (a, b, c) = (ids[0], ids[1], ids[2]);
        s.insert_response(&response(1), ResponseStatus::Queued)
            .unwrap();
        s.set_assignment_status(a, AssignmentStatus::Refused, Some("Không muốn"), "sv")
            .unwrap();
        s.set_assignment_status(b, AssignmentStatus::Absent, None, "sv")
            .unwrap();
        s.set_assignment_status(c, AssignmentStatus::Moved, None, "sv")
            .unwrap();
        assert_eq!(crate::sync_status(&s).unwrap().statuses_pending, 3);

        // a: taken; b: not the surveyor's any more (403.2); c: the first try gets no reply.
        let c_calls = Arc::new(Mutex::new(0u32));
        let statuses: StatusScript = Arc::new(move |id, body| {
            if id == b {
                return problem_reply(ProblemCode::OutOfScope);
            }
            if id == c {
                let mut n = c_calls.lock().unwrap();
                *n += 1;
                if *n == 1 {
                    return None;
                }
            }
            Some((
                200,
                serde_json::json!({ "id": id, "status": body["status"] }).to_string(),
            ))
        });
        let accept: Script = Arc::new(|batch: &UploadBatch| {
            Some(
                batch
                    .records
                    .iter()
                    .map(|r| ack(r, AckStatus::Accepted))
                    .collect(),
            )
        });
        let (url, seen) = fake_server_with(accept, statuses).await;
        let sy = syncer(&url, fast_config());

        let err = sy.sync(&mut s).await.unwrap_err();
        assert!(matches!(err, SyncError::Unreachable { .. }), "{err:?}");
        assert_eq!(state(&s, 1), OutboxState::Acked, "responses go first");
        let got = s.get_status_change(a).unwrap().unwrap();
        assert!(!got.pending && !got.refused());
        let got = s.get_status_change(b).unwrap().unwrap();
        assert!(got.refused(), "{got:?}");
        assert!(
            got.last_error.as_deref().unwrap().contains("403.2"),
            "{got:?}"
        );
        let got = s.get_status_change(c).unwrap().unwrap();
        assert!(got.pending);
        assert_eq!(got.attempts, 1);
        assert_eq!(crate::sync_status(&s).unwrap().statuses_pending, 1);
        assert!(!crate::sync_status(&s).unwrap().is_drained());
        {
            let sent = seen.statuses.lock().unwrap();
            // Only the status travels: the note stays on the device.
            assert_eq!(sent[0], (a, serde_json::json!({ "status": "refused" })));
            assert_eq!(
                sent.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
                [a, b, c],
                "oldest change first"
            );
        }

        // The next sync sends only c; the one after that sends nothing at all.
        let r = sy.run_until_drained(&mut s).await.unwrap();
        assert_eq!((r.push.statuses_acked, r.push.statuses_refused), (1, 0));
        assert!(!s.get_status_change(c).unwrap().unwrap().pending);
        let r = sy.sync(&mut s).await.unwrap();
        assert_eq!(
            (r.push.sent, r.push.statuses_acked, r.push.statuses_refused),
            (0, 0, 0)
        );
        assert_eq!(seen.statuses.lock().unwrap().len(), 4);
        assert!(crate::sync_status(&s).unwrap().is_drained());
    }

    #[tokio::test]
    async fn a_rejected_token_or_a_busy_server_leaves_outcomes_pending() {
        let (mut s, ids) = store_with_assignments(2);
        s.set_assignment_status(ids[0], AssignmentStatus::Invalid, None, "sv")
            .unwrap();
        s.set_assignment_status(ids[1], AssignmentStatus::FormDelivered, None, "sv")
            .unwrap();
        let answers = Arc::new(Mutex::new(vec![
            ProblemCode::Unauthenticated,
            ProblemCode::RateLimited,
            ProblemCode::Internal,
        ]));
        let statuses: StatusScript =
            Arc::new(move |_, _| problem_reply(answers.lock().unwrap().remove(0)));
        let (url, seen) =
            fake_server_with(Arc::new(|_: &UploadBatch| Some(vec![])), statuses).await;
        let sy = syncer(&url, fast_config());
        for expected in [401, 429, 500] {
            let err = sy.push(&mut s).await.unwrap_err();
            assert_eq!(err.problem().map(|p| p.status()), Some(expected), "{err:?}");
        }
        // Each failure stopped the pass at the first change, which stays pending.
        assert_eq!(seen.statuses.lock().unwrap().len(), 3);
        let first = s.get_status_change(ids[0]).unwrap().unwrap();
        assert!(first.pending && !first.refused());
        assert_eq!(first.attempts, 3);
        assert_eq!(s.status_outbox_counts().unwrap().pending, 2);
    }

    #[test]
    fn only_numbered_4xx_problems_refuse_a_change_for_good() {
        let server = |code: ProblemCode| SyncError::Server(code.problem("x", "x"));
        assert!(refuses_change(&server(ProblemCode::OutOfScope)));
        assert!(refuses_change(&server(ProblemCode::NotFound)));
        assert!(refuses_change(&server(ProblemCode::InvalidInput)));
        assert!(!refuses_change(&server(ProblemCode::Unauthenticated)));
        assert!(!refuses_change(&server(ProblemCode::RateLimited)));
        assert!(!refuses_change(&server(ProblemCode::Internal)));
        assert!(!refuses_change(&SyncError::HttpStatus { status: 404 }));
        assert!(!refuses_change(&SyncError::Unreachable {
            detail: "reset".into()
        }));
    }

    #[tokio::test]
    async fn unreachable_server_is_retried_then_given_up_with_the_reason() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let mut s = store_with(2);
        let sy = syncer(&format!("http://{addr}"), fast_config());
        let err = sy.run_until_drained(&mut s).await.unwrap_err();
        assert!(
            matches!(&err, SyncError::GaveUp { attempts: 5, last } if matches!(**last, SyncError::Unreachable { .. })),
            "{err:?}"
        );
        let e = s.get_outbox(Uuid::from_u128(1), 1).unwrap().unwrap();
        assert_eq!((e.state, e.attempts), (OutboxState::Pending, 5));
        assert!(crate::sync_status(&s).unwrap().last_error.is_some());
    }
}
