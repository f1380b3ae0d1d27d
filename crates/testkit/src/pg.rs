//! The PostgreSQL helper of every test: the admin URL from `$SIPAS_TEST_DATABASE_URL`
//! (e.g. `postgres://sipas:sipas@127.0.0.1:5432/postgres`, printed by
//! `scripts/start-postgres.sh`), a fresh database per test ([`TestDatabase`]) dropped
//! afterwards, and [`with_pg`] to run queries on it from sync or async code. Without the
//! variable PostgreSQL tests are skipped with a message, or fail when `$CI` or
//! `$SIPAS_REQUIRE_POSTGRES` is set.

/// The PostgreSQL admin URL for tests, or `None` (after a message) when PostgreSQL tests
/// should be skipped. Panics when `$CI` (or `$SIPAS_REQUIRE_POSTGRES`) is set and the URL is
/// missing.
pub fn pg_admin_url() -> Option<String> {
    match std::env::var("SIPAS_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some()
            || std::env::var_os("SIPAS_REQUIRE_POSTGRES").is_some() =>
        {
            panic!(
                "SIPAS_TEST_DATABASE_URL must be set in CI or with SIPAS_REQUIRE_POSTGRES \
                 (see scripts/start-postgres.sh)"
            )
        }
        _ => {
            eprintln!(
                "SKIPPED: PostgreSQL test; set SIPAS_TEST_DATABASE_URL \
                 (bash scripts/start-postgres.sh prints it) to run it"
            );
            None
        }
    }
}

/// `url` with its database name replaced by `db` (keeps any `?query`).
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Runs `f` with a PostgreSQL client on its own thread and runtime (callable from sync code
/// and from inside a Tokio runtime alike).
pub fn with_pg<T: Send + 'static>(
    url: &str,
    f: impl FnOnce(tokio_postgres::Client) -> std::pin::Pin<Box<dyn Future<Output = T> + Send>>
    + Send
    + 'static,
) -> T {
    let url = url.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        rt.block_on(async move {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("connecting to PostgreSQL for tests: {e}"));
            let task = tokio::spawn(conn);
            let out = f(client).await;
            task.abort();
            out
        })
    })
    .join()
    .expect("PostgreSQL helper thread")
}

/// A fresh, empty PostgreSQL database, created through the admin URL and dropped (with any
/// connections still open to it) when this value is dropped, also when the test panics.
#[derive(Debug)]
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates a database named `sipas_test_<uuid>`; `None` (after a message) when
    /// PostgreSQL tests are skipped (see [`pg_admin_url`]).
    pub fn create() -> Option<TestDatabase> {
        let admin_url = pg_admin_url()?;
        let name = format!("sipas_test_{}", uuid::Uuid::now_v7().simple());
        let sql = format!("CREATE DATABASE {name}");
        with_pg(&admin_url, move |c| {
            Box::pin(async move {
                c.batch_execute(&sql)
                    .await
                    .unwrap_or_else(|e| panic!("creating the test database: {e}"))
            })
        });
        let url = with_database(&admin_url, &name);
        Some(TestDatabase {
            admin_url,
            name,
            url,
        })
    }

    /// The URL of this database (the admin URL with its database name replaced).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let url = self.admin_url.clone();
        // Best effort: a leftover test database is harmless.
        let _ = std::panic::catch_unwind(move || {
            with_pg(&url, move |c| {
                Box::pin(async move {
                    let _ = c.batch_execute(&sql).await;
                })
            })
        });
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://u:p@127.0.0.1:5432/postgres", "t1"),
            "postgres://u:p@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/postgres?sslmode=disable", "t1"),
            "postgres://u:p@h/t1?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "t1"), "postgres://h/t1");
        assert_eq!(
            with_database("postgresql://u@h/db?sslmode=disable", "x"),
            "postgresql://u@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h:5432", "x"),
            "postgres://u@h:5432/x"
        );
    }
}
