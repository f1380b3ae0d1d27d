//! Checkpoints of the write-ahead log on a thread and connection of their own (issue 14).
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its threshold (1,000
//! pages), on the writer connection: that commit copies the log into the database file and
//! waits for the file's `fsync` while the writer mutex is held, so every upload waiting
//! for the writer waits for it too. The writer connection therefore has the automatic
//! checkpoint off (`wal_autocheckpoint = 0`) and nudges this thread after each commit; the
//! thread runs a `PASSIVE` checkpoint, which never blocks the writer or the readers (it copies
//! what no reader still needs and leaves the rest for the next one). Durability is the
//! writer's: a commit is in the log, synced, before it returns; the checkpoint only moves it.
use super::configure;
use crate::storage::StoreError;
use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

/// Shortest time between two checkpoints: commits made meanwhile are taken by the next one,
/// so a busy server syncs the database file at most this often for checkpoints.
const PAUSE: Duration = Duration::from_millis(100);

/// The handle the store keeps: dropping it (with the store) ends the thread, whose
/// connection closes last and so checkpoints whatever is left.
pub(super) struct Checkpointer {
    wake: SyncSender<()>,
}

impl Checkpointer {
    /// Opens a connection to `path` and starts the thread.
    pub(super) fn start(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        configure(&conn)?;
        // The checkpoint syncs the database file under this connection's setting.
        conn.pragma_update(None, "synchronous", "FULL")?;
        let (wake, nudges) = sync_channel(1);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&conn, &nudges))
            .map_err(|e| StoreError::Backend(format!("starting the checkpoint thread: {e}")))?;
        Ok(Checkpointer { wake })
    }

    /// Asks for a checkpoint soon (after a commit). Never blocks: one pending nudge is enough.
    pub(super) fn nudge(&self) {
        match self.wake.try_send(()) {
            Ok(()) | Err(TrySendError::Full(())) | Err(TrySendError::Disconnected(())) => {}
        }
    }
}

/// Checkpoints once per nudge, at most once per [`PAUSE`], until the store is dropped.
fn run(conn: &Connection, nudges: &Receiver<()>) {
    while nudges.recv().is_ok() {
        if let Err(e) = checkpoint(conn) {
            // Nothing is lost: the log keeps the commits and the next nudge tries again.
            tracing::warn!(error = %e, "WAL checkpoint failed; the next commit retries it");
        }
        std::thread::sleep(PAUSE);
    }
}

/// One `PASSIVE` checkpoint; returns (frames in the log, frames copied).
pub(super) fn checkpoint(conn: &Connection) -> Result<(i64, i64), StoreError> {
    Ok(conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    })?)
}
