//! Offline hand-over, device side: when there is no network, the surveyor's device exports
//! its unsent answers as a **signed file** (`sipas-batch/2`, see
//! [`sipas_protocol::handover`]) that a supervisor imports on the server
//! (`POST /api/v1/handover`), with the same idempotency as a network upload.
//!
//! * [`DeviceIdentity`]: the device id and its Ed25519 signing key, made at enrolment by
//!   [`enrol_with_identity`] (the public half goes to the server); the app keeps the secret
//!   half with its enrolment ([`DeviceIdentity::secret_key_base64`], reloaded with
//!   [`DeviceIdentity::load`]);
//! * [`export_handover`] / [`export_handover_files`]: every outbox record the server has
//!   not confirmed (`pending` or `in_flight`), with its stored response and content hash,
//!   signed. Exporting **changes nothing** on the device: the records stay queued until the
//!   server acknowledges them, either through a later network sync (which then gets
//!   `duplicate` acks) or through [`apply_handover_reply`] when the supervisor brings back the
//!   server's import result;
//! * [`write_handover_file`]: atomic write (temporary file, `fsync`, rename), optionally
//!   gzip-compressed with [`gzip_handover`];
//! * [`apply_handover_reply`] / [`apply_handover_acks`]: applies the server's per-record
//!   acknowledgements through the same [`plan::operations_for_acks`] path as the network
//!   sync (accepted or duplicate → `acked`, conflict or invalid → `rejected_invalid`).
//!
//! Nothing here logs answers or keys; [`DeviceIdentity`]'s `Debug` output shows only the
//! device id and the public key.
use crate::client::ApiClient;
use crate::error::SyncError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use sipas_protocol::handover::{
    SigningKey, new_signing_key, public_key_base64, sign_batch, verify_batch,
};
use sipas_protocol::plan::{self, OutboxOp, Pending};
use sipas_protocol::wire::{AckStatus, EnrolResponse, RecordAck, UploadRecord};
use sipas_protocol::{MAX_BATCH_BYTES, MAX_BATCH_RECORDS};
use sipas_store::{OutboxState, Store, StoreError};
use std::collections::HashSet;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use uuid::Uuid;
use zeroize::Zeroizing;

/// Bytes of each file kept free for the envelope (`format`, `device_id`, `exported_at`,
/// `signature`) under the server's [`MAX_BATCH_BYTES`] limit.
const ENVELOPE_RESERVE: usize = 4096;

/// Largest import result file read by [`parse_handover_reply`] (after gzip decoding).
const MAX_REPLY_BYTES: u64 = 16 * 1024 * 1024;

/// Everything that can go wrong exporting a hand-over file or applying its import result.
/// Messages are for the surveyor: Vietnamese first, then English, with what to do.
#[derive(Debug, thiserror::Error)]
pub enum HandoverFileError {
    /// No answer is waiting to be sent.
    #[error(
        "Không có câu trả lời nào đang chờ gửi nên không cần tạo tệp bàn giao. / nothing is \
         waiting to be sent, so there is no hand-over file to make"
    )]
    NothingToExport,

    /// The waiting answers do not fit in one file (see [`export_handover_files`]).
    #[error(
        "{records} câu trả lời đang chờ gửi, quá nhiều cho một tệp bàn giao: hãy xuất thành \
         {files} tệp. / {records} answers are waiting, too many for one hand-over file: export \
         them as {files} files"
    )]
    TooLargeForOneFile {
        /// Records waiting.
        records: usize,
        /// Files needed.
        files: usize,
    },

    /// The saved signing key is missing or not a key.
    #[error(
        "Khoá ký của thiết bị bị thiếu hoặc hỏng nên không tạo được tệp bàn giao: hãy đồng bộ \
         qua mạng, hoặc đăng ký lại thiết bị bằng mã mới của giám sát viên; câu trả lời vẫn an \
         toàn trên máy. / the device's signing key is missing or damaged, so no hand-over file \
         can be made: sync over the network, or enrol the device again with a new code from \
         your supervisor; your answers are safe on this device"
    )]
    BadSecretKey,

    /// The file could not be built or failed its own signature check (a bug).
    #[error(
        "Không tạo được tệp bàn giao ({detail}); câu trả lời vẫn an toàn trên máy, hãy báo bộ \
         phận hỗ trợ. / the hand-over file could not be made ({detail}); your answers are safe \
         on this device, please report this to support"
    )]
    Build {
        /// What failed.
        detail: String,
    },

    /// Writing the file failed.
    #[error(
        "Không ghi được tệp bàn giao vào {path}: kiểm tra thẻ nhớ hoặc USB còn chỗ trống và \
         không bị khoá ghi; câu trả lời vẫn an toàn trên máy. / could not write the hand-over \
         file to {path} ({source}): check that the card or USB stick has free space and is not \
         write-protected; your answers are safe on this device",
        path = .path.display()
    )]
    Write {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },

    /// The import result file could not be read.
    #[error(
        "Không đọc được tệp kết quả nhập ({detail}): hãy xin giám sát viên đúng tệp kết quả máy \
         chủ trả về khi nhập tệp bàn giao; không có gì thay đổi trên máy. / the import result \
         could not be read ({detail}): ask your supervisor for the result file the server gave \
         when importing the hand-over file; nothing was changed on this device"
    )]
    BadReply {
        /// What is wrong.
        detail: String,
    },

    /// The import result is for another device.
    #[error(
        "Tệp kết quả nhập này là của thiết bị khác ({found}), không phải thiết bị này \
         ({expected}); không có gì thay đổi trên máy. / this import result belongs to another \
         device ({found}), not this one ({expected}); nothing was changed on this device"
    )]
    WrongDevice {
        /// This device.
        expected: Uuid,
        /// The device named in the result.
        found: Uuid,
    },

    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The device's identity for hand-over files: its server-given id and its Ed25519 signing
