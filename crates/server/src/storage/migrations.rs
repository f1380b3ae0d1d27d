//! Embedded schema migrations of both backends: numbered SQL files under
//! `crates/server/migrations/{sqlite,postgres}/`, applied in order, each in the same
//! transaction as its row in `schema_migrations`.
//!
//! A migration file is never edited after it has landed — servers have already applied it.
//! Every schema change is a new file `NNNN_name.sql` per backend plus one entry below.

/// One embedded migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Number of the file (`0001_init.sql` → 1); versions are consecutive from 1.
    pub version: u32,
    /// Name part of the file (`init`).
    pub name: &'static str,
    /// The SQL it runs.
    pub sql: &'static str,
}

/// SQLite migrations, oldest first.
pub const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../../migrations/sqlite/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "review_spot_checks_handover",
        sql: include_str!("../../migrations/sqlite/0002_review_spot_checks_handover.sql"),
    },
    Migration {
        version: 3,
        name: "ingest_rules",
        sql: include_str!("../../migrations/sqlite/0003_ingest_rules.sql"),
    },
    Migration {
        version: 4,
        name: "revocation",
        sql: include_str!("../../migrations/sqlite/0004_revocation.sql"),
    },
    Migration {
        version: 5,
        name: "withdrawals",
        sql: include_str!("../../migrations/sqlite/0005_withdrawals.sql"),
    },
    Migration {
        version: 6,
        name: "outside_sample",
        sql: include_str!("../../migrations/sqlite/0006_outside_sample.sql"),
    },
    Migration {
        version: 7,
        name: "catalogues",
        sql: include_str!("../../migrations/sqlite/0007_catalogues.sql"),
    },
    Migration {
        version: 8,
        name: "scopes",
        sql: include_str!("../../migrations/sqlite/0008_scopes.sql"),
    },
    Migration {
        version: 9,
        name: "round_targets",
        sql: include_str!("../../migrations/sqlite/0009_round_targets.sql"),
    },
    Migration {
        version: 10,
        name: "form_versions",
        sql: include_str!("../../migrations/sqlite/0010_form_versions.sql"),
    },
    Migration {
        version: 11,
        name: "answer_counts",
        sql: include_str!("../../migrations/sqlite/0011_answer_counts.sql"),
    },
    Migration {
        version: 12,
        name: "self_completion",
        sql: include_str!("../../migrations/sqlite/0012_self_completion.sql"),
    },
    Migration {
        version: 13,
        name: "shared_state",
        sql: include_str!("../../migrations/sqlite/0013_shared_state.sql"),
    },
    Migration {
        version: 17,
        name: "quarantine_mode",
        sql: include_str!("../../migrations/sqlite/0017_quarantine_mode.sql"),
    },
    Migration {
        version: 18,
        name: "unused_response_indexes",
        sql: include_str!("../../migrations/sqlite/0018_unused_response_indexes.sql"),
    },
    Migration {
        version: 19,
        name: "review_queue_order",
        sql: include_str!("../../migrations/sqlite/0019_review_queue_order.sql"),
    },
];

/// PostgreSQL migrations, oldest first.
pub const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "review_spot_checks_handover",
        sql: include_str!("../../migrations/postgres/0002_review_spot_checks_handover.sql"),
    },
    Migration {
        version: 3,
        name: "ingest_rules",
        sql: include_str!("../../migrations/postgres/0003_ingest_rules.sql"),
    },
    Migration {
        version: 4,
        name: "revocation",
        sql: include_str!("../../migrations/postgres/0004_revocation.sql"),
    },
    Migration {
        version: 5,
        name: "withdrawals",
        sql: include_str!("../../migrations/postgres/0005_withdrawals.sql"),
    },
    Migration {
        version: 6,
        name: "outside_sample",
        sql: include_str!("../../migrations/postgres/0006_outside_sample.sql"),
    },
    Migration {
        version: 7,
        name: "catalogues",
        sql: include_str!("../../migrations/postgres/0007_catalogues.sql"),
    },
    Migration {
        version: 8,
        name: "scopes",
        sql: include_str!("../../migrations/postgres/0008_scopes.sql"),
    },
    Migration {
        version: 9,
        name: "round_targets",
        sql: include_str!("../../migrations/postgres/0009_round_targets.sql"),
    },
    Migration {
        version: 10,
        name: "form_versions",
        sql: include_str!("../../migrations/postgres/0010_form_versions.sql"),
    },
    Migration {
        version: 11,
        name: "answer_counts",
        sql: include_str!("../../migrations/postgres/0011_answer_counts.sql"),
    },
    Migration {
        version: 12,
        name: "self_completion",
        sql: include_str!("../../migrations/postgres/0012_self_completion.sql"),
    },
    Migration {
        version: 13,
        name: "shared_state",
        sql: include_str!("../../migrations/postgres/0013_shared_state.sql"),
    },
    Migration {
        version: 17,
        name: "quarantine_mode",
        sql: include_str!("../../migrations/postgres/0017_quarantine_mode.sql"),
    },
    Migration {
        version: 18,
        name: "unused_response_indexes",
        sql: include_str!("../../migrations/postgres/0018_unused_response_indexes.sql"),
    },
    Migration {
        version: 19,
        name: "review_queue_order",
        sql: include_str!("../../migrations/postgres/0019_review_queue_order.sql"),
    },
];

