//! Self-completion (issue 15): the supervisor's link endpoints under `/api/v1` and the public
//! page's endpoints `/s/{code}…` and `/o/{token}…` (no sign-in). The rules are in
//! [`crate::self_completion`]; see API.md, "Self-completion".
use crate::app::AppState;
use crate::auth::{Caller, out_of_scope, require_cap};
use crate::extract::{ApiPath, ClientIp, read_json};
use crate::handlers::forms::{CatalogueBundle, CatalogueOption};
use crate::handlers::rounds::{RoundStatus, round_status, visible_round};
use crate::handlers::users::{enrol_qr_svg, server_url};
use crate::ingest::{IngestBatch, Source};
use crate::problem::{ApiError, ApiResult};
use crate::scope;
use crate::self_completion::{
    self as rules, PageAnswer, Receipt, new_code, new_device_token, new_open_token, normalise_code,
    valid_open_token,
};
use crate::storage::each_assignment_row;
use crate::storage::self_store::{OpenLinkRow, OpenSubmission, Reservation, SelfLinkRow};
use crate::validation::{Incoming, check_with, round_catalogues};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use sipas_core::mode::{OfficialModes, ResponseMode};
use sipas_core::questionnaire::Label;
use sipas_protocol::problem::ProblemCode;
use sipas_protocol::roles::Capability;
use sipas_protocol::wire::{AssignmentStatus, UploadRecord};
use std::collections::BTreeSet;
use uuid::Uuid;

/// Most assignments in one `POST /rounds/{id}/self-links`.
pub const MAX_LINKS_PER_REQUEST: usize = 1000;

// --- supervisor: personal links ----------------------------------------------------------------

/// `POST /rounds/{id}/self-links` body.
#[derive(Debug, Deserialize)]
pub struct CreateSelfLinks {
    /// Sampled assignments of the round.
    pub assignment_ids: Vec<Uuid>,
}

/// A personal link as the dashboard shows it (no contact).
#[derive(Debug, Serialize)]
pub struct SelfLinkView {
    /// Code.
    pub code: String,
    /// Full address of the page (when the request said its host).
    pub url: Option<String>,
    /// Assignment.
    pub assignment_id: Uuid,
    /// `waiting`, `answered` or `revoked`.
    pub status: &'static str,
    /// When made.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When answered.
    pub answered_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Text for SMS / Zalo.
    pub sms_text: String,
    /// QR code of the address (SVG), on creation and on `?qr=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr_svg: Option<String>,
}

/// Listing of links.
#[derive(Debug, Serialize)]
pub struct SelfLinks {
    /// Links.
    pub links: Vec<SelfLinkView>,
}

fn link_status(r: &SelfLinkRow) -> &'static str {
    if r.response_id.is_some() {
        "answered"
    } else if r.revoked_at.is_some() {
        "revoked"
    } else {
        "waiting"
    }
}

fn self_view(
    r: SelfLinkRow,
    base: Option<&str>,
    round_name: &str,
    qr: bool,
) -> ApiResult<SelfLinkView> {
    let url = base.map(|b| format!("{b}/s/{}", r.code));
    let shown = url.clone().unwrap_or_else(|| format!("/s/{}", r.code));
    let qr_svg = match (&url, qr) {
        (Some(u), true) => Some(enrol_qr_svg(u)?),
        _ => None,
    };
    Ok(SelfLinkView {
        sms_text: rules::sms_text(round_name, &shown, &r.code),
        status: link_status(&r),
        code: r.code,
        url,
        assignment_id: r.assignment_id,
        created_at: r.created_at,
        answered_at: r.answered_at,
        qr_svg,
    })
}

/// Query of the listings.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// Add QR codes.
    #[serde(default)]
    pub qr: Option<bool>,
}

