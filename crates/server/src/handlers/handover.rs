//! Offline hand-over: `POST /handover` (supervisor) imports a signed batch file exported by a
//! surveyor's device without network (format in [`sipas_protocol::handover`]).
use crate::app::AppState;
use crate::auth::{Caller, require_cap};
use crate::extract::read_body;
use crate::handlers::sync::{Submitter, process_batch};
use crate::problem::{ApiError, ApiResult};
use crate::validation::Incoming;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sipas_protocol::MAX_BATCH_BYTES;
use sipas_protocol::handover::{HANDOVER_FORMAT, HandoverError, parse_batch};
use sipas_protocol::problem::ProblemCode;
use sipas_protocol::roles::{Capability, Role};
use sipas_protocol::wire::RecordAck;
use uuid::Uuid;

/// Answer of an import: the file's device and surveyor, and one acknowledgement per record
/// exactly as `POST /responses/batch` gives them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoverResult {
    /// Device that signed the file.
    pub device_id: Uuid,
    /// The surveyor the device acts for (the records are stored as theirs).
    pub surveyor_id: Uuid,
    /// When the device exported the file.
    pub exported_at: DateTime<Utc>,
    /// One acknowledgement per record, in file order.
    pub acks: Vec<RecordAck>,
}

fn refused(message: &str, message_vi: &str, reason: &str) -> ApiError {
    ApiError::invalid_input(message, message_vi)
        .with_details(serde_json::json!({ "field": "file", "reason": reason }))
}

/// `POST /api/v1/handover` (supervisor): imports a hand-over file (JSON, gzip accepted, same
/// size limits as an upload batch). The signature is checked against the public key the
/// device gave at enrolment; an unknown device, a device without a key, a bad signature or a
/// device whose user is not a surveyor is `400.3` and nothing is stored. Otherwise the
/// records are processed exactly like `POST /responses/batch` from that device (same
/// validation, same idempotency: importing the same file again gives `duplicate`).
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<HandoverResult>> {
    require_cap(&caller.user, Capability::HandoverImport)?;
    let bytes = read_body(&headers, body, MAX_BATCH_BYTES).await?;
    let received = parse_batch(&bytes).map_err(|e| match e {
        HandoverError::WrongFormat(f) => refused(
            &format!("Unsupported hand-over file format {f:?}; expected {HANDOVER_FORMAT}."),
            &format!("Tệp bàn giao không đúng định dạng {HANDOVER_FORMAT}."),
            "format",
        ),
        other => ApiError::new(
            ProblemCode::MalformedBody,
            format!("The body is not a hand-over file: {other}"),
            "Dữ liệu gửi lên không phải tệp bàn giao hợp lệ.",
        ),
    })?;
    drop(bytes);
    let device_id = received.file.device_id;
    let device = state.store.device(device_id).await?.ok_or_else(|| {
        refused(
            &format!("Device {device_id} is not enrolled on this server."),
            "Thiết bị xuất tệp này chưa được đăng ký với máy chủ.",
            "unknown_device",
        )
    })?;
    let Some(public_key) = device.public_key.as_deref() else {
        return Err(refused(
            "The device enrolled without a signing key, so its files cannot be verified; \
             upload over the network or re-enrol the device.",
            "Thiết bị đăng ký không có khoá ký nên không xác minh được tệp; hãy đồng bộ qua \
             mạng hoặc đăng ký lại thiết bị.",
            "no_key",
        ));
    };
    if received.verify(public_key).is_err() {
        tracing::info!(actor = %caller.user.id, device_id = %device_id, "hand-over signature refused");
        return Err(refused(
            "The file's signature does not match its content and the device's key: it was \
             changed after export or comes from another device. Nothing was stored.",
            "Chữ ký của tệp không khớp (tệp đã bị sửa hoặc không phải của thiết bị này). \
             Không có dữ liệu nào được lưu.",
            "bad_signature",
        ));
    }
    if device.user.role != Role::Surveyor {
        return Err(refused(
            "Hand-over files carry surveyors' responses; this device is not a surveyor's.",
            "Tệp bàn giao chỉ dành cho thiết bị của điều tra viên.",
            "not_a_surveyor",
        ));
    }
    // Scope (issue 10): only files of surveyors inside the importing supervisor's scope.
    let mine = crate::scope::of(&state, &caller).await?;
    let theirs = state.store.user_scope(device.user.id).await?;
    if !mine.contains(&theirs, crate::scope::today(&state)) {
        return Err(crate::scope::refused(
            "The surveyor of this file",
            "Điều tra viên của tệp này",
        )
        .with_details(serde_json::json!({ "reason": "out_of_scope" })));
    }
    let file = received.file;
    let submitter = Submitter::Handover {
        user: device.user.id,
        device: device_id,
        imported_by: caller.user.id,
    };
    let records = file.records.into_iter().map(Incoming::decoded).collect();
    let result = process_batch(&state, records, submitter).await?;
    tracing::info!(actor = %caller.user.id, device_id = %device_id, records = result.acks.len(), "hand-over imported");
    Ok(Json(HandoverResult {
        device_id,
        surveyor_id: device.user.id,
        exported_at: file.exported_at,
        acks: result.acks,
    }))
}