/// key (whose public half the server received at enrolment).
///
/// The key is secret: keep it with the enrolment (owner-only file), never log it. `Debug`
/// shows only the device id and the public key.
#[derive(Clone)]
pub struct DeviceIdentity {
    /// The device id given by the server at enrolment.
    pub device_id: Uuid,
    /// The signing key (secret). Zeroised when dropped.
    pub signing_key: SigningKey,
}

impl fmt::Debug for DeviceIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceIdentity")
            .field("device_id", &self.device_id)
            .field("public_key", &self.public_key_base64())
            .field("signing_key", &"<redacted>")
            .finish()
    }
}

impl DeviceIdentity {
    /// An identity from its parts.
    pub fn new(device_id: Uuid, signing_key: SigningKey) -> DeviceIdentity {
        DeviceIdentity {
            device_id,
            signing_key,
        }
    }

    /// Loads a saved identity: the device id and the secret key as written by
    /// [`DeviceIdentity::secret_key_base64`] (surrounding whitespace ignored).
    pub fn load(
        device_id: Uuid,
        secret_key_b64: &str,
    ) -> Result<DeviceIdentity, HandoverFileError> {
        let bytes = Zeroizing::new(
            STANDARD
                .decode(secret_key_b64.trim())
                .map_err(|_| HandoverFileError::BadSecretKey)?,
        );
        DeviceIdentity::from_secret_key_bytes(device_id, &bytes)
    }

    /// An identity from the 32 secret key bytes (as [`DeviceIdentity::secret_key_bytes`]).
    pub fn from_secret_key_bytes(
        device_id: Uuid,
        bytes: &[u8],
    ) -> Result<DeviceIdentity, HandoverFileError> {
        let bytes: Zeroizing<[u8; 32]> = Zeroizing::new(
            bytes
                .try_into()
                .map_err(|_| HandoverFileError::BadSecretKey)?,
        );
        Ok(DeviceIdentity::new(
            device_id,
            SigningKey::from_bytes(&bytes),
        ))
    }

    /// The 32 secret key bytes, to persist (wiped from memory when dropped).
    pub fn secret_key_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing_key.to_bytes())
    }

    /// The secret key in standard base64 (44 characters), to persist with the enrolment and
    /// reload with [`DeviceIdentity::load`] (wiped from memory when dropped).
    pub fn secret_key_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(*self.secret_key_bytes()))
    }

    /// The public key in standard base64, as the server has it.
    pub fn public_key_base64(&self) -> String {
        public_key_base64(&self.signing_key)
    }
}

