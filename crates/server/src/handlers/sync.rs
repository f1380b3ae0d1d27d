//! Device sync (surveyors): `GET /pull`, `POST /assignments/{id}/status` and
//! `POST /responses/batch`.
use crate::app::AppState;
use crate::auth::{Caller, out_of_scope, require_cap};
use crate::extract::{
    ApiPath, ApiQuery, content_encoding, decode_body, parse_json, read_json, read_raw_body,
};
use crate::ingest::{IngestBatch, Source};
use crate::problem::{ApiError, ApiResult};
use crate::validation::{Incoming, check_with, round_catalogues};
use axum::Json;
use axum::body::Body;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sipas_protocol::problem::{Problem, ProblemCode};
use sipas_protocol::roles::Capability;
use sipas_protocol::wire::{AckStatus, AssignmentStatus, PullResponse, UploadResult};
use sipas_protocol::{MAX_BATCH_BYTES, MAX_BATCH_RECORDS};
use uuid::Uuid;

/// `GET /api/v1/pull` query.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct PullQuery {
    /// Cursor from the previous pull (0 or absent: everything).
    #[serde(default)]
    pub cursor: i64,
}

/// `POST /api/v1/assignments/{id}/status` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRequest {
    /// New field status (not `collected`: that follows from an uploaded response).
    pub status: AssignmentStatus,
}

/// Answer of a status change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusResult {
    /// Assignment.
    pub id: Uuid,
    /// Its status now.
    pub status: AssignmentStatus,
}

/// `GET /api/v1/pull?cursor=N` (surveyor): own assignments (with contacts), review decisions
/// and assignments moved to another surveyor (`withdrawn`) since the cursor, and the cursor
/// for next time.
pub async fn pull(
    State(state): State<AppState>,
    caller: Caller,
    query: ApiQuery<PullQuery>,
) -> ApiResult<Json<PullResponse>> {
    require_cap(&caller.user, Capability::Collect)?;
    let query = query.get()?;
    if query.cursor < 0 {
        return Err(ApiError::invalid_input(
            "cursor must be 0 or more.",
            "Con trỏ đồng bộ phải lớn hơn hoặc bằng 0.",
        )
        .with_details(serde_json::json!({ "field": "cursor" })));
    }
    let (assignments, decisions, cursor) =
        state.store.pull_since(caller.user.id, query.cursor).await?;
    let (withdrawn, w_cursor) = state
        .store
        .withdrawn_since(caller.user.id, query.cursor)
        .await?;
    // The smaller high-water mark: nothing written in between is skipped.
    let cursor = cursor.min(w_cursor);
    super::revocation::record_sync(&state, &caller).await;
    let rounds = state.store.field_rounds().await?;
    tracing::debug!(
        user_id = %caller.user.id,
        assignments = assignments.len(),
        decisions = decisions.len(),
        withdrawn = withdrawn.len(),
        cursor,
        "pull"
    );
    Ok(Json(PullResponse {
        assignments,
        decisions,
        withdrawn,
        rounds,
        cursor,
    }))
}

