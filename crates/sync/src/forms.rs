//! Published questionnaires and catalogue options for the device (issue 12).
//!
//! After a pull, [`fetch_forms`] downloads every `(form_id, version)` the stored assignments
//! and outside-sample rounds use that the store lacks (`GET /forms/{form_id}/{version}`),
//! and the store keeps it only if its canonical JSON hashes to the `content_hash` the server
//! gave ([`Store::save_form`]); a mismatch is refused, the other forms are still fetched,
//! and the first refusal is returned as [`SyncError::Store`] with
//! [`StoreError::FormHashMismatch`] (the sync log then shows it). Then the catalogue bundle
//! of each round (`GET /rounds/{id}/catalogue-bundle`) replaces the round's stored options.
//! A version or bundle the server does not have (`404.1`, or `403.1` from an older server)
//! is skipped: the app falls back to its built-in forms.
use crate::client::ApiClient;
use crate::error::SyncError;
use serde::{Deserialize, Serialize};
use sipas_core::questionnaire::FormKey;
use sipas_store::{CatalogueOption, Store, StoreError};
use std::collections::{BTreeMap, BTreeSet};

/// What [`fetch_forms`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FormsReport {
    /// Versions downloaded and stored.
    pub fetched: usize,
    /// Versions refused (content hash mismatch).
    pub refused: usize,
    /// Versions the server does not have (skipped).
    pub missing: usize,
    /// Rounds whose catalogue options were refreshed.
    pub bundles: usize,
}

/// The server's `GET /forms/{form_id}/{version}` answer (the fields the device reads).
#[derive(Debug, Clone, Deserialize)]
pub struct FormDetail {
    /// Form id.
    pub form_id: String,
    /// Version.
    pub version: String,
    /// `published` or `retired`.
    pub status: String,
    /// Hex SHA-256 of the canonical JSON of `definition`.
    pub content_hash: String,
    /// The definition.
    pub definition: serde_json::Value,
}

fn skippable(e: &SyncError) -> bool {
    // A problem body, or a bare status from a server (or proxy) that sends none.
    matches!(e, SyncError::HttpStatus { status: 403 | 404 })
        || e.problem()
            .is_some_and(|p| p.status() == 404 || p.status() == 403)
}

/// The forms and rounds the stored assignments and outside-sample rounds use.
pub fn needed(store: &Store) -> Result<(BTreeSet<FormKey>, BTreeSet<String>), StoreError> {
    let mut forms = BTreeSet::new();
    let mut rounds = BTreeSet::new();
    let withdrawn = store.withdrawn_assignments()?;
    for a in store.list_assignments()? {
        if withdrawn.contains(&a.id) {
            continue;
        }
        forms.insert(a.form.clone());
        rounds.insert(a.round_id.clone());
    }
    for r in crate::pull::field_rounds(store)? {
        forms.insert(r.round.form.clone());
        rounds.insert(r.round.id.clone());
    }
    Ok((forms, rounds))
}

/// Downloads missing forms and refreshes catalogue bundles (see the module notes).
pub async fn fetch_forms(client: &ApiClient, store: &mut Store) -> Result<FormsReport, SyncError> {
    let mut report = FormsReport::default();
    let (forms, rounds) = needed(store)?;
    let mut refusal: Option<StoreError> = None;
    for key in forms {
        if store.form(&key.form_id, &key.version)?.is_some() {
            continue;
        }
        let path = format!("/forms/{}/{}", key.form_id, key.version);
        let detail: FormDetail = match client.get_json(&path).await {
            Ok(d) => d,
            Err(e) if skippable(&e) => {
                report.missing += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        if detail.form_id != key.form_id || detail.version != key.version {
            return Err(SyncError::BadReply {
                detail: format!(
                    "asked for form {key}, got {}@{}",
                    detail.form_id, detail.version
                ),
            });
        }
        match store.save_form(
            &detail.form_id,
            &detail.version,
            &detail.content_hash,
            &detail.definition,
            &detail.status,
        ) {
            Ok(_) => report.fetched += 1,
            Err(e @ StoreError::FormHashMismatch { .. }) => {
                report.refused += 1;
                refusal.get_or_insert(e);
            }
            Err(e) => return Err(e.into()),
        }
    }
    for round in rounds {
        let path = format!("/rounds/{round}/catalogue-bundle");
        match client
            .get_json::<BTreeMap<String, Vec<CatalogueOption>>>(&path)
            .await
        {
            Ok(bundle) => {
                store.replace_catalogue_options(&round, &bundle)?;
                report.bundles += 1;
            }
            Err(e) if skippable(&e) => {}
            Err(e) => return Err(e),
        }
    }
    match refusal {
        Some(e) => Err(e.into()),
        None => Ok(report),
    }
}