/// The result of [`enrol_with_identity`]: the server's answer and the new identity.
#[derive(Clone)]
pub struct IdentityEnrolment {
    /// The server's answer: device id, bearer token (secret), user.
    pub response: EnrolResponse,
    /// The device id with the freshly made signing key. Persist
    /// [`DeviceIdentity::secret_key_base64`] (or [`DeviceIdentity::secret_key_bytes`]) with
    /// the enrolment; without it the device cannot make hand-over files.
    pub identity: DeviceIdentity,
}

impl fmt::Debug for IdentityEnrolment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityEnrolment")
            .field("device_id", &self.response.device_id)
            .field("user", &self.response.user.username)
            .field("token", &"<redacted>")
            .field("identity", &self.identity)
            .finish()
    }
}

/// Enrols the device with a one-time `code` like [`ApiClient::enrol`], also making its
/// signing key and registering the public half ([`ApiClient::enrol_with_key`]). On success
/// `client` holds the device token; the caller persists the token and the identity's secret
/// key. The key is made before the call, so a failed enrolment leaves nothing to persist.
pub async fn enrol_with_identity(
    client: &mut ApiClient,
    code: &str,
    device_name: &str,
) -> Result<IdentityEnrolment, SyncError> {
    let key = new_signing_key();
    let response = client
        .enrol_with_key(code, device_name, Some(&public_key_base64(&key)))
        .await?;
    Ok(IdentityEnrolment {
        identity: DeviceIdentity::new(response.device_id, key),
        response,
    })
}

/// PIN recovery (issue 13), for the supervisor: opens the locked device store `db` with the
/// organisation's recovery private key `secret` (through the sealed key in `<db>.recovery`,
/// [`sipas_store::recovery::open_recovery_file`]) and exports its unsynced records as normal
/// signed hand-over files ([`export_handover_files`]), signed with the device's identity
/// (from its enrolment file), so the dashboard's hand-over import accepts them. Read-only on
/// the records. A wrong or missing private key: [`StoreError::Recovery`], nothing read.
pub fn recover_handover_files(
    db: &Path,
    secret: &[u8; 32],
    identity: &DeviceIdentity,
    exported_at: DateTime<Utc>,
) -> Result<Vec<HandoverExport>, HandoverFileError> {
    let key = sipas_store::recovery::open_recovery_file(db, secret)?;
    let mut store = Store::open_with_key(db, &key)?;
    store.set_actor("recovery");
    export_handover_files(&store, identity, exported_at)
}

/// One exported hand-over file. `Debug` shows its size, not its content (answers).
#[derive(Clone, PartialEq, Eq)]
pub struct HandoverExport {
    /// The file's bytes: JSON (`sipas-batch/2`), not compressed.
    pub bytes: Vec<u8>,
    /// Records in it.
    pub records: usize,
}

impl fmt::Debug for HandoverExport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandoverExport")
            .field("bytes", &self.bytes.len())
            .field("records", &self.records)
            .finish()
    }
}

/// Exports every outbox record the server has not confirmed (`pending` or `in_flight`, in
/// queue order) as **one** signed hand-over file: `(file bytes (JSON), records)`.
///
/// Read-only: the outbox and the responses are left exactly as they were (see the module
/// docs). Errors: [`HandoverFileError::NothingToExport`] when nothing waits,
/// [`HandoverFileError::TooLargeForOneFile`] when the records exceed one file's limits
/// ([`MAX_BATCH_RECORDS`] records, about [`MAX_BATCH_BYTES`]); use
/// [`export_handover_files`] then. The file is checked against the identity's public key
/// before it is returned.
pub fn export_handover(
    store: &Store,
    identity: &DeviceIdentity,
    exported_at: DateTime<Utc>,
) -> Result<(Vec<u8>, usize), HandoverFileError> {
    one_file(export_handover_files(store, identity, exported_at)?)
}

/// The only file of an export, or [`HandoverFileError::TooLargeForOneFile`].
fn one_file(mut files: Vec<HandoverExport>) -> Result<(Vec<u8>, usize), HandoverFileError> {
    if files.len() > 1 {
        return Err(HandoverFileError::TooLargeForOneFile {
            records: files.iter().map(|f| f.records).sum(),
            files: files.len(),
        });
    }
    let file = files.pop().ok_or(HandoverFileError::NothingToExport)?;
    Ok((file.bytes, file.records))
}

