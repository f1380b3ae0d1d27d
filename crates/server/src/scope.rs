//! Scope and tenancy (issue 10): the one place that decides what a user may see and change.
//!
//! A scope is a list of units and a list of agencies ([`ScopeCodes`]):
//! * a unit is in scope when it or one of its ancestors (in the unit tree valid on the
//!   relevant date: a round's `starts_on`, or today) is listed; no units listed means the
//!   whole server (the bootstrap admin, users from before scopes);
//! * a non-empty agency list further restricts to assignments of those agencies;
//! * a round is visible when one of its covered units overlaps the scope (one is the other
//!   or an ancestor of it); a round covering no unit is visible to whole-server users only;
//! * a user (surveyor, monitor, …) is in a caller's scope when every unit of the user's scope
//!   is in the caller's scope (and, if the caller has agencies, the user's agencies are a
//!   non-empty subset of them); a whole-server user is in no scoped caller's scope.
//!
//! Storage backends only supply the data; every filtering decision is made here.
use crate::app::AppState;
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult};
use crate::storage::{AssignmentRow, ScopeCodes};
use chrono::NaiveDate;
use serde::Serialize;
use sipas_core::response::Response;
use sipas_core::units::UnitTree;
use sipas_protocol::problem::ProblemCode;
use sipas_protocol::wire::UserInfo;
use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};
use uuid::Uuid;

/// The demonstration seed of administrative units (until the catalogue is loaded).
const SEED_UNITS: &str = include_str!("../../../schemas/units/vn-units-seed.json");

fn seed_tree() -> Arc<UnitTree> {
    static TREE: OnceLock<Arc<UnitTree>> = OnceLock::new();
    TREE.get_or_init(|| {
        // The seed is embedded and checked by the tests below: it always loads.
        Arc::new(UnitTree::from_json(SEED_UNITS).expect("the embedded unit seed is valid"))
    })
    .clone()
}

/// How long a loaded unit tree is reused at most before the catalogue is read again (a
/// fallback for changes made outside the server; imports bump the version counter).
pub const TREE_TTL: std::time::Duration = std::time::Duration::from_secs(10);

/// The unit tree every scope decision uses: the one place that says which tree. It is the
/// unit catalogue's tree (every validity period), reused while the `units` version counter
/// is the one it was loaded at (see [`crate::shared_state`]: an import through any process
/// on the database is seen at the next request) and for at most [`TREE_TTL`]; the embedded
/// seed while the catalogue is empty.
pub async fn unit_tree(state: &AppState) -> ApiResult<Arc<UnitTree>> {
    let now = std::time::Instant::now();
    // Read before loading: a tree loaded now is at least as new as this number.
    let version = state
        .units_version
        .load(std::sync::atomic::Ordering::SeqCst);
    if let Some((at, loaded_at, tree)) = state
        .unit_tree_cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_ref()
        && *loaded_at >= version
        && now.duration_since(*at) < TREE_TTL
    {
        return Ok(tree.clone());
    }
    let loaded = state.store.unit_tree().await?;
    let tree = if loaded.units().is_empty() {
        seed_tree()
    } else {
        Arc::new(loaded)
    };
    *state
        .unit_tree_cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((now, version, tree.clone()));
    Ok(tree)
}

/// Agency names by code (the agency catalogue).
pub async fn agency_names(
    state: &AppState,
) -> ApiResult<std::collections::BTreeMap<String, String>> {
    Ok(state
        .store
        .agencies()
        .await?
        .into_iter()
        .map(|a| (a.code, a.name))
        .collect())
}

/// A caller's scope with the tree to read it against.
#[derive(Clone)]
pub struct Scope {
    /// The codes.
    pub codes: ScopeCodes,
    /// The unit tree.
    pub tree: Arc<UnitTree>,
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope").field("codes", &self.codes).finish()
    }
}

/// The scope of the calling user.
pub async fn of(state: &AppState, caller: &Caller) -> ApiResult<Scope> {
    Ok(Scope {
        codes: state.store.user_scope(caller.user.id).await?,
        tree: unit_tree(state).await?,
    })
}

/// Whether `unit` is `ancestor` or lies below it in `tree` on `on`.
pub fn within(tree: &UnitTree, unit: &str, ancestor: &str, on: NaiveDate) -> bool {
    unit == ancestor || tree.ancestors(unit, on).iter().any(|a| a.code == ancestor)
}