/// `POST /api/v1/rounds/{id}/self-links` (assignments.manage: admin, supervisor; within the
/// scope): a personal link per sampled assignment (an assignment keeps its link); `201`.
pub async fn create_self_links(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<impl IntoResponse> {
    require_cap(&caller.user, Capability::AssignmentsManage)?;
    let round_id = path.get()?;
    let req: CreateSelfLinks = read_json(&headers, body).await?;
    if req.assignment_ids.is_empty() || req.assignment_ids.len() > MAX_LINKS_PER_REQUEST {
        return Err(ApiError::invalid_input(
            format!("Name 1 to {MAX_LINKS_PER_REQUEST} assignments."),
            format!("Chọn từ 1 đến {MAX_LINKS_PER_REQUEST} phiếu."),
        )
        .with_details(serde_json::json!({ "field": "assignment_ids" })));
    }
    let mine = scope::of(&state, &caller).await?;
    let (round, plan) = visible_round(&state, &mine, &round_id).await?;
    if round_status(&round, &plan, scope::today(&state)) == RoundStatus::Closed {
        return Err(ApiError::new(
            ProblemCode::Conflict,
            "The round is closed.",
            "Đợt khảo sát đã đóng.",
        ));
    }
    let rows = state
        .store
        .round_assignment_rows_by_id(&round_id, &req.assignment_ids)
        .await?;
    let mut links = Vec::with_capacity(req.assignment_ids.len());
    for aid in &req.assignment_ids {
        let Some(row) = rows.get(aid) else {
            return Err(ApiError::invalid_input(
                format!("Assignment {aid} is not in round {round_id}."),
                format!("Phiếu {aid} không thuộc đợt {round_id}."),
            )
            .with_details(serde_json::json!({ "field": "assignment_ids", "id": aid })));
        };
        if !mine.row_matches(row, round.starts_on, None, None) {
            return Err(out_of_scope(
                "An assignment is outside your area.",
                "Có phiếu nằm ngoài địa bàn của bạn.",
            ));
        }
        if row.origin != "sample" {
            return Err(ApiError::invalid_input(
                "Personal links are for sampled respondents only.",
                "Đường dẫn riêng chỉ dành cho người trong mẫu.",
            )
            .with_details(serde_json::json!({ "field": "assignment_ids", "id": aid })));
        }
        links.push((*aid, new_code()));
    }
    let now = state.clock.now();
    let stored = state
        .store
        .create_self_links(&round_id, &links, caller.user.id, now)
        .await?;
    state
        .store
        .audit(
            Some(caller.user.id),
            "self_link.created",
            Some(&format!("{round_id}:{}", stored.len())),
        )
        .await?;
    let base = server_url(&state, &headers);
    let links = stored
        .into_iter()
        .map(|r| self_view(r, base.as_deref(), &round.name, true))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((StatusCode::CREATED, Json(SelfLinks { links })))
}

/// `GET /api/v1/rounds/{id}/self-links[?qr=true]` (assignments.manage).
pub async fn list_self_links(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
    query: crate::extract::ApiQuery<ListQuery>,
    headers: HeaderMap,
) -> ApiResult<Json<SelfLinks>> {
    require_cap(&caller.user, Capability::AssignmentsManage)?;
    let round_id = path.get()?;
    let q = query.get()?;
    let mine = scope::of(&state, &caller).await?;
    let (round, _) = visible_round(&state, &mine, &round_id).await?;
    let stored = state.store.self_links(&round_id).await?;
    // The linked assignments in the caller's scope, found as the round's rows pass by.
    let linked: BTreeSet<Uuid> = stored.iter().map(|l| l.assignment_id).collect();
    let mut visible: BTreeSet<Uuid> = BTreeSet::new();
    each_assignment_row(&*state.store, &round_id, |r| {
        if linked.contains(&r.id) && mine.row_matches(&r, round.starts_on, None, None) {
            visible.insert(r.id);
        }
    })
    .await?;
    let base = server_url(&state, &headers);
    let links = stored
        .into_iter()
        .filter(|l| visible.contains(&l.assignment_id))
        .map(|r| self_view(r, base.as_deref(), &round.name, q.qr.unwrap_or(false)))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(SelfLinks { links }))
}

