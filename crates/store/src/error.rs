//! Errors of the local store, worded so the surveyor (or support) knows what to do next.
use uuid::Uuid;

/// Result type of every store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything that can go wrong in the local store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error (disk full, file locked, damaged file …).
    #[error(
        "local database error: {0}. Nothing was half-saved; retry, and if it keeps failing \
         check free storage space, restart the app and contact support with this message"
    )]
    Sqlite(#[from] rusqlite::Error),

    /// The record asked for does not exist.
    #[error("{what} {id} was not found on this device; refresh the list and try again")]
    NotFound {
        /// Kind of record, e.g. `"draft"`.
        what: &'static str,
        /// Its key.
        id: String,
    },

    /// A response with this id and revision is already stored with different content.
    #[error(
        "response {id} revision {revision} is already stored with different content; nothing \
         was overwritten. Keep both copies and ask your supervisor to resolve the conflict"
    )]
    Conflict {
        /// Response id.
        id: Uuid,
        /// Revision.
        revision: u32,
    },

    /// The file's schema is newer than this build of the app understands.
    #[error(
        "database was written by a newer SIPAS Field (schema version {found}, this app \
         understands up to {supported}), update the app"
    )]
    NewerSchema {
        /// Schema version found in the file.
        found: u32,
        /// Newest schema version this code knows.
        supported: u32,
    },

    /// A stored value could not be decoded (damaged or hand-edited file).
    #[error(
        "stored {what} could not be read ({detail}); the database may be damaged. Do not \
         delete the app data: make a backup copy and contact support"
    )]
    Corrupt {
        /// What was being read, e.g. `"answers of draft …"`.
        what: String,
        /// The decoder's message.
        detail: String,
    },

    /// A downloaded questionnaire does not match the content hash the server announced;
    /// nothing was stored (issue 12).
    #[error(
        "questionnaire {form_id} version {version} was refused: its content does not match \
         the hash the server gave (expected {expected}, got {actual}); nothing was stored. \
         Sync again, and tell your supervisor if it keeps happening"
    )]
    FormHashMismatch {
        /// Form id.
        form_id: String,
        /// Version.
        version: String,
        /// Hash announced by the server.
        expected: String,
        /// Hash of the content received.
        actual: String,
    },

    /// PIN recovery failed: no recovery file, wrong private key, damaged request or code.
    #[error(
        "Không khôi phục được khoá của dữ liệu ({detail}). Dữ liệu trên máy không bị thay đổi. / \
         Recovery failed ({detail}); nothing on the device was changed."
    )]
    Recovery {
        /// What failed (never contains a key).
        detail: String,
    },

    /// The findings of this spot-check task were already recorded on the device (final).
    #[error(
        "Kết quả phúc tra của nhiệm vụ này đã được ghi và không thể thay đổi. / The findings of \
         spot-check task {id} are already recorded and cannot change."
    )]
    FindingsFinal {
        /// Task.
        id: Uuid,
    },

    /// A practice interview cannot be completed: it is never queued, synced or counted.
    #[error(
        "draft {id} is a practice interview: it is never sent or counted; discard it when done"
    )]
    PracticeNotQueued {
        /// The draft.
        id: Uuid,
    },

    /// An interview outside the sample was started for an assignment.
    #[error("an interview outside the sample (replacement or walk-in) names no assignment")]
    OriginWithAssignment,

    /// A draft with this response id already exists.
    #[error("a draft for response {id} already exists; continue or discard that draft first")]
    DraftExists {
        /// Response id of the existing draft.
        id: Uuid,
    },

    /// A GPS fix outside the possible ranges was offered for a draft; nothing was saved.
    #[error(
        "the GPS fix was not saved: {detail} (latitude must be -90 to 90, longitude -180 to \
         180, accuracy 0 m or more); the answers are unaffected, retry the location or submit \
         without it"
    )]
    InvalidGpsFix {
        /// Which value is out of range.
        detail: String,
    },

    /// An outbox entry is not in a state that allows the requested change.
    #[error(
        "the upload of response {id} revision {revision} is {from} and cannot become {to}; \
         reload the upload queue and try again"
    )]
    InvalidTransition {
        /// Response id.
        id: Uuid,
        /// Revision.
        revision: u32,
        /// Current outbox state.
        from: String,
        /// Requested outbox state.
        to: String,
    },

    /// SQLite refused to switch the file to write-ahead logging.
    #[error(
        "the database could not be switched to write-ahead logging (journal mode stayed \
         '{mode}'); keep the app data on the device's internal storage, not a memory card \
         or network folder"
    )]
    WalUnavailable {
        /// Journal mode SQLite reported.
        mode: String,
    },

    /// The PIN / passphrase does not open the encrypted database. Nothing was changed.
    #[error(
        "Mã PIN không đúng. Dữ liệu vẫn an toàn; hãy thử lại. / Wrong PIN; your data is intact, try again."
    )]
    WrongPassphrase,

    /// The salt file of an existing encrypted database is missing, so its key cannot be
    /// derived.
    #[error(
        "Không tìm thấy tệp muối khoá {path} của cơ sở dữ liệu đã mã hoá; không xoá dữ liệu \
         ứng dụng, hãy khôi phục tệp này từ bản sao lưu hoặc liên hệ hỗ trợ. / The key salt \
         file {path} of this encrypted database is missing, so the database cannot be \
         unlocked. Do not delete the app data: restore that file from a backup (it is stored \
         next to the database) or contact support"
    )]
    SaltMissing {
        /// The expected salt file.
        path: String,
    },

    /// The salt file exists but does not hold exactly 16 bytes.
    #[error(
        "Tệp muối khoá {path} bị hỏng ({len} byte thay vì 16); hãy khôi phục từ bản sao lưu \
         hoặc liên hệ hỗ trợ. / The key salt file {path} is damaged ({len} bytes instead of \
         16); restore it from a backup or contact support"
    )]
    SaltInvalid {
        /// The salt file.
        path: String,
        /// Its length in bytes.
        len: usize,
    },

    /// Reading or writing the salt file failed.
    #[error(
        "Không đọc/ghi được tệp muối khoá {path}: {source}. / The key salt file {path} could \
         not be read or written: {source}; check free storage space and folder permissions, \
         then retry"
    )]
    SaltFile {
        /// The salt file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },

    /// An encrypted open or passphrase change was asked of a plain (unencrypted) database.
    #[error(
        "Cơ sở dữ liệu {path} chưa được mã hoá. / The database {path} is not encrypted; open \
         it without a PIN, or convert it with Store::encrypt_plain_file first"
    )]
    NotEncrypted {
        /// The database file.
        path: String,
    },

    /// Argon2id refused its parameters (a programming error, not the passphrase's fault).
    #[error("key derivation failed: {0}; report this to support")]
    KeyDerivation(String),

    /// The assignment was moved to another surveyor: its draft is kept read-only and no new
    /// interview or revision can be made for it on this device.
    #[error(
        "Phiếu này đã được chuyển cho người khác nên không thể sửa hay phỏng vấn tiếp; bản          nháp được giữ lại. / assignment {assignment_id} was moved to another surveyor: it          cannot be interviewed or edited on this device (drafts are kept read-only)"
    )]
    Withdrawn {
        /// The withdrawn assignment.
        assignment_id: Uuid,
    },
}

impl StoreError {
    /// Shorthand for [`StoreError::NotFound`].
    pub(crate) fn not_found(what: &'static str, id: impl ToString) -> Self {
        StoreError::NotFound {
            what,
            id: id.to_string(),
        }
    }

    /// Shorthand for [`StoreError::Corrupt`].
    pub(crate) fn corrupt(what: impl Into<String>, detail: impl ToString) -> Self {
        StoreError::Corrupt {
            what: what.into(),
            detail: detail.to_string(),
        }
    }
}
