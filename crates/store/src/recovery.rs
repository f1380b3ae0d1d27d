//! PIN recovery (issue 13): a forgotten PIN must not lose interviews.
//!
//! The store's key is derived from the PIN ([`crate::encryption`]). At enrolment the device
//! receives the organisation's **recovery public key** (X25519); the store keeps it (table
//! `recovery_key`, inside the encrypted file) and seals its key with it — a libsodium sealed
//! box (`crypto_box_seal`: ephemeral X25519 + XSalsa20-Poly1305) — into the side file
//! `<db>.recovery` ([`RecoveryFile`], JSON). Only the province's **private** key, kept
//! offline (`sipas-server recovery-keygen`), opens it. After every PIN change the new key is
//! sealed again (written as `<db>.recovery.new` before the re-encryption and moved over
//! `<db>.recovery` after it, so a crash in between leaves one of the two files matching).
//!
//! Two ways back, both need the private key:
//! * the supervisor reads the device's files with the private key ([`open_recovery_file`]) and
//!   exports the unsynced records as a hand-over file (`sipas-server recover-device`);
//! * the surveyor shows the **recovery request** ([`recovery_request`], the sealed key, safe to
//!   read out or photograph: useless without the private key); the supervisor turns it into a
//!   **recovery code** ([`recovery_code_from_request`], the store key itself, 64 hex digits in
//!   groups of 4) and the surveyor enters it with a new PIN ([`Store::reset_passphrase`]):
//!   the store is re-encrypted under the new PIN, so the code stops working at once.
//!
//! Without the private key (or with the wrong one) nothing opens: [`StoreError::Recovery`].
use crate::audit;
use crate::codec;
use crate::encryption::KEY_LEN;
use crate::error::{Result, StoreError};
use crate::store::{DatabaseKey, Store};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_box::aead::OsRng;
use crypto_box::{PublicKey, SecretKey};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// `format` of a [`RecoveryFile`].
pub const RECOVERY_FORMAT: &str = "sipas-recovery/1";

/// The side file `<db>.recovery`: the store key sealed with the recovery public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryFile {
    /// Always [`RECOVERY_FORMAT`].
    pub format: String,
    /// The recovery public key it was sealed with (standard base64), to tell which private
    /// key opens it.
    pub public_key: String,
    /// The sealed store key (standard base64; 32 + 48 bytes). Also the recovery request.
    pub sealed_key: String,
}

/// A recovery key pair made by [`generate_recovery_keypair`].
pub struct RecoveryKeyPair {
    /// The private key (keep offline; wiped when dropped).
    pub secret: Zeroizing<[u8; 32]>,
    /// The public key (goes to the server configuration and to every device).
    pub public: [u8; 32],
}

impl std::fmt::Debug for RecoveryKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveryKeyPair")
            .field("public", &STANDARD.encode(self.public))
            .field("secret", &"<redacted>")
            .finish()
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Where the sealed key of `db` lives: `<db>.recovery`.
pub fn recovery_path(db: &Path) -> PathBuf {
    with_suffix(db, ".recovery")
}

/// Where the sealed key waits during a PIN change: `<db>.recovery.new`.
pub fn pending_recovery_path(db: &Path) -> PathBuf {
    with_suffix(db, ".recovery.new")
}

fn bad(detail: impl Into<String>) -> StoreError {
    StoreError::Recovery {
        detail: detail.into(),
    }
}

/// A new X25519 recovery key pair from the operating system's generator.
pub fn generate_recovery_keypair() -> RecoveryKeyPair {
    let secret = SecretKey::generate(&mut OsRng);
    RecoveryKeyPair {
        public: *secret.public_key().as_bytes(),
        secret: Zeroizing::new(secret.to_bytes()),
    }
}

fn decode_32(b64: &str, what: &str) -> Result<Zeroizing<[u8; 32]>> {
    let bytes = Zeroizing::new(
        STANDARD
            .decode(b64.trim())
            .map_err(|_| bad(format!("{what} is not base64")))?,
    );
    let arr: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| bad(format!("{what} is not 32 bytes")))?;
    Ok(Zeroizing::new(arr))
}

/// Decodes a public key in standard base64 (32 bytes).
pub fn parse_public_key(b64: &str) -> Result<[u8; 32]> {
    decode_32(b64, "the recovery public key").map(|k| *k)
}

/// Decodes a private key in standard base64 (32 bytes), as written by `recovery-keygen`.
pub fn parse_secret_key(b64: &str) -> Result<Zeroizing<[u8; 32]>> {
    decode_32(b64, "the recovery private key")
}

fn seal(public: &[u8; 32], key: &[u8; KEY_LEN]) -> Result<String> {
    let sealed = PublicKey::from(*public)
        .seal(&mut OsRng, key)
        .map_err(|_| bad("sealing the key failed"))?;
    Ok(STANDARD.encode(sealed))
}

