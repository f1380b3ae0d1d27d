//! Rounds that take interviews outside the sample, as the last pull gave them: the app
//! offers free interviews only for these, with their units by name. The store keeps each
//! round as the server's JSON (the sync crate reads it as `sipas_protocol::wire::FieldRound`).
use crate::audit;
use crate::codec;
use crate::error::Result;
use crate::store::Store;
use rusqlite::params;

impl Store {
    /// Replaces the stored rounds with `rounds` (round id, round JSON) in one transaction.
    pub fn replace_field_rounds(&mut self, rounds: &[(String, String)]) -> Result<()> {
        self.write(|tx, actor| {
            tx.execute("DELETE FROM field_rounds", [])?;
            let now = codec::ts(&codec::now());
            let mut stmt = tx.prepare(
                "INSERT INTO field_rounds (round_id, round_json, updated_at) VALUES (?1, ?2, ?3)",
            )?;
            for (id, json) in rounds {
                stmt.execute(params![id, json, now])?;
            }
            audit::append(
                tx,
                actor,
                "field_rounds.replace",
                "field_rounds",
                "",
                serde_json::json!({ "rounds": rounds.iter().map(|(id, _)| id).collect::<Vec<_>>() }),
            )
        })
    }

    /// The stored rounds' JSON, by round id.
    pub fn field_rounds_json(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT round_json FROM field_rounds ORDER BY round_id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::TempStore;

    #[test]
    fn a_pull_replaces_the_stored_rounds() {
        let t = TempStore::new();
        let mut store = t.open();
        store
            .replace_field_rounds(&[("A".into(), "{\"id\":\"A\"}".into())])
            .unwrap();
        store
            .replace_field_rounds(&[("B".into(), "{\"id\":\"B\"}".into())])
            .unwrap();
        assert_eq!(store.field_rounds_json().unwrap(), ["{\"id\":\"B\"}"]);
        drop(store);
        assert_eq!(t.open().field_rounds_json().unwrap().len(), 1);
    }
}
