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
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Shortest time between two checkpoints: commits made meanwhile are taken by the next one,
/// so a busy server syncs the database file at most this often for checkpoints.
const PAUSE: Duration = Duration::from_millis(100);

/// The handle the store keeps. Dropping it (with the store, after the writer and readers)
/// ends the thread and waits for it: its connection is the last one to close, so SQLite
/// checkpoints what is left and removes the log, and a cleanly stopped server leaves one
/// database file, as it did before this thread.
pub(super) struct Checkpointer {
    wake: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.wake.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::warn!("the WAL checkpoint thread panicked");
        }
    }
}

impl Checkpointer {
    /// Opens a connection to `path` and starts the thread.
    pub(super) fn start(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        configure(&conn)?;
        // The checkpoint syncs the database file under this connection's setting.
        conn.pragma_update(None, "synchronous", "FULL")?;
        let (wake, nudges) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(conn, &nudges))
            .map_err(|e| StoreError::Backend(format!("starting the checkpoint thread: {e}")))?;
        Ok(Checkpointer {
            wake: Some(wake),
            thread: Some(thread),
        })
    }

    /// Asks for a checkpoint soon (after a commit). Never blocks: one pending nudge is enough.
    pub(super) fn nudge(&self) {
        if let Some(wake) = &self.wake {
            // Full: a checkpoint is already asked for; disconnected: the thread is gone.
            let _ = wake.try_send(());
        }
    }
}

/// Checkpoints once per nudge, at most once per [`PAUSE`], until the store is dropped; then
/// closes its connection.
fn run(conn: Connection, nudges: &Receiver<()>) {
    let mut pending = false;
    loop {
        if !pending && nudges.recv().is_err() {
            break;
        }
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            // Nothing is lost: the log keeps the commits and the next nudge tries again.
            tracing::warn!(error = %e, "WAL checkpoint failed; the next commit retries it");
        }
        // Rest, remembering a nudge that comes meanwhile; stop at once when the store goes.
        pending = false;
        let rest_until = Instant::now() + PAUSE;
        loop {
            let left = rest_until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match nudges.recv_timeout(left) {
                Ok(()) => pending = true,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}