/// Like [`export_handover`], split into as many files as the server's limits require (each
/// at most [`MAX_BATCH_RECORDS`] records and about [`MAX_BATCH_BYTES`], in queue order, each
/// signed on its own and importable in any order).
pub fn export_handover_files(
    store: &Store,
    identity: &DeviceIdentity,
    exported_at: DateTime<Utc>,
) -> Result<Vec<HandoverExport>, HandoverFileError> {
    export_with_limits(
        store,
        identity,
        exported_at,
        MAX_BATCH_RECORDS,
        MAX_BATCH_BYTES - ENVELOPE_RESERVE,
    )
}

fn build_error(e: impl fmt::Display) -> HandoverFileError {
    HandoverFileError::Build {
        detail: e.to_string(),
    }
}

fn export_with_limits(
    store: &Store,
    identity: &DeviceIdentity,
    exported_at: DateTime<Utc>,
    max_records: usize,
    max_bytes: usize,
) -> Result<Vec<HandoverExport>, HandoverFileError> {
    let mut records = Vec::new();
    let mut pending = Vec::new();
    for entry in store.undelivered_outbox(usize::MAX)? {
        let stored = store
            .get_response(entry.response_id, entry.revision)?
            .ok_or_else(|| StoreError::NotFound {
                what: "response",
                id: format!("{} revision {}", entry.response_id, entry.revision),
            })?;
        let record = UploadRecord {
            response: stored.response,
            content_hash: stored.content_hash,
        };
        let size = serde_json::to_vec(&record).map_err(build_error)?.len() + 1;
        pending.push(Pending {
            id: entry.response_id,
            revision: entry.revision,
            size,
        });
        records.push(record);
    }
    if records.is_empty() {
        return Err(HandoverFileError::NothingToExport);
    }
    let public_key = identity.public_key_base64();
    let mut records = records.into_iter();
    plan::plan_batches(&pending, max_records, max_bytes)
        .into_iter()
        .map(|batch| {
            let part: Vec<UploadRecord> = records.by_ref().take(batch.len()).collect();
            let count = part.len();
            let file = sign_batch(&identity.signing_key, identity.device_id, exported_at, part)
                .map_err(build_error)?;
            let bytes = serde_json::to_vec(&file).map_err(build_error)?;
            // The server verifies the bytes it receives: check them the same way here, so a
            // file that would be refused is never handed to the surveyor.
            verify_batch(&bytes, &public_key).map_err(build_error)?;
            Ok(HandoverExport {
                bytes,
                records: count,
            })
        })
        .collect()
}

/// A file name for an export: `sipas-handover-<device id>-<UTC time>[-<part>].json`, e.g.
/// `sipas-handover-0192…-20261120T100000Z.json` (`part` counts from 1; `None` for a single
/// file). Add `.gz` when the bytes were compressed with [`gzip_handover`].
pub fn handover_file_name(
    device_id: Uuid,
    exported_at: DateTime<Utc>,
    part: Option<usize>,
) -> String {
    let at = exported_at.format("%Y%m%dT%H%M%SZ");
    match part {
        Some(n) => format!("sipas-handover-{device_id}-{at}-{n}.json"),
        None => format!("sipas-handover-{device_id}-{at}.json"),
    }
}

/// Gzip-compresses a file's bytes (the server accepts them with
/// `Content-Encoding: gzip`).
pub fn gzip_handover(bytes: &[u8]) -> Result<Vec<u8>, HandoverFileError> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(bytes).map_err(build_error)?;
    gz.finish().map_err(build_error)
}