/// `POST /api/v1/assignments/{id}/status` (surveyor, own assignments only: else `403.2`).
pub async fn set_status(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<Uuid>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<StatusResult>> {
    require_cap(&caller.user, Capability::Collect)?;
    let id = path.get()?;
    let req: StatusRequest = read_json(&headers, body).await?;
    let (_, owner) = state
        .store
        .assignment(id)
        .await?
        .ok_or_else(|| ApiError::not_found("assignment", &id.to_string()))?;
    if owner != Some(caller.user.id) {
        return Err(out_of_scope(
            "This assignment is not yours.",
            "Phiếu này không được giao cho bạn.",
        ));
    }
    if req.status == AssignmentStatus::Collected {
        return Err(ApiError::invalid_input(
            "An assignment becomes collected when its response is uploaded.",
            "Phiếu chuyển sang 'đã thu' khi câu trả lời được gửi lên.",
        )
        .with_details(serde_json::json!({ "field": "status" })));
    }
    state
        .store
        .set_assignment_status(id, req.status, caller.user.id)
        .await?;
    Ok(Json(StatusResult {
        id,
        status: req.status,
    }))
}

/// `POST /api/v1/responses/batch` (surveyor): stores many responses; body may be gzip.
///
/// Request-level problems: body over [`MAX_BATCH_BYTES`] (on the wire or decoded) `413.2`,
/// more than [`MAX_BATCH_RECORDS`] records `413.1`, malformed JSON `400.1`; nothing is
/// stored then. Otherwise see [`process_batch`].
pub async fn upload_batch(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<UploadResult>> {
    require_cap(&caller.user, Capability::Collect)?;
    let raw = read_raw_body(&headers, body, MAX_BATCH_BYTES).await?;
    let batch = decode_batch(raw, content_encoding(&headers))?;
    super::revocation::record_sync(&state, &caller).await;
    let submitter = Submitter::Device {
        user: caller.user.id,
        device: caller.device_id,
    };
    let records = batch
        .records
        .iter()
        .map(|raw| Incoming::decode(raw.get()))
        .collect();
    Ok(Json(process_batch(&state, records, submitter).await?))
}

/// The envelope of `POST /responses/batch`: the records are kept as raw JSON and decoded one
/// by one ([`Incoming::decode`]), so one malformed record is refused on its own.
#[derive(Debug, Deserialize)]
pub struct RawBatch {
    /// The records, undecoded.
    pub records: Vec<Box<RawValue>>,
}

/// Decodes the body of `POST /responses/batch` as received (pure: no I/O, no storage), with
/// its `Content-Encoding` header. The upload handler calls exactly this; it never panics,
/// whatever the bytes (property-tested).
///
/// Errors, each a [`Problem`]: more than [`MAX_BATCH_BYTES`] before or after gzip decoding
/// `413.2`; an encoding other than none / `identity` / `gzip`, or a corrupt or truncated
/// gzip stream, `400.4`; not JSON, or not an object with a `records` array, `400.1`. The
/// record count (`413.1`) and each record's content are checked later by [`process_batch`]:
/// a record that is not a response record is acknowledged `invalid` (`malformed`) alone.
pub fn decode_batch(raw: Bytes, content_encoding: Option<&str>) -> Result<RawBatch, Problem> {
    let bytes = decode_body(raw, content_encoding, MAX_BATCH_BYTES).map_err(|e| e.0)?;
    parse_json(&bytes).map_err(|e| e.0)
}

/// For whom, and through what, a batch is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitter {
    /// Uploaded by the surveyor (through an enrolled device, or a session).
    Device {
        /// The surveyor.
        user: Uuid,
        /// The device, for device tokens.
        device: Option<Uuid>,
    },
    /// A signed hand-over file of a device, imported by a supervisor.
    Handover {
        /// The device's surveyor.
        user: Uuid,
        /// The device that signed the file.
        device: Uuid,
        /// The supervisor importing it.
        imported_by: Uuid,
    },
}

impl Submitter {
    fn source(self) -> Source {
        match self {
            Submitter::Device { user, device } => Source {
                surveyor: user,
                device,
                handover_importer: None,
                mode: sipas_core::mode::ResponseMode::Capi,
            },
            Submitter::Handover {
                user,
                device,
                imported_by,
            } => Source {
                surveyor: user,
                device: Some(device),
                handover_importer: Some(imported_by),
                mode: sipas_core::mode::ResponseMode::Capi,
            },
        }
    }
}

/// Checks and stores the records of a batch for `submitter`: `413.1` for more than
/// [`MAX_BATCH_RECORDS`] records (nothing stored); otherwise one acknowledgement per record,
/// in order, decided by the stateless checks ([`check_with`], with the catalogues of [`round_catalogues`]) and then the ingest rules
/// ([`crate::ingest`]) in one storage transaction.
pub async fn process_batch(
    state: &AppState,
    records: Vec<Incoming>,
    submitter: Submitter,
) -> ApiResult<UploadResult> {
    if records.len() > MAX_BATCH_RECORDS {
        return Err(ApiError::new(
            ProblemCode::BatchTooManyRecords,
            format!(
                "{} records in one batch; send at most {MAX_BATCH_RECORDS}.",
                records.len()
            ),
            format!(
                "Gửi {} bản ghi một lần; tối đa {MAX_BATCH_RECORDS}.",
                records.len()
            ),
        )
        .with_details(serde_json::json!({
            "records": records.len(),
            "max_records": MAX_BATCH_RECORDS,
        })));
    }
    let now = state.clock.now();
    let catalogues = round_catalogues(state, &records).await?;
    let batch = std::sync::Arc::new(IngestBatch {
        items: records
            .into_iter()
            .map(|r| check_with(&state.forms, &catalogues, r, now))
            .collect(),
        source: submitter.source(),
        received_at: now,
        override_by: None,
    });
    let acks = if batch.items.is_empty() && batch.source.handover_importer.is_none() {
        Vec::new()
    } else {
        // Always stored for a hand-over, so that every import leaves its audit entry.
        state.store.ingest_batch(batch.clone()).await?
    };
    if acks.len() != batch.items.len() {
        tracing::error!(
            sent = batch.items.len(),
            got = acks.len(),
            "storage answered a different number of acknowledgements"
        );
        return Err(ApiError::internal());
    }
    let count = |s: AckStatus| acks.iter().filter(|a| a.status == s).count();
    tracing::info!(
        user_id = %batch.source.surveyor,
        handover = batch.source.handover_importer.is_some(),
        records = acks.len(),
        accepted = count(AckStatus::Accepted),
        duplicate = count(AckStatus::Duplicate),
        conflict = count(AckStatus::Conflict),
        invalid = count(AckStatus::Invalid),
        "batch"
    );
    Ok(UploadResult { acks })
}