/// Creates the migration bookkeeping table of a SQLite database (run before reading it).
pub(crate) const SQLITE_BOOTSTRAP: &str = "
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY NOT NULL,  -- number of the migration file (0001 -> 1)
    name       TEXT NOT NULL,                 -- name part of the file, e.g. 'init'
    applied_at TEXT NOT NULL                  -- when it was applied (RFC 3339 UTC)
) STRICT;";

/// Creates the migration bookkeeping table of a PostgreSQL database (run before reading it).
pub(crate) const POSTGRES_BOOTSTRAP: &str = "
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,           -- number of the migration file (0001 -> 1)
    name       TEXT NOT NULL,                 -- name part of the file, e.g. 'init'
    applied_at TIMESTAMPTZ NOT NULL           -- when it was applied
);";

/// The schema version a list of migrations creates.
pub fn latest_version(migrations: &[Migration]) -> u32 {
    migrations.last().map_or(0, |m| m.version)
}

/// Error text for a database whose schema is newer than this build understands.
pub(crate) fn newer_schema(found: u32, supported: u32) -> String {
    format!(
        "database schema version {found} is newer than this server supports ({supported}); \
         upgrade the server"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn versions_increase_from_one_and_are_named_in_the_file() {
        // Increasing, not necessarily consecutive: a number reserved for another branch
        // (docs/design/province-scale-self.md section 1) may be missing until it is merged.
        for list in [SQLITE, POSTGRES] {
            assert_eq!(list.first().map(|m| m.version), Some(1));
            for pair in list.windows(2) {
                assert!(
                    pair[0].version < pair[1].version,
                    "migration {} out of order",
                    pair[1].name
                );
            }
            for m in list {
                assert!(
                    m.sql
                        .starts_with(&format!("-- {:04}_{}", m.version, m.name))
                );
            }
        }
        assert_eq!(latest_version(SQLITE), latest_version(POSTGRES));
    }

    /// Landed migrations must never change: a server that already applied the old text
    /// would silently differ from a fresh install. If this fails, revert your edit and put
    /// the change in a new migration file.
    #[test]
    fn landed_migrations_are_frozen() {
        const FROZEN: &[(&str, u32, &str)] = &[
            (
                "sqlite",
                1,
                "7889f45c73c74a531ecd85e39e55b65b9ef46108f02eb312fe9c4b784dbb55d9",
            ),
            (
                "postgres",
                1,
                "317d9392454cc1daadea7a3e7de536fa7d52748689360a93ce5a9dc07511b55b",
            ),
            (
                "sqlite",
                2,
                "2817acb64562be1dd2e5f90b8d7d3091ba9d19cee2275ead5bb135a678e39144",
            ),
            (
                "postgres",
                2,
                "97f392938eace64b47629744919ae5373c76d2c44c8ef7b3fbc80a4db5f19dfa",
            ),
            (
                "sqlite",
                3,
                "5181fae9f8e7a124332a7af1e051ccd29d82e349bf92b3a7aa53b2937442790a",
            ),
            (
                "postgres",
                3,
                "0cef3fa916d90bea752309b967c8dda27fdc389bbc9f2173106ef835fd1d7358",
            ),
            (
                "sqlite",
                4,
                "e0550c9c8cc977ba9be06bf7fb0334e130a029f58da83ce53325c704fd75275c",
            ),
            (
                "postgres",
                4,
                "b5a85f9940aaeef8667723edec32132e502bb2f95752132e053b767a3bfc8985",
            ),
            (
                "sqlite",
                5,
                "e42045338de76d3ac8cf8591e303ca8a4d706aea893a29c589ba36dd2d6b0826",
            ),
            (
                "postgres",
                5,
                "fe8cc66163a6b5f0d423853255f935c2bffe45cfa25658b29a6ce962befd7404",
            ),
            // 0007_catalogues (issue 10, h-cat).
            (
                "sqlite",
                7,
                "8e18c9b8cd5f81f5cfc37d6ad9861adce2b367faa5089bfed6d932a71732ab1c",
            ),
            (
                "postgres",
                7,
                "c932f10f8aad560d7245aeec9498e1cf9f260b0319119986f7c10190e61ab8ca",
            ),
            // 0008_scopes (issue 10, h-scope).
            (
                "sqlite",
                8,
                "3fb9acdc1bcaddd766a9330eb68f74ffac5092a72d206b27f83e5b023d55ff5f",
            ),
            (
                "postgres",
                8,
                "de7b7d1b4888a0108a83dafc327eca976fd55c3c3d274504979b245994527469",
            ),
            // 0009_round_targets (issue 11, h-results).
            (
                "sqlite",
                9,
                "8a5a2856e2f08ff86c24cba658a241a14637ff02db31a0447093bc93c0fc0cc5",
            ),
            (
                "postgres",
                9,
                "c31de48d2d2118b37c5c60b40c5fe7d57e3f18b8b7d8a5fdaae4474faff96e35",
            ),
            // 0010_form_versions (issue 12, h-formpub).
            (
                "sqlite",
                10,
                "15095945decf74c858f79c5a423ed2fc36d985526bb7401d99714b06e67f1a4c",
            ),
            (
                "postgres",
                10,
                "7b8da300d2bf1ca95e32ac15f761c153e738cf874ca1fe8aabf83ae62ce9db71",
            ),
            // 0011_answer_counts (issue 14, h-scale).
            (
                "sqlite",
                11,
                "47537d6e36651aa858b52f75cd599bad6e1679bafd1d0a08c48a867d38664a88",
            ),
            (
                "postgres",
                11,
                "db6218d44c159dfaa56b7ec43daa970cba39466fd0a14ef078a3f3b65932aaaf",
            ),
            // 0012_self_completion (issue 15, h-self).
            (
                "sqlite",
                12,
                "2814b51cc35134085f441b4b398c4c04fb06f4112211afe68b8c58f8c34d3796",
            ),
            (
                "postgres",
                12,
                "97e870e446f9f4abcc661bec459d95fd1058beda6ef8f60ee1daeddfd30110ea",
            ),
            // 0013_shared_state (issue 14, h-multi).
            (
                "sqlite",
                13,
                "026ef20546d4d56413c65e138fd5dd124667669c756a95a8212ea33fa9b5804b",
            ),
            (
                "postgres",
                13,
                "f16634d3519034248123bafd0d4c19c0c02ddea73c8514fabe5f2db692eda472",
            ),
            // 0017_quarantine_mode (issue 15 follow-up, lead; 0014-0016 reserved for helpers).
            (
                "sqlite",
                17,
                "8885e3a635852d356a093888be979bd9d69afaeb6e6b97df877cdd0fe59a2f9a",
            ),
            (
                "postgres",
                17,
                "8885e3a635852d356a093888be979bd9d69afaeb6e6b97df877cdd0fe59a2f9a",
            ),
            // 0018_unused_response_indexes (issue 14, ingest speed).
            (
                "sqlite",
                18,
                "0bb306873f5d0a96ba898cef403c6bdf4c5235fb4583df7ae7ff2399e091a260",
            ),
            (
                "postgres",
                18,
                "0bb306873f5d0a96ba898cef403c6bdf4c5235fb4583df7ae7ff2399e091a260",
            ),
            // 0019_review_queue_order (issue 14, review queue paged).
            (
                "sqlite",
                19,
                "8291ad2f5d86395b64faad8d12b9baed2854f325be72e72020bdd7137baff37f",
            ),
            (
                "postgres",
                19,
                "8291ad2f5d86395b64faad8d12b9baed2854f325be72e72020bdd7137baff37f",
            ),
        ];
        for (backend, version, hash) in FROZEN {
            let list = if *backend == "sqlite" {
                SQLITE
            } else {
                POSTGRES
            };
            let m = list
                .iter()
                .find(|m| m.version == *version)
                .expect("a frozen migration is listed");
            let actual = hex::encode(Sha256::digest(m.sql.as_bytes()));
            assert_eq!(
                &actual, hash,
                "{backend} migration {:04}_{} was edited",
                m.version, m.name
            );
        }
    }
}