fn unseal(secret: &[u8; 32], sealed_b64: &str) -> Result<DatabaseKey> {
    let sealed = STANDARD
        .decode(sealed_b64.trim())
        .map_err(|_| bad("the recovery request is not base64"))?;
    let plain =
        Zeroizing::new(SecretKey::from(*secret).unseal(&sealed).map_err(|_| {
            bad("this private key does not open it (wrong key or damaged request)")
        })?);
    let key: [u8; KEY_LEN] = plain
        .as_slice()
        .try_into()
        .map_err(|_| bad("the sealed key has the wrong length"))?;
    Ok(DatabaseKey(Zeroizing::new(key)))
}

/// Writes the recovery file for `key` at `path` (fsynced).
fn write_recovery_file(path: &Path, public: &[u8; 32], key: &[u8; KEY_LEN]) -> Result<()> {
    let file = RecoveryFile {
        format: RECOVERY_FORMAT.into(),
        public_key: STANDARD.encode(public),
        sealed_key: seal(public, key)?,
    };
    let json = serde_json::to_vec_pretty(&file).map_err(|e| bad(e.to_string()))?;
    let io = |e: std::io::Error| bad(format!("{}: {e}", path.display()));
    let mut f = std::fs::File::create(path).map_err(io)?;
    f.write_all(&json).map_err(io)?;
    f.sync_all().map_err(io)
}

fn read_recovery_file(path: &Path) -> Result<Option<RecoveryFile>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let f: RecoveryFile = serde_json::from_slice(&bytes)
                .map_err(|e| bad(format!("{} is not a recovery file: {e}", path.display())))?;
            if f.format != RECOVERY_FORMAT {
                return Err(bad(format!("unknown recovery file format {:?}", f.format)));
            }
            Ok(Some(f))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(bad(format!("{}: {e}", path.display()))),
    }
}

/// The device's recovery request: its sealed key (standard base64), to read out to the
/// supervisor. `Ok(None)` when the device has no recovery key (enrolled before recovery
/// keys, or the server has none configured).
pub fn recovery_request(db: &Path) -> Result<Option<String>> {
    Ok(read_recovery_file(&recovery_path(db))?.map(|f| f.sealed_key))
}

/// For the supervisor: the recovery code of a device's recovery request, given the recovery
/// private key. The code is the store key, 64 hex digits in groups of 4.
pub fn recovery_code_from_request(secret: &[u8; 32], request: &str) -> Result<Zeroizing<String>> {
    let key = unseal(secret, request)?;
    let hex = Zeroizing::new(hex::encode(*key.0));
    let grouped = hex
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("-");
    Ok(Zeroizing::new(grouped))
}

/// The store key in a recovery code (spaces, dashes and case ignored).
pub fn parse_recovery_code(code: &str) -> Result<DatabaseKey> {
    let digits: Zeroizing<String> = Zeroizing::new(
        code.chars()
            .filter(char::is_ascii_hexdigit)
            .map(|c| c.to_ascii_lowercase())
            .collect(),
    );
    let bytes = Zeroizing::new(
        hex::decode(digits.as_bytes()).map_err(|_| bad("the recovery code is not valid"))?,
    );
    let key: [u8; KEY_LEN] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| bad("the recovery code must have 64 hex digits"))?;
    Ok(DatabaseKey(Zeroizing::new(key)))
}

/// For the supervisor: the key of the locked store `db`, from its recovery file(s) and the
/// recovery private key. The key is checked: it must open the store.
pub fn open_recovery_file(db: &Path, secret: &[u8; 32]) -> Result<DatabaseKey> {
    let mut last = bad(format!(
        "no recovery file next to {} (the device had no recovery key)",
        db.display()
    ));
    for path in [recovery_path(db), pending_recovery_path(db)] {
        let Some(file) = read_recovery_file(&path)? else {
            continue;
        };
        match unseal(secret, &file.sealed_key) {
            Ok(key) => match Store::open_with_key(db, &key) {
                Ok(_) => return Ok(key),
                Err(e) => last = e,
            },
            Err(e) => last = e,
        }
    }
    Err(last)
}