impl Scope {
    /// Whether the scope is the whole server (no units listed).
    pub fn is_whole(&self) -> bool {
        self.codes.units.is_empty()
    }

    /// Whether `unit` is in scope on `on`.
    pub fn unit(&self, unit: &str, on: NaiveDate) -> bool {
        self.is_whole()
            || self
                .codes
                .units
                .iter()
                .any(|s| within(&self.tree, unit, s, on))
    }

    /// Whether an assignment of `agency_code` is admitted by the agency restriction.
    pub fn agency(&self, agency_code: Option<&str>) -> bool {
        self.codes.agencies.is_empty()
            || agency_code.is_some_and(|a| self.codes.agencies.iter().any(|s| s == a))
    }

    /// Whether an assignment (unit, agency) is in scope on `on`.
    pub fn assignment(&self, unit: &str, agency_code: Option<&str>, on: NaiveDate) -> bool {
        self.unit(unit, on) && self.agency(agency_code)
    }

    /// Whether an assignment row is in scope on `on`.
    pub fn row(&self, row: &AssignmentRow, on: NaiveDate) -> bool {
        self.assignment(&row.unit_code, row.agency_code.as_deref(), on)
    }

    /// Whether an assignment row is in scope on `on` and inside the caller's own narrowing:
    /// the subtree of `unit` and the agency `agency`, each when given (the filters of the
    /// assignment list, bulk assignment and progress).
    pub fn row_matches(
        &self,
        row: &AssignmentRow,
        on: NaiveDate,
        unit: Option<&str>,
        agency: Option<&str>,
    ) -> bool {
        self.row(row, on)
            && unit.is_none_or(|u| within(&self.tree, &row.unit_code, u, on))
            && agency.is_none_or(|a| row.agency_code.as_deref() == Some(a))
    }

    /// Whether a round covering `round_units` (tree of `on`) is visible.
    pub fn round(&self, round_units: &[String], on: NaiveDate) -> bool {
        if self.is_whole() {
            return true;
        }
        round_units.iter().any(|r| {
            self.codes
                .units
                .iter()
                .any(|s| within(&self.tree, r, s, on) || within(&self.tree, s, r, on))
        })
    }

    /// Whether a user with scope `other` is inside this scope on `on` (see the module notes).
    pub fn contains(&self, other: &ScopeCodes, on: NaiveDate) -> bool {
        if self.is_whole() {
            return true;
        }
        if other.units.is_empty() {
            return false;
        }
        let units_ok = other.units.iter().all(|u| self.unit(u, on));
        let agencies_ok = self.codes.agencies.is_empty()
            || (!other.agencies.is_empty()
                && other
                    .agencies
                    .iter()
                    .all(|a| self.codes.agencies.contains(a)));
        units_ok && agencies_ok
    }

    /// The units of `candidates` that are in scope on `on`.
    pub fn units_in<'a>(
        &self,
        candidates: impl IntoIterator<Item = &'a str>,
        on: NaiveDate,
    ) -> BTreeSet<String> {
        candidates
            .into_iter()
            .filter(|u| self.unit(u, on))
            .map(str::to_owned)
            .collect()
    }
}

/// Today's date on the server's clock (the tree date for things without a round).
pub fn today(state: &AppState) -> NaiveDate {
    state.clock.now().date_naive()
}

impl Scope {
    /// The user `id` if it exists and is in this scope (or is the caller's own `self_id`);
    /// `404.1` otherwise, so existence does not leak.
    pub async fn visible_user(
        &self,
        state: &AppState,
        id: Uuid,
        self_id: Uuid,
    ) -> ApiResult<UserInfo> {
        let user = state
            .store
            .user_by_id(id)
            .await?
            .ok_or_else(|| hidden("user", &id.to_string()))?;
        if id == self_id || self.is_whole() {
            return Ok(user);
        }
        let theirs = state.store.user_scope(id).await?;
        if self.contains(&theirs, today(state)) {
            Ok(user)
        } else {
            Err(hidden("user", &id.to_string()))
        }
    }