/// The bytes of a possibly gzip-compressed file (recognised by its magic number), at most
/// `limit` bytes after decoding.
fn maybe_gunzip(bytes: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes.to_vec());
    }
    let mut out = Vec::new();
    MultiGzDecoder::new(bytes)
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("not valid gzip: {e}"))?;
    if out.len() as u64 > limit {
        return Err(format!("larger than {limit} bytes"));
    }
    Ok(out)
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, flushed to
/// disk, then renamed over `path` (and, on Unix, the directory flushed), so a crash or a
/// pulled USB stick never leaves a half-written file under the final name. The file is
/// readable by its owner only (on Unix; file systems without permissions ignore this).
pub fn write_handover_file(path: &Path, bytes: &[u8]) -> Result<(), HandoverFileError> {
    let fail = |source: std::io::Error| HandoverFileError::Write {
        path: path.to_path_buf(),
        source,
    };
    let name = path.file_name().ok_or_else(|| {
        fail(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "no file name",
        ))
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", Uuid::now_v7().simple()));
    let tmp = path.with_file_name(tmp_name);
    let written = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Best effort: the rename is durable once the directory is flushed.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// The server's answer to `POST /api/v1/handover`, as the supervisor brings it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoverReply {
    /// The device that signed the imported file.
    pub device_id: Uuid,
    /// The surveyor the records were stored for.
    pub surveyor_id: Uuid,
    /// When the file was exported.
    pub exported_at: DateTime<Utc>,
    /// One acknowledgement per record of the file.
    pub acks: Vec<RecordAck>,
}

/// Parses an import result (the JSON the server answered, possibly gzip-compressed).
pub fn parse_handover_reply(bytes: &[u8]) -> Result<HandoverReply, HandoverFileError> {
    let bad = |detail: String| HandoverFileError::BadReply { detail };
    let json = maybe_gunzip(bytes, MAX_REPLY_BYTES).map_err(bad)?;
    serde_json::from_slice(&json).map_err(|e| bad(e.to_string()))
}

/// What applying an import result did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HandoverApplyReport {
    /// Records now marked delivered (accepted or duplicate).
    pub acked: usize,
    /// Of those, records the server already had.
    pub duplicates: usize,
    /// Records refused for good (conflict or invalid): see their outbox entries.
    pub rejected: usize,
    /// Acknowledgements for records already settled on the device (acked or rejected
    /// earlier, e.g. by a network sync or an earlier import result): nothing changed.
    pub already_settled: usize,
    /// Acknowledgements for records this device does not have in its outbox: ignored.
    pub unknown: usize,
}

/// Applies an import result (bytes as [`parse_handover_reply`] reads them) to the outbox of
/// the device `device_id`: a result for another device is
/// [`HandoverFileError::WrongDevice`] and changes nothing. See [`apply_handover_acks`].
pub fn apply_handover_reply(
    store: &mut Store,
    device_id: Uuid,
    bytes: &[u8],
) -> Result<HandoverApplyReport, HandoverFileError> {
    let reply = parse_handover_reply(bytes)?;
    if reply.device_id != device_id {
        return Err(HandoverFileError::WrongDevice {
            expected: device_id,
            found: reply.device_id,
        });
    }
    apply_handover_acks(store, &reply.acks)
}

