//! An empty database of either backend for tests that open the server's store in-process
//! (`sipas_server::storage::open_store`), and [`on_both_backends!`](crate::on_both_backends)
//! to run one test on both.

use crate::pg::TestDatabase;
use crate::server::Backend;
use std::path::PathBuf;
use tempfile::TempDir;

/// A new, empty database: a SQLite file in a temporary directory, or a fresh PostgreSQL
/// database ([`TestDatabase`]); removed (dropped) with this value.
pub struct EmptyDatabase {
    place: Place,
}

enum Place {
    Sqlite { _dir: TempDir, path: PathBuf },
    Postgres(TestDatabase),
}

impl EmptyDatabase {
    /// Creates one for `backend`; `None` (after a message) when PostgreSQL tests are skipped
    /// (see [`crate::pg::pg_admin_url`]).
    pub fn create(backend: Backend) -> Option<EmptyDatabase> {
        let place = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("server.db");
                Place::Sqlite { _dir: dir, path }
            }
            Backend::Postgres => Place::Postgres(TestDatabase::create()?),
        };
        Some(EmptyDatabase { place })
    }

    /// Its backend.
    pub fn backend(&self) -> Backend {
        match self.place {
            Place::Sqlite { .. } => Backend::Sqlite,
            Place::Postgres(_) => Backend::Postgres,
        }
    }

    /// What `open_store` and the server's `--database` take: the SQLite file's path or the
    /// PostgreSQL URL.
    pub fn target(&self) -> String {
        match &self.place {
            Place::Sqlite { path, .. } => path.to_str().expect("utf-8 temp path").to_owned(),
            Place::Postgres(db) => db.url().to_owned(),
        }
    }
}

/// Turns each `async fn name(backend: Backend)` into two `#[tokio::test]`s, one per
/// backend, named explicitly:
///
/// ```ignore
/// sipas_testkit::on_both_backends! {
///     login_works: login_works_on_sqlite, login_works_on_postgres;
/// }
/// ```
///
/// The test function decides what to do when the backend is unavailable (usually: return
/// when [`EmptyDatabase::create`] gives `None`). The calling crate needs `tokio` with its
/// `macros` and `rt` features.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident: $sqlite:ident, $postgres:ident;)*) => {$(
        #[tokio::test]
        async fn $sqlite() {
            $name($crate::server::Backend::Sqlite).await;
        }

        #[tokio::test]
        async fn $postgres() {
            $name($crate::server::Backend::Postgres).await;
        }
    )*};
}