    /// Ids of the users in this scope (every user for a whole-server scope), plus `self_id`.
    pub async fn visible_user_ids(
        &self,
        state: &AppState,
        self_id: Uuid,
    ) -> ApiResult<BTreeSet<Uuid>> {
        let on = today(state);
        let mut ids: BTreeSet<Uuid> = state
            .store
            .user_records(None)
            .await?
            .into_iter()
            .filter(|r| self.contains(&r.scope, on))
            .map(|r| r.user.id)
            .collect();
        ids.insert(self_id);
        Ok(ids)
    }
}

/// The scope applied to the data of one round: which responses, queue items, quarantine
/// entries and tasks (by unit and assignment) the caller may see.
#[derive(Debug, Clone)]
pub struct RoundFilter {
    scope: Scope,
    on: NaiveDate,
    /// The round's assignments whose agency the scope admits (only loaded when the scope
    /// restricts agencies): its memory follows the scope, not the round (issue 14).
    admitted: Option<std::collections::HashSet<Uuid>>,
}

impl RoundFilter {
    /// The filter of `scope` for round `round_id` starting `starts_on`.
    pub async fn new(
        state: &AppState,
        scope: &Scope,
        round_id: &str,
        starts_on: NaiveDate,
    ) -> ApiResult<RoundFilter> {
        let admitted = if scope.codes.agencies.is_empty() {
            None
        } else {
            let mut admitted = std::collections::HashSet::new();
            crate::storage::each_assignment_row(&*state.store, round_id, |r| {
                if scope.agency(r.agency_code.as_deref()) {
                    admitted.insert(r.id);
                }
            })
            .await?;
            Some(admitted)
        };
        Ok(RoundFilter {
            scope: scope.clone(),
            on: starts_on,
            admitted,
        })
    }

    /// Whether data of `unit` (and of `assignment`, for the agency restriction) is in scope.
    pub fn admits(&self, unit: &str, assignment: Option<Uuid>) -> bool {
        if self.scope.is_whole() && self.admitted.is_none() {
            return true;
        }
        if !self.scope.unit(unit, self.on) {
            return false;
        }
        match &self.admitted {
            None => true,
            // A restricted scope admits no data without an assignment of an admitted agency
            // (`Scope::agency(None)` is false once agencies are listed).
            Some(admitted) => assignment.is_some_and(|a| admitted.contains(&a)),
        }
    }

    /// Whether data of `unit` with an assignment of agency `agency` is in scope (the same
    /// decision as [`RoundFilter::admits`], from the codes: the index from counts).
    pub fn admits_codes(&self, unit: &str, agency: Option<&str>) -> bool {
        self.scope.unit(unit, self.on) && self.scope.agency(agency)
    }

    /// A filter for [`RoundFilter::admits_codes`] only (no assignment is read).
    pub fn for_codes(scope: &Scope, starts_on: NaiveDate) -> RoundFilter {
        RoundFilter {
            scope: scope.clone(),
            on: starts_on,
            admitted: None,
        }
    }

    /// Keeps the responses in scope.
    pub fn responses(&self, responses: Vec<Response>) -> Vec<Response> {
        responses
            .into_iter()
            .filter(|r| self.admits(&r.unit_code, r.assignment_id))
            .collect()
    }
}

/// Whether `response` is in the caller's scope: its round is visible and its unit (and
/// agency) admitted. A whole-server scope sees everything.
pub async fn response_visible(
    state: &AppState,
    scope: &Scope,
    response: &Response,
) -> ApiResult<bool> {
    if scope.is_whole() && scope.codes.agencies.is_empty() {
        return Ok(true);
    }
    let Some(round) = state.store.round(&response.round_id).await? else {
        return Ok(false);
    };
    let plan = state.store.round_plan(&round.id).await?;
    if !scope.round(&plan.units, round.starts_on) {
        return Ok(false);
    }
    let filter = RoundFilter::new(state, scope, &round.id, round.starts_on).await?;
    Ok(filter.admits(&response.unit_code, response.assignment_id))
}