/// `POST /api/v1/self-links/{code}/revoke` (assignments.manage): the link stops working.
pub async fn revoke_self_link(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
) -> ApiResult<StatusCode> {
    require_cap(&caller.user, Capability::AssignmentsManage)?;
    let code = path.get()?;
    let code = normalise_code(&code).ok_or_else(|| ApiError::not_found("self link", "?"))?;
    let link = state
        .store
        .self_link(&code)
        .await?
        .ok_or_else(|| ApiError::not_found("self link", &code))?;
    let mine = scope::of(&state, &caller).await?;
    visible_round(&state, &mine, &link.round_id).await?;
    state
        .store
        .revoke_self_link(&code, state.clock.now())
        .await?;
    state
        .store
        .audit(
            Some(caller.user.id),
            "self_link.revoked",
            Some(&link.assignment_id.to_string()),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// --- supervisor: open links ------------------------------------------------------------------

/// `POST /rounds/{id}/open-links` body.
#[derive(Debug, Deserialize)]
pub struct CreateOpenLink {
    /// Agency code (catalogue).
    pub agency_code: String,
}

/// An open link as the dashboard shows it.
#[derive(Debug, Serialize)]
pub struct OpenLinkView {
    /// Token.
    pub token: String,
    /// Full address of the page.
    pub url: Option<String>,
    /// Agency.
    pub agency_code: String,
    /// Its name.
    pub agency_name: Option<String>,
    /// `active` or `revoked`.
    pub status: &'static str,
    /// When made.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// QR code of the address (SVG).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr_svg: Option<String>,
}

/// Listing.
#[derive(Debug, Serialize)]
pub struct OpenLinks {
    /// Links.
    pub links: Vec<OpenLinkView>,
}

async fn open_view(
    state: &AppState,
    r: OpenLinkRow,
    base: Option<&str>,
    qr: bool,
) -> ApiResult<OpenLinkView> {
    let url = base.map(|b| format!("{b}/o/{}", r.token));
    let qr_svg = match (&url, qr) {
        (Some(u), true) => Some(enrol_qr_svg(u)?),
        _ => None,
    };
    let agency_name = state
        .store
        .agencies()
        .await?
        .into_iter()
        .find(|a| a.code == r.agency_code)
        .map(|a| a.name);
    Ok(OpenLinkView {
        status: if r.revoked_at.is_some() {
            "revoked"
        } else {
            "active"
        },
        token: r.token,
        url,
        agency_code: r.agency_code,
        agency_name,
        created_at: r.created_at,
        qr_svg,
    })
}

/// `POST /api/v1/rounds/{id}/open-links` (assignments.manage): a new open link for an agency
/// of the catalogue within the caller's scope; `201`.
pub async fn create_open_link(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<impl IntoResponse> {
    require_cap(&caller.user, Capability::AssignmentsManage)?;
    let round_id = path.get()?;
    let req: CreateOpenLink = read_json(&headers, body).await?;
    let mine = scope::of(&state, &caller).await?;
    let (round, plan) = visible_round(&state, &mine, &round_id).await?;
    if round_status(&round, &plan, scope::today(&state)) == RoundStatus::Closed {
        return Err(ApiError::new(
            ProblemCode::Conflict,
            "The round is closed.",
            "Đợt khảo sát đã đóng.",
        ));
    }
    let code = sipas_core::text::nfc(req.agency_code.trim());
    let agency = state
        .store
        .agencies()
        .await?
        .into_iter()
        .find(|a| a.code == code)
        .ok_or_else(|| {
            ApiError::invalid_input(
                format!("Unknown agency {code}."),
                format!("Không có cơ quan mã {code} trong danh mục."),
            )
            .with_details(serde_json::json!({ "field": "agency_code" }))
        })?;
    if !mine.assignment(&agency.unit_code, Some(&agency.code), round.starts_on) {
        return Err(out_of_scope(
            "The agency is outside your area.",
            "Cơ quan nằm ngoài địa bàn của bạn.",
        ));
    }
    let row = OpenLinkRow {
        token: new_open_token(),
        round_id: round_id.clone(),
        agency_code: agency.code.clone(),
        created_by: caller.user.id,
        created_at: state.clock.now(),
        revoked_at: None,
    };
    state.store.create_open_link(&row).await?;
    state
        .store
        .audit(
            Some(caller.user.id),
            "open_link.created",
            Some(&agency.code),
        )
        .await?;
    let base = server_url(&state, &headers);
    let view = open_view(&state, row, base.as_deref(), true).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// `GET /api/v1/rounds/{id}/open-links[?qr=true]` (assignments.manage).
pub async fn list_open_links(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
    query: crate::extract::ApiQuery<ListQuery>,
    headers: HeaderMap,
) -> ApiResult<Json<OpenLinks>> {
    require_cap(&caller.user, Capability::AssignmentsManage)?;
    let round_id = path.get()?;
    let q = query.get()?;
    let mine = scope::of(&state, &caller).await?;
    visible_round(&state, &mine, &round_id).await?;
    let base = server_url(&state, &headers);
    let mut links = Vec::new();
    for r in state.store.open_links(&round_id).await? {
        links.push(open_view(&state, r, base.as_deref(), q.qr.unwrap_or(false)).await?);
    }
    Ok(Json(OpenLinks { links }))
}

/// `POST /api/v1/open-links/{token}/revoke` (assignments.manage).
pub async fn revoke_open_link(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
) -> ApiResult<StatusCode> {
    require_cap(&caller.user, Capability::AssignmentsManage)?;
    let token = path.get()?;
    let link = state
        .store
        .open_link(&token)
        .await?
        .ok_or_else(|| ApiError::not_found("open link", "?"))?;
    let mine = scope::of(&state, &caller).await?;
    visible_round(&state, &mine, &link.round_id).await?;
    state
        .store
        .revoke_open_link(&token, state.clock.now())
        .await?;
    state
        .store
        .audit(
            Some(caller.user.id),
            "open_link.revoked",
            Some(&link.agency_code),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/rounds/{id}/official-modes` body and answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct OfficialModesBody {
    /// Mode names (`capi`, `self_personal`, `self_open`).
    pub official_modes: Vec<String>,
}

/// `GET /api/v1/rounds/{id}/official-modes` (rounds.read).
pub async fn get_official_modes(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
) -> ApiResult<Json<OfficialModesBody>> {
    require_cap(&caller.user, Capability::RoundsRead)?;
    let round_id = path.get()?;
    let mine = scope::of(&state, &caller).await?;
    visible_round(&state, &mine, &round_id).await?;
    let m = official_modes_of(&state, &round_id).await?;
    Ok(Json(OfficialModesBody {
        official_modes: m.modes().iter().map(|m| m.as_str().to_owned()).collect(),
    }))
}

/// `PUT /api/v1/rounds/{id}/official-modes` (rounds.manage): which modes the round's
/// official figure counts (at least one).
pub async fn put_official_modes(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<OfficialModesBody>> {
    require_cap(&caller.user, Capability::RoundsManage)?;
    let round_id = path.get()?;
    let req: OfficialModesBody = read_json(&headers, body).await?;
    let mine = scope::of(&state, &caller).await?;
    visible_round(&state, &mine, &round_id).await?;
    let modes = OfficialModes::new(&req.official_modes).map_err(|e| {
        ApiError::invalid_input(
            format!("official_modes: {e}."),
            "Chọn ít nhất một cách thu hợp lệ (capi, self_personal, self_open).",
        )
        .with_details(serde_json::json!({ "field": "official_modes" }))
    })?;
    state
        .store
        .set_round_official_modes(&round_id, &modes.to_json())
        .await?;
    state
        .store
        .audit(
            Some(caller.user.id),
            "round.official_modes",
            Some(&round_id),
        )
        .await?;
    Ok(Json(OfficialModesBody {
        official_modes: modes
            .modes()
            .iter()
            .map(|m| m.as_str().to_owned())
            .collect(),
    }))
}

/// The official modes of a round (default when never set).
pub async fn official_modes_of(state: &AppState, round_id: &str) -> ApiResult<OfficialModes> {
    Ok(OfficialModes::from_json(
        state.store.round_official_modes(round_id).await?.as_deref(),
    ))
}

// --- public page -------------------------------------------------------------------------------

/// What the public page loads (`GET /s/{code}/form`, `GET /o/{token}/form`): never a contact.
#[derive(Debug, Serialize)]
pub struct PublicForm {
    /// `personal` or `open`.
    pub kind: &'static str,
    /// Round name.
    pub round_name: String,
    /// Round dates.
    pub starts_on: chrono::NaiveDate,
    /// Last day.
    pub ends_on: chrono::NaiveDate,
    /// The questionnaire (format 1).
    pub form: serde_json::Value,
    /// Prefill of the runner (codes and names, no contact).
    pub assignment: Option<serde_json::Value>,
    /// Catalogues for `choices_from` items (the link's agency and unit, all fields and
    /// procedures).
    pub catalogues: CatalogueBundle,
    /// Personal links: already answered.
    pub answered: bool,
    /// Open links: the agency.
    pub agency: Option<CatalogueOption>,
}

fn public_problem(status_code: ProblemCode, en: &str, vi: &str) -> ApiError {
    ApiError::new(status_code, en, vi)
}

fn unknown_link() -> ApiError {
    public_problem(
        ProblemCode::NotFound,
        "This link is not valid. Check the code on your letter or message.",
        "Đường dẫn không hợp lệ. Vui lòng kiểm tra lại mã trên thư hoặc tin nhắn.",
    )
}

fn revoked_link() -> ApiError {
    public_problem(
        ProblemCode::Conflict,
        "This link is no longer in use.",
        "Đường dẫn này không còn sử dụng.",
    )
}

fn opt(code: &str, name: &str, attrs: &[(&str, &str)]) -> CatalogueOption {
    CatalogueOption {
        value: code.to_owned(),
        label: Label {
            vi: name.to_owned(),
            en: None,
        },
        attrs: attrs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

async fn base_catalogues(
    state: &AppState,
    agency_code: Option<&str>,
) -> ApiResult<CatalogueBundle> {
    let mut b = CatalogueBundle::default();
    for f in state.store.fields().await? {
        b.fields.push(opt(&f.code, &f.name, &[]));
    }
    for p in state.store.procedures().await? {
        b.procedures
            .push(opt(&p.code, &p.name, &[("field", &p.field_code)]));
    }
    if let Some(code) = agency_code
        && let Some(a) = state
            .store
            .agencies()
            .await?
            .into_iter()
            .find(|a| a.code == code)
    {
        b.agencies.push(opt(
            &a.code,
            &a.name,
            &[("unit", &a.unit_code), ("kind", a.kind.code())],
        ));
        if let Some(u) = scope::unit_tree(state)
            .await?
            .units()
            .iter()
            .find(|u| u.code == a.unit_code)
        {
            let parent = u.parent_code.clone().unwrap_or_default();
            b.units.push(opt(
                &u.code,
                &u.name,
                &[
                    ("parent", &parent),
                    ("level", crate::storage::catalogue::level_str(u.level)),
                ],
            ));
        }
    }
    Ok(b)
}

async fn personal_link(state: &AppState, code: &str) -> ApiResult<SelfLinkRow> {
    let code = normalise_code(code).ok_or_else(unknown_link)?;
    state.store.self_link(&code).await?.ok_or_else(unknown_link)
}

async fn open_link_of(state: &AppState, token: &str) -> ApiResult<OpenLinkRow> {
    if !valid_open_token(token) {
        return Err(unknown_link());
    }
    let link = state
        .store
        .open_link(token)
        .await?
        .ok_or_else(unknown_link)?;
    if link.revoked_at.is_some() {
        return Err(revoked_link());
    }
    Ok(link)
}

/// `GET /s/{code}/form` (public): the questionnaire of a personal link.
pub async fn personal_form(
    State(state): State<AppState>,
    path: ApiPath<String>,
) -> ApiResult<Json<PublicForm>> {
    let link = personal_link(&state, &path.get()?).await?;
    if link.revoked_at.is_some() && link.response_id.is_none() {
        return Err(revoked_link());
    }
    let (a, _) = state
        .store
        .assignment(link.assignment_id)
        .await?
        .ok_or_else(unknown_link)?;
    let round = crate::handlers::rounds::existing_round(&state, &link.round_id).await?;
    let form = crate::results::form_of(&state, &round)?;
    let prefill = serde_json::json!({
        "procedure_code": a.procedure_code,
        "procedure_name": (!a.procedure.is_empty()).then_some(&a.procedure),
        "agency_code": a.agency_code,
        "agency_name": a.agency_name.clone().or(a.agency.clone()),
        "field_code": a.field_code,
        "field_name": a.field_name,
        "unit_code": a.unit_code,
        "unit_name": a.unit_name,
    });
    let answered = link.response_id.is_some() || a.status == AssignmentStatus::Collected;
    Ok(Json(PublicForm {
        kind: "personal",
        round_name: round.name.clone(),
        starts_on: round.starts_on,
        ends_on: round.ends_on,
        form: serde_json::to_value(&*form).map_err(|_| ApiError::internal())?,
        assignment: Some(prefill),
        catalogues: base_catalogues(&state, a.agency_code.as_deref()).await?,
        answered,
        agency: None,
    }))
}

/// `GET /o/{token}/form` (public): the questionnaire of an open link.
pub async fn open_form(
    State(state): State<AppState>,
    path: ApiPath<String>,
) -> ApiResult<Json<PublicForm>> {
    let link = open_link_of(&state, &path.get()?).await?;
    let round = crate::handlers::rounds::existing_round(&state, &link.round_id).await?;
    let form = crate::results::form_of(&state, &round)?;
    let catalogues = base_catalogues(&state, Some(&link.agency_code)).await?;
    let agency = catalogues.agencies.first().cloned();
    Ok(Json(PublicForm {
        kind: "open",
        round_name: round.name.clone(),
        starts_on: round.starts_on,
        ends_on: round.ends_on,
        form: serde_json::to_value(&*form).map_err(|_| ApiError::internal())?,
        assignment: Some(serde_json::json!({
            "agency_code": link.agency_code,
            "agency_name": agency.as_ref().map(|a| a.label.vi.clone()),
            "unit_code": agency.as_ref().and_then(|a| a.attrs.get("unit").cloned()),
        })),
        catalogues,
        answered: false,
        agency,
    }))
}

/// Answer of `POST /o/{token}/device`.
#[derive(Debug, Serialize)]
pub struct DeviceToken {
    /// Keep it in the browser; send it with every answer.
    pub device_token: String,
}

/// `POST /o/{token}/device` (public): a device token for this browser.
pub async fn open_device(
    State(state): State<AppState>,
    path: ApiPath<String>,
) -> ApiResult<impl IntoResponse> {
    let link = open_link_of(&state, &path.get()?).await?;
    let (token, hash) = new_device_token();
    state
        .store
        .issue_open_device(&hash, &link.token, state.clock.now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(DeviceToken {
            device_token: token,
        }),
    ))
}

async fn ingest_one(
    state: &AppState,
    response: sipas_core::response::Response,
    submitted_by: Uuid,
    mode: ResponseMode,
) -> ApiResult<Result<Receipt, ApiError>> {
    let now = state.clock.now();
    let hash = response.content_hash();
    let incoming = Incoming::decoded(UploadRecord {
        response,
        content_hash: hash,
    });
    // The same choice checks as a device upload (catalogue codes, choice filters).
    let catalogues = round_catalogues(state, std::slice::from_ref(&incoming)).await?;
    let batch = IngestBatch {
        items: vec![check_with(&state.forms, &catalogues, incoming, now)],
        source: Source {
            surveyor: submitted_by,
            device: None,
            handover_importer: None,
            mode,
        },
        received_at: now,
        override_by: None,
    };
    let acks = state.store.ingest_batch(std::sync::Arc::new(batch)).await?;
    let ack = acks.first().ok_or_else(ApiError::internal)?;
    tracing::info!(mode = mode.as_str(), status = ?ack.status, "self-completion answer");
    Ok(rules::outcome(ack).map_err(|(en, vi, code)| {
        let conflict = matches!(ack.status, sipas_protocol::wire::AckStatus::Conflict)
            || code == "round_closed";
        public_problem(
            if conflict {
                ProblemCode::Conflict
            } else {
                ProblemCode::InvalidInput
            },
            en,
            vi,
        )
        .with_details(serde_json::json!({ "reason_code": code }))
    }))
}

fn answer_of(bytes: ApiResult<PageAnswer>) -> ApiResult<PageAnswer> {
    bytes.map_err(|_| {
        public_problem(
            ProblemCode::MalformedBody,
            "The answers could not be read; reload the page and send again.",
            "Không đọc được câu trả lời; vui lòng tải lại trang và gửi lại.",
        )
    })
}

/// `POST /s/{code}/response` (public): the answer of a personal link, idempotent.
pub async fn personal_response(
    State(state): State<AppState>,
    path: ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Receipt>> {
    let link = personal_link(&state, &path.get()?).await?;
    let answer = answer_of(read_json::<PageAnswer>(&headers, body).await)?;
    if let Some(done) = link.response_id
        && done != answer.id
    {
        return Err(public_problem(
            ProblemCode::Conflict,
            "This link has already been used to answer. Each link can be used once.",
            "Đường dẫn này đã được dùng để trả lời. Mỗi đường dẫn chỉ dùng được một lần.",
        )
        .with_details(serde_json::json!({ "reason_code": "link_used" })));
    }
    if link.revoked_at.is_some() && link.response_id.is_none() {
        return Err(revoked_link());
    }
    let (a, owner) = state
        .store
        .assignment(link.assignment_id)
        .await?
        .ok_or_else(unknown_link)?;
    let response = rules::response_of(
        &answer,
        a.form.clone(),
        &a.round_id,
        &a.unit_code,
        Some(a.id),
    );
    let submitted_by = owner.unwrap_or(link.created_by);
    let receipt = ingest_one(&state, response, submitted_by, ResponseMode::SelfPersonal).await??;
    state
        .store
        .answer_self_link(&link.code, receipt.response_id, state.clock.now())
        .await?;
    Ok(Json(receipt))
}

/// `POST /o/{token}/response` (public): an open-link answer with its device token and
/// screening, counted against the abuse limits, idempotent.
pub async fn open_response(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    path: ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Receipt>> {
    let link = open_link_of(&state, &path.get()?).await?;
    let answer = answer_of(read_json::<PageAnswer>(&headers, body).await)?;
    let device_hash = match answer.device_token.as_deref() {
        Some(t)
            if state
                .store
                .open_device_known(&crate::auth::secret_hash(t), &link.token)
                .await? =>
        {
            crate::auth::secret_hash(t)
        }
        _ => {
            return Err(public_problem(
                ProblemCode::InvalidInput,
                "This browser is not registered for the survey; reload the page.",
                "Trình duyệt chưa được đăng ký cho khảo sát; vui lòng tải lại trang.",
            )
            .with_details(serde_json::json!({ "reason_code": "device_token" })));
        }
    };
    let round = crate::handlers::rounds::existing_round(&state, &link.round_id).await?;
    let screening = answer.screening.clone().ok_or_else(|| {
        ApiError::invalid_input(
            "Answer the two screening questions first.",
            "Vui lòng trả lời hai câu hỏi sàng lọc trước.",
        )
        .with_details(serde_json::json!({ "field": "screening" }))
    })?;
    let known = state
        .store
        .procedures()
        .await?
        .iter()
        .any(|p| p.code == screening.procedure_code);
    if let Some((en, vi)) = rules::screening_problem(
        &screening,
        known,
        round.starts_on,
        round.ends_on,
        scope::today(&state),
    ) {
        return Err(ApiError::invalid_input(en, vi)
            .with_details(serde_json::json!({ "field": "screening" })));
    }
    let agency = state
        .store
        .agencies()
        .await?
        .into_iter()
        .find(|a| a.code == link.agency_code)
        .ok_or_else(unknown_link)?;
    let now = state.clock.now();
    let limits = state.open_limits;
    let reservation = state
        .store
        .reserve_open_submission(&OpenSubmission {
            response_id: answer.id,
            link_token: link.token.clone(),
            device_hash,
            addr_hash: rules::address_key(ip),
            at: now,
            device_since: now - limits.device_window,
            device_cap: limits.per_device,
            addr_since: now - limits.address_window,
            addr_cap: limits.per_address,
        })
        .await?;
    match reservation {
        Reservation::Reserved | Reservation::Again => {}
        Reservation::DeviceLimit | Reservation::AddressLimit => {
            return Err(public_problem(
                ProblemCode::RateLimited,
                "Too many answers from this phone or network. Thank you; please try again later.",
                "Đã có quá nhiều câu trả lời từ điện thoại hoặc mạng này. Xin cảm ơn; vui lòng thử lại sau.",
            )
            .with_details(serde_json::json!({ "reason_code": "open_limit" })));
        }
    }
    let response = rules::response_of(
        &answer,
        round.form.clone(),
        &round.id,
        &agency.unit_code,
        None,
    );
    let out = ingest_one(&state, response, link.created_by, ResponseMode::SelfOpen).await?;
    if out.is_err() && reservation == Reservation::Reserved {
        state.store.release_open_submission(answer.id).await?;
    }
    Ok(Json(out?))
}