/// Applies the server's acknowledgements of a hand-over file to the outbox, exactly as a
/// network sync applies an upload's ([`plan::operations_for_acks`]): accepted or duplicate
/// → `acked` (the response becomes `synced`), conflict or invalid → `rejected_invalid` with
/// the reason. Only records still waiting (`pending` or `in_flight`) change; applying the
/// same result twice, or after a network sync, changes nothing more.
pub fn apply_handover_acks(
    store: &mut Store,
    acks: &[RecordAck],
) -> Result<HandoverApplyReport, HandoverFileError> {
    let mut report = HandoverApplyReport::default();
    let mut seen = HashSet::new();
    let mut waiting = Vec::new();
    for ack in acks {
        if !seen.insert((ack.id, ack.revision)) {
            continue;
        }
        match store.get_outbox(ack.id, ack.revision)?.map(|e| e.state) {
            None => report.unknown += 1,
            Some(OutboxState::Acked | OutboxState::RejectedInvalid) => report.already_settled += 1,
            Some(OutboxState::Pending | OutboxState::InFlight) => waiting.push(Pending {
                id: ack.id,
                revision: ack.revision,
                size: 0,
            }),
        }
    }
    report.duplicates = acks
        .iter()
        .filter(|a| a.status == AckStatus::Duplicate)
        .filter(|a| {
            waiting
                .iter()
                .any(|p| (p.id, p.revision) == (a.id, a.revision))
        })
        .count();
    for op in plan::operations_for_acks(&waiting, acks) {
        match op {
            OutboxOp::MarkAcked { id, revision } => {
                store.mark_acked(id, revision)?;
                report.acked += 1;
            }
            OutboxOp::MarkRejected {
                id,
                revision,
                reason,
                reason_code,
                quarantine_id,
            } => {
                crate::engine::mark_refused(
                    store,
                    id,
                    revision,
                    &reason,
                    reason_code,
                    quarantine_id,
                )?;
                report.rejected += 1;
            }
            // Every waiting record was taken from an ack, so none is unacknowledged; one that
            // were would simply stay queued for the next sync.
            OutboxOp::Retry { .. } => {}
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sipas_core::answer::AnswerValue;
    use sipas_core::questionnaire::FormKey;
    use sipas_core::response::{Paradata, Response};
    use sipas_protocol::handover::{HANDOVER_FORMAT, HandoverError};
    use sipas_store::{OutboxEntry, ResponseStatus, StoredResponse};
    use std::collections::BTreeMap;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn response(n: u128) -> Response {
        let t = at("2026-11-20T08:00:00.123Z");
        Response {
            id: Uuid::from_u128(n),
            revision: 1,
            form: FormKey {
                form_id: "sipas-6-groups".into(),
                version: "2026.1".into(),
            },
            assignment_id: Some(Uuid::from_u128(1000 + n)),
            round_id: "R1".into(),
            unit_code: "00004".into(),
            answers: BTreeMap::from([
                ("G1_1".to_string(), AnswerValue::Int(4)),
                (
                    "B1".to_string(),
                    AnswerValue::Text(format!("Thủ tục \"số\" {n}")),
                ),
            ]),
            started_at: t,
            completed_at: t + chrono::Duration::minutes(12),
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

    fn identity() -> DeviceIdentity {
        DeviceIdentity::new(Uuid::from_u128(77), SigningKey::from_bytes(&[9u8; 32]))
    }

    /// Every outbox entry and stored response, to compare before and after.
    fn snapshot(s: &Store) -> (Vec<OutboxEntry>, Vec<StoredResponse>, u64) {
        let responses = s.list_responses().unwrap();
        let outbox = responses
            .iter()
            .filter_map(|r| s.get_outbox(r.response.id, r.response.revision).unwrap())
            .collect();
        let counts = s.outbox_counts().unwrap();
        (
            outbox,
            responses,
            counts.pending + counts.in_flight + counts.acked + counts.rejected,
        )
    }

    fn ack(n: u128, status: AckStatus) -> RecordAck {
        RecordAck {
            id: Uuid::from_u128(n),
            revision: 1,
            status,
            reason: None,
            reason_code: None,
            quarantine_id: None,
            issues: Vec::new(),
        }
    }

    fn state(s: &Store, n: u128) -> OutboxState {
        s.get_outbox(Uuid::from_u128(n), 1).unwrap().unwrap().state
    }

    #[test]
    fn export_carries_pending_and_in_flight_records_and_changes_nothing() {
        let mut s = store_with(5);
        s.mark_in_flight(Uuid::from_u128(2), 1).unwrap();
        s.mark_acked(Uuid::from_u128(3), 1).unwrap();
        s.mark_rejected_invalid(Uuid::from_u128(4), 1, "invalid")
            .unwrap();
        let before = snapshot(&s);
        let id = identity();
        let when = at("2026-11-21T10:00:00Z");

        let (bytes, n) = export_handover(&s, &id, when).unwrap();
        assert_eq!(n, 3);
        assert_eq!(snapshot(&s), before, "exporting must not change the store");

        let file = verify_batch(&bytes, &id.public_key_base64()).unwrap();
        assert_eq!(file.format, HANDOVER_FORMAT);
        assert_eq!((file.device_id, file.exported_at), (id.device_id, when));
        let ids: Vec<u128> = file
            .records
            .iter()
            .map(|r| r.response.id.as_u128())
            .collect();
        assert_eq!(ids, [1, 2, 5], "pending and in-flight, in queue order");
        for r in &file.records {
            assert_eq!(r.content_hash, r.response.content_hash());
            assert_eq!(r.response, response(r.response.id.as_u128()));
        }

        // Exporting again gives the very same file (Ed25519 signatures are deterministic)
        // and still changes nothing.
        let (again, _) = export_handover(&s, &id, when).unwrap();
        assert_eq!(again, bytes);
        assert_eq!(snapshot(&s), before);
        let other = DeviceIdentity::new(id.device_id, new_signing_key());
        assert_eq!(
            verify_batch(&bytes, &other.public_key_base64()),
            Err(HandoverError::BadSignature)
        );
    }

    #[test]
    fn nothing_waiting_is_an_error_and_still_changes_nothing() {
        let mut s = store_with(2);
        s.mark_acked(Uuid::from_u128(1), 1).unwrap();
        s.mark_rejected_invalid(Uuid::from_u128(2), 1, "conflict")
            .unwrap();
        let before = snapshot(&s);
        let err = export_handover(&s, &identity(), Utc::now()).unwrap_err();
        assert!(matches!(err, HandoverFileError::NothingToExport), "{err}");
        assert!(err.to_string().contains("nothing is waiting"), "{err}");
        assert!(matches!(
            export_handover(&Store::open_in_memory().unwrap(), &identity(), Utc::now()),
            Err(HandoverFileError::NothingToExport)
        ));
        assert_eq!(snapshot(&s), before);
    }

    #[test]
    fn many_records_are_split_into_signed_parts_in_queue_order() {
        let s = store_with(7);
        let before = snapshot(&s);
        let id = identity();
        let when = at("2026-11-21T10:00:00Z");
        let parts = export_with_limits(&s, &id, when, 3, usize::MAX).unwrap();
        assert_eq!(
            parts.iter().map(|p| p.records).collect::<Vec<_>>(),
            [3, 3, 1]
        );
        let mut ids = Vec::new();
        for p in &parts {
            let file = verify_batch(&p.bytes, &id.public_key_base64()).unwrap();
            assert_eq!(file.records.len(), p.records);
            ids.extend(file.records.iter().map(|r| r.response.id.as_u128()));
        }
        assert_eq!(ids, (1..=7).collect::<Vec<_>>());
        // By bytes too: one record per file when each is bigger than half the limit.
        let one = serde_json::to_vec(&UploadRecord {
            response: response(1),
            content_hash: response(1).content_hash(),
        })
        .unwrap()
        .len();
        let parts = export_with_limits(&s, &id, when, 500, one + one / 2).unwrap();
        assert_eq!(parts.len(), 7);
        assert_eq!(snapshot(&s), before);
        // The single-file export refuses what needs several files, saying how many.
        let err = one_file(export_with_limits(&s, &id, when, 3, usize::MAX).unwrap()).unwrap_err();
        assert!(
            matches!(
                err,
                HandoverFileError::TooLargeForOneFile {
                    records: 7,
                    files: 3
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("as 3 files"), "{err}");
        assert_eq!(export_handover_files(&s, &id, when).unwrap().len(), 1);
    }

    #[test]
    fn identity_round_trips_through_base64_and_debug_hides_the_key() {
        let id = identity();
        let b64 = id.secret_key_base64();
        assert_eq!(b64.len(), 44);
        let back = DeviceIdentity::load(id.device_id, &format!(" {}\n", b64.as_str())).unwrap();
        assert_eq!(back.public_key_base64(), id.public_key_base64());
        assert_eq!(*back.secret_key_bytes(), [9u8; 32]);
        let again =
            DeviceIdentity::from_secret_key_bytes(id.device_id, &*id.secret_key_bytes()).unwrap();
        assert_eq!(again.signing_key, id.signing_key);

        for bad in ["", "not base64!", &STANDARD.encode([1u8; 16])] {
            assert!(matches!(
                DeviceIdentity::load(id.device_id, bad),
                Err(HandoverFileError::BadSecretKey)
            ));
        }
        let dbg = format!("{id:?}");
        assert!(!dbg.contains(b64.as_str()), "{dbg}");
        assert!(dbg.contains("redacted") && dbg.contains(&id.public_key_base64()));
        assert!(
            HandoverFileError::BadSecretKey
                .to_string()
                .contains("enrol the device again")
        );
    }

    #[test]
    fn acks_are_applied_like_a_network_sync_and_only_once() {
        let mut s = store_with(5);
        s.mark_in_flight(Uuid::from_u128(2), 1).unwrap();
        s.mark_acked(Uuid::from_u128(5), 1).unwrap();
        let mut conflict = ack(3, AckStatus::Conflict);
        conflict.reason = Some("already stored with different content".into());
        let acks = vec![
            ack(1, AckStatus::Accepted),
            ack(2, AckStatus::Duplicate),
            conflict,
            ack(5, AckStatus::Duplicate),
            ack(99, AckStatus::Accepted),
            ack(1, AckStatus::Accepted),
        ];
        let r = apply_handover_acks(&mut s, &acks).unwrap();
        assert_eq!(
            r,
            HandoverApplyReport {
                acked: 2,
                duplicates: 1,
                rejected: 1,
                already_settled: 1,
                unknown: 1,
            }
        );
        assert_eq!(state(&s, 1), OutboxState::Acked);
        assert_eq!(state(&s, 2), OutboxState::Acked);
        assert_eq!(state(&s, 3), OutboxState::RejectedInvalid);
        assert_eq!(state(&s, 4), OutboxState::Pending, "not in the result");
        let e = s.get_outbox(Uuid::from_u128(3), 1).unwrap().unwrap();
        assert!(e.last_error.unwrap().starts_with("conflict"));
        let synced = s.get_response(Uuid::from_u128(1), 1).unwrap().unwrap();
        assert_eq!(synced.status, ResponseStatus::Synced);

        let before = snapshot(&s);
        let r = apply_handover_acks(&mut s, &acks).unwrap();
        assert_eq!((r.acked, r.rejected, r.already_settled), (0, 0, 4));
        assert_eq!(snapshot(&s), before, "applying twice changes nothing more");
    }

    #[test]
    fn import_results_are_parsed_plain_or_gzip_and_checked_for_the_device() {
        let mut s = store_with(2);
        let id = identity();
        let reply = serde_json::json!({
            "device_id": id.device_id,
            "surveyor_id": Uuid::from_u128(5),
            "exported_at": "2026-11-21T10:00:00Z",
            "acks": [
                { "id": Uuid::from_u128(1), "revision": 1, "status": "accepted" },
                { "id": Uuid::from_u128(2), "revision": 1, "status": "invalid",
                  "reason": "answers", "issues": [{ "item_code": "G1_1", "kind": "out_of_range",
                  "message_vi": "Ngoài khoảng", "message": "out of range" }] },
            ],
        });
        let bytes = serde_json::to_vec_pretty(&reply).unwrap();

        let before = snapshot(&s);
        let err = apply_handover_reply(&mut s, Uuid::from_u128(78), &bytes).unwrap_err();
        assert!(
            matches!(err, HandoverFileError::WrongDevice { .. }),
            "{err}"
        );
        for garbage in [&b"{\"acks\": 1}"[..], b"\x1f\x8b\x08garbage", b""] {
            let err = apply_handover_reply(&mut s, id.device_id, garbage).unwrap_err();
            assert!(matches!(err, HandoverFileError::BadReply { .. }), "{err}");
        }
        assert_eq!(snapshot(&s), before);

        let gz = gzip_handover(&bytes).unwrap();
        assert_eq!(&gz[..2], &[0x1f, 0x8b]);
        let r = apply_handover_reply(&mut s, id.device_id, &gz).unwrap();
        assert_eq!((r.acked, r.rejected), (1, 1));
        let e = s.get_outbox(Uuid::from_u128(2), 1).unwrap().unwrap();
        assert_eq!(e.state, OutboxState::RejectedInvalid);
        assert_eq!(
            e.last_error.as_deref(),
            Some("invalid: answers; G1_1: Ngoài khoảng")
        );
    }

    #[test]
    fn files_are_written_atomically_and_errors_name_the_place() {
        let dir = std::env::temp_dir().join(format!("sipas-handover-{}", Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let id = identity();
        let when = at("2026-11-21T10:00:00Z");
        let name = handover_file_name(id.device_id, when, None);
        assert_eq!(
            name,
            format!("sipas-handover-{}-20261121T100000Z.json", id.device_id)
        );
        assert!(handover_file_name(id.device_id, when, Some(2)).ends_with("Z-2.json"));
        let path = dir.join(&name);
        write_handover_file(&path, b"first").unwrap();
        write_handover_file(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left,
            [std::ffi::OsString::from(&name)],
            "no temporary file left"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let missing = dir.join("no-such-dir").join(&name);
        let err = write_handover_file(&missing, b"x").unwrap_err();
        assert!(matches!(err, HandoverFileError::Write { .. }), "{err}");
        assert!(err.to_string().contains("no-such-dir"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