/// Whether a quarantine entry is in the caller's scope: by its round and unit when the
/// record named them, else by its surveyor.
pub async fn quarantine_visible(
    state: &AppState,
    scope: &Scope,
    entry: &crate::ingest::QuarantineEntry,
) -> ApiResult<bool> {
    if scope.is_whole() && scope.codes.agencies.is_empty() {
        return Ok(true);
    }
    if let (Some(round_id), Some(unit)) = (&entry.round_id, &entry.unit_code)
        && let Some(round) = state.store.round(round_id).await?
    {
        let plan = state.store.round_plan(&round.id).await?;
        if !scope.round(&plan.units, round.starts_on) {
            return Ok(false);
        }
        let filter = RoundFilter::new(state, scope, &round.id, round.starts_on).await?;
        return Ok(filter.admits(unit, entry.assignment_id));
    }
    let theirs = state.store.user_scope(entry.surveyor_id).await?;
    Ok(scope.contains(&theirs, today(state)))
}

/// A code with its name (names shown, codes secondary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Named {
    /// Code.
    pub code: String,
    /// Name (the code itself when unknown).
    pub name: String,
}

/// A scope with names, as `GET /me` and `GET /users` show it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct NamedScope {
    /// Units.
    pub units: Vec<Named>,
    /// Agencies.
    pub agencies: Vec<Named>,
}

/// Name of unit `code` on `on` (its latest name if not valid then; the code if unknown).
pub fn unit_name(tree: &UnitTree, code: &str, on: NaiveDate) -> String {
    tree.get(code, on)
        .or_else(|| tree.versions(code).last().copied())
        .map_or_else(|| code.to_owned(), |u| u.name.clone())
}

/// Name of agency `code` in `names` ([`agency_names`]; the code when unknown).
pub fn agency_name(names: &std::collections::BTreeMap<String, String>, code: &str) -> String {
    names.get(code).cloned().unwrap_or_else(|| code.to_owned())
}

/// `codes` with names, units named as on `on`, agencies from `agencies` ([`agency_names`]).
pub fn named(
    tree: &UnitTree,
    agencies: &std::collections::BTreeMap<String, String>,
    codes: &ScopeCodes,
    on: NaiveDate,
) -> NamedScope {
    NamedScope {
        units: codes
            .units
            .iter()
            .map(|c| Named {
                code: c.clone(),
                name: unit_name(tree, c, on),
            })
            .collect(),
        agencies: codes
            .agencies
            .iter()
            .map(|c| Named {
                code: c.clone(),
                name: agency_name(agencies, c),
            })
            .collect(),
    }
}

/// Checks a scope given in a request: unit codes must be known to the unit tree (`400.3`
/// naming the code), codes are trimmed, sorted and deduplicated.
pub fn checked_codes(tree: &UnitTree, codes: ScopeCodes, field: &str) -> ApiResult<ScopeCodes> {
    let clean = |v: Vec<String>| -> Vec<String> {
        let set: BTreeSet<String> = v
            .into_iter()
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect();
        set.into_iter().collect()
    };
    let out = ScopeCodes {
        units: clean(codes.units),
        agencies: clean(codes.agencies),
    };
    if let Some(bad) = out.units.iter().find(|c| tree.versions(c).is_empty()) {
        return Err(ApiError::invalid_input(
            format!("Unknown administrative unit {bad}."),
            format!("Không có đơn vị hành chính mã {bad}."),
        )
        .with_details(serde_json::json!({ "field": format!("{field}.units"), "code": bad })));
    }
    Ok(out)
}

/// Agency codes must be in the agency catalogue (when it has any): `400.3` naming the code.
pub async fn check_agencies(state: &AppState, codes: &[String], field: &str) -> ApiResult<()> {
    if codes.is_empty() {
        return Ok(());
    }
    let known = agency_names(state).await?;
    if known.is_empty() {
        return Ok(());
    }
    if let Some(bad) = codes.iter().find(|c| !known.contains_key(*c)) {
        return Err(ApiError::invalid_input(
            format!("Unknown agency {bad}."),
            format!("Không có cơ quan mã {bad}."),
        )
        .with_details(serde_json::json!({ "field": field, "code": bad })));
    }
    Ok(())
}

/// `404.1` for something outside the caller's scope whose existence must not leak.
pub fn hidden(what: &str, id: &str) -> ApiError {
    ApiError::not_found(what, id)
}