impl Store {
    /// The recovery public key kept in the store, if any.
    pub fn recovery_public_key(&self) -> Result<Option<[u8; 32]>> {
        let b64: Option<String> = self
            .conn()
            .query_row(
                "SELECT public_key FROM recovery_key WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        b64.as_deref().map(parse_public_key).transpose()
    }

    /// Keeps the organisation's recovery public key and seals the store's `key` (as from
    /// [`Store::unlock`]) with it into `<db>.recovery`. Called at enrolment; calling it again
    /// with another key replaces both. Only for encrypted stores.
    pub fn set_recovery_public_key(&mut self, public: &[u8; 32], key: &DatabaseKey) -> Result<()> {
        let path = self
            .encrypted_path()
            .ok_or_else(|| StoreError::NotEncrypted {
                path: "(this store)".into(),
            })?;
        let b64 = STANDARD.encode(public);
        self.write(|tx, actor| {
            tx.execute(
                "INSERT INTO recovery_key (id, public_key, set_at) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET public_key = excluded.public_key,
                                                set_at = excluded.set_at",
                rusqlite::params![b64, codec::ts(&codec::now())],
            )?;
            audit::append(
                tx,
                actor,
                "store.recovery_key_set",
                "store",
                "-",
                serde_json::json!({ "public_key": b64 }),
            )
        })?;
        write_recovery_file(&recovery_path(&path), public, &key.0)
    }

    /// Seals `new_key` for the pending PIN change (see the module docs); nothing without a
    /// recovery key.
    pub(crate) fn seal_pending(&self, path: &Path, new_key: &[u8; KEY_LEN]) -> Result<bool> {
        match self.recovery_public_key()? {
            Some(public) => {
                write_recovery_file(&pending_recovery_path(path), &public, new_key)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Moves the pending sealed key over `<db>.recovery` after a PIN change.
    pub(crate) fn commit_pending_seal(path: &Path) -> Result<()> {
        std::fs::rename(pending_recovery_path(path), recovery_path(path))
            .map_err(|e| bad(format!("{}: {e}", recovery_path(path).display())))
    }

    /// "Quên mã PIN": opens the store at `path` with a key recovered by the supervisor
    /// ([`parse_recovery_code`]) and re-encrypts it under `new_pin` (fresh salt, sealed again
    /// for recovery). Returns the open store and its new key, like [`Store::unlock`]. Every
    /// record stays. A wrong code is [`StoreError::WrongPassphrase`], nothing changed.
    pub fn reset_passphrase(
        path: impl AsRef<Path>,
        recovered: &DatabaseKey,
        new_pin: &str,
    ) -> Result<(Store, DatabaseKey)> {
        let path = path.as_ref();
        let mut store = Store::open_with_key(path, recovered)?;
        let key = store.rekey(path, new_pin)?;
        store.write(|tx, actor| {
            audit::append(
                tx,
                actor,
                "store.passphrase_reset",
                "store",
                "-",
                serde_json::json!({}),
            )
        })?;
        Ok((store, key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TempStore;

    #[test]
    fn sealed_key_opens_only_with_the_private_key_and_follows_pin_changes() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("device.db");
        let pair = generate_recovery_keypair();
        let other = generate_recovery_keypair();
        {
            let (mut s, key) = Store::unlock(&db, "1234").unwrap();
            s.set_recovery_public_key(&pair.public, &key).unwrap();
            assert_eq!(s.recovery_public_key().unwrap(), Some(pair.public));
            s.change_passphrase("1234", "5678").unwrap();
        }
        // The old key no longer opens; the re-sealed one does.
        let key = open_recovery_file(&db, &pair.secret).unwrap();
        Store::open_with_key(&db, &key).unwrap();
        assert!(matches!(
            open_recovery_file(&db, &other.secret),
            Err(StoreError::Recovery { .. })
        ));
        // Recovery code round trip, reset to a new PIN; the code then stops working.
        let request = recovery_request(&db).unwrap().unwrap();
        assert!(recovery_code_from_request(&other.secret, &request).is_err());
        let code = recovery_code_from_request(&pair.secret, &request).unwrap();
        assert_eq!(code.len(), 64 + 15);
        let recovered = parse_recovery_code(&code.to_uppercase()).unwrap();
        let (_s, _k) = Store::reset_passphrase(&db, &recovered, "2468").unwrap();
        Store::open_encrypted(&db, "2468").unwrap();
        assert!(matches!(
            Store::reset_passphrase(&db, &recovered, "1111"),
            Err(StoreError::WrongPassphrase)
        ));
        // ... and the new key is sealed again.
        let key = open_recovery_file(&db, &pair.secret).unwrap();
        Store::open_with_key(&db, &key).unwrap();
        assert!(parse_recovery_code("12-zz").is_err());
    }

    #[test]
    fn plain_store_has_no_recovery_and_key_parsing_checks_lengths() {
        let t = TempStore::new();
        let mut s = t.open();
        let pair = generate_recovery_keypair();
        let key = parse_recovery_code(&"ab".repeat(32)).unwrap();
        assert!(s.set_recovery_public_key(&pair.public, &key).is_err());
        assert!(parse_public_key("AAAA").is_err());
        assert!(parse_secret_key("not base64!").is_err());
        assert_eq!(
            parse_public_key(&STANDARD.encode(pair.public)).unwrap(),
            pair.public
        );
    }
}