/// `403.2` for an action on something the caller may know about but that is outside its scope.
pub fn refused(what_en: &str, what_vi: &str) -> ApiError {
    ApiError::new(
        ProblemCode::OutOfScope,
        format!("{what_en} is outside your scope."),
        format!("{what_vi} nằm ngoài phạm vi phụ trách của bạn."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(units: &[&str], agencies: &[&str]) -> Scope {
        Scope {
            codes: ScopeCodes {
                units: units.iter().map(|s| s.to_string()).collect(),
                agencies: agencies.iter().map(|s| s.to_string()).collect(),
            },
            tree: seed_tree(),
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn units_below_a_listed_unit_are_in_scope_on_the_date() {
        let hn = scope(&["01"], &[]);
        assert!(hn.unit("01", day("2026-01-01")));
        assert!(hn.unit("95001", day("2026-01-01")));
        assert!(
            !hn.unit("95101", day("2026-01-01")),
            "Đà Nẵng is not Hà Nội"
        );
        // Phường Phúc Xá is under Quận Ba Đình (001) under Hà Nội until 2025-06-30.
        assert!(hn.unit("00001", day("2024-01-01")));
        assert!(
            !hn.unit("00001", day("2026-01-01")),
            "gone after the reform"
        );
        assert!(!hn.unit("zz", day("2026-01-01")));
        let district = scope(&["001"], &[]);
        assert!(district.unit("00004", day("2024-01-01")));
        assert!(!district.unit("95001", day("2026-01-01")));
        assert!(scope(&[], &[]).unit("anything", day("2026-01-01")));
    }

    #[test]
    fn rounds_overlap_either_way_and_agencies_restrict() {
        let on = day("2026-01-01");
        let ward = scope(&["95001"], &[]);
        assert!(
            ward.round(&["01".into()], on),
            "a province round covers the ward"
        );
        assert!(scope(&["01"], &[]).round(&["95002".into()], on));
        assert!(!ward.round(&["48".into()], on));
        assert!(
            !ward.round(&[], on),
            "a round without units is for whole-server users"
        );
        assert!(scope(&[], &[]).round(&[], on));
        let agency = scope(&["01"], &["A1"]);
        assert!(agency.assignment("95001", Some("A1"), on));
        assert!(!agency.assignment("95001", Some("A2"), on));
        assert!(!agency.assignment("95001", None, on));
    }

    #[test]
    fn a_round_filter_keeps_only_the_admitted_assignments() {
        let on = day("2026-01-01");
        let (a1, a2) = (Uuid::from_u128(1), Uuid::from_u128(2));
        // What `RoundFilter::new` keeps of a round whose assignment a1 is of agency A1 and a2
        // of A2, for a scope of Hà Nội and agency A1.
        let filter = RoundFilter {
            scope: scope(&["01"], &["A1"]),
            on,
            admitted: Some([a1].into_iter().collect()),
        };
        assert!(filter.admits("95001", Some(a1)));
        assert!(!filter.admits("95001", Some(a2)), "another agency");
        assert!(!filter.admits("95001", None), "no assignment: no agency");
        assert!(!filter.admits("95101", Some(a1)), "outside the units");
        assert!(
            !filter.admits("95001", Some(Uuid::from_u128(3))),
            "not in the round"
        );
        assert!(filter.admits_codes("95001", Some("A1")));
        assert!(!filter.admits_codes("95001", Some("A2")));
        let units_only = RoundFilter {
            scope: scope(&["01"], &[]),
            on,
            admitted: None,
        };
        assert!(units_only.admits("95001", None));
        assert!(!units_only.admits("95101", Some(a1)));
    }

    #[test]
    fn users_inside_a_scope() {
        let on = day("2026-01-01");
        let hn = scope(&["01"], &[]);
        let codes = |u: &[&str], a: &[&str]| ScopeCodes {
            units: u.iter().map(|s| s.to_string()).collect(),
            agencies: a.iter().map(|s| s.to_string()).collect(),
        };
        assert!(hn.contains(&codes(&["95001", "95002"], &[]), on));
        assert!(!hn.contains(&codes(&["95001", "95101"], &[]), on));
        assert!(!hn.contains(&codes(&[], &[]), on), "whole server is wider");
        assert!(scope(&[], &[]).contains(&codes(&[], &[]), on));
        let agency = scope(&["01"], &["A1"]);
        assert!(agency.contains(&codes(&["95001"], &["A1"]), on));
        assert!(!agency.contains(&codes(&["95001"], &[]), on));
    }
}
