//! Users and device enrolment codes: `POST /users`, `GET /users`, `PATCH /users/{id}`,
//! `POST /users/{id}/password`, `POST /enrolment-codes`. Who may do what: capabilities
//! ([`Role::capabilities`]); which users: the caller's scope ([`crate::scope`]).
use crate::app::AppState;
use crate::auth::{self, Caller, require_any, require_cap};
use crate::extract::ApiPath;
use crate::extract::{ApiQuery, read_json};
use crate::problem::{ApiError, ApiResult};
use crate::scope::{self, NamedScope};
use crate::storage::{NewUser, ScopeCodes, UserChange};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sipas_core::text::nfc;
use sipas_protocol::problem::ProblemCode;
use sipas_protocol::roles::{Capability, Role};
use sipas_protocol::wire::{EnrolmentCode, EnrolmentCodeRequest, UserInfo};
use uuid::Uuid;

/// Default validity of an enrolment code, minutes.
pub const DEFAULT_CODE_MINUTES: u32 = 60;
/// Longest validity of an enrolment code, minutes (7 days).
pub const MAX_CODE_MINUTES: u32 = 7 * 24 * 60;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// `POST /api/v1/users` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateUserRequest {
    /// Login name: 3–64 of `a-z 0-9 . _ -` (stored lower-case).
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Password (at least 8 characters); required for admins and supervisors, optional for
    /// surveyors and monitors, who may work with enrolled devices only.
    #[serde(default)]
    pub password: Option<String>,
    /// Scope of the new user; absent: the creator's own scope (never wider than it).
    #[serde(default)]
    pub scope: Option<ScopeCodes>,
}

fn field_error(field: &str, en: &str, vi: &str) -> ApiError {
    ApiError::invalid_input(en, vi).with_details(serde_json::json!({ "field": field }))
}

/// Canonical form of a username: trimmed, lower-case.
pub fn canonical_username(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Checks a user request and returns the canonical username and display name.
pub fn check_new_user(req: &CreateUserRequest) -> ApiResult<(String, String)> {
    let username = canonical_username(&req.username);
    let ok_chars = username
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if !(3..=64).contains(&username.len()) || !ok_chars {
        return Err(field_error(
            "username",
            "username must be 3 to 64 characters of a-z, 0-9, '.', '_' or '-'.",
            "Tên đăng nhập phải dài 3–64 ký tự, chỉ gồm a-z, 0-9, '.', '_' hoặc '-'.",
        ));
    }
    let display_name = nfc(req.display_name.trim());
    if display_name.is_empty() || display_name.chars().count() > 100 {
        return Err(field_error(
            "display_name",
            "display_name must be 1 to 100 characters.",
            "Họ tên hiển thị phải dài 1–100 ký tự.",
        ));
    }
    match &req.password {
        Some(p) if p.chars().count() < MIN_PASSWORD_CHARS || p.len() > 1024 => {
            return Err(field_error(
                "password",
                "password must have at least 8 characters.",
                "Mật khẩu phải có ít nhất 8 ký tự.",
            ));
        }
        None if matches!(req.role, Role::Admin | Role::Supervisor) => {
            return Err(field_error(
                "password",
                "Admins and supervisors need a password.",
                "Quản trị và giám sát viên cần có mật khẩu.",
            ));
        }
        _ => {}
    }
    Ok((username, display_name))
}

/// Creates a user after [`check_new_user`], hashing its password off the async runtime;
/// `created_by` is recorded as the actor of the `user.created` audit entry.
pub async fn create_checked_user(
    state: &AppState,
    req: CreateUserRequest,
    created_by: Option<uuid::Uuid>,
) -> ApiResult<UserInfo> {
    let (username, display_name) = check_new_user(&req)?;
    let password_hash = match req.password {
        Some(password) => {
            let params = state.password_params.clone();
            let hashed =
                tokio::task::spawn_blocking(move || auth::hash_password(&password, &params))
                    .await
                    .map_err(|_| ApiError::internal())?
                    .map_err(|e| {
                        tracing::error!(error = %e, "password hashing failed");
                        ApiError::internal()
                    })?;
            Some(hashed)
        }
        None => None,
    };
    Ok(state
        .store
        .create_user(NewUser {
            username,
            display_name,
            role: req.role,
            password_hash,
            created_by,
            scope: req.scope.unwrap_or_default(),
        })
        .await?)
}

/// Query of `GET /api/v1/users`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct UsersQuery {
    /// Only users of this role (default: every role).
    #[serde(default)]
    pub role: Option<Role>,
}

/// A user as `GET /users` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserView {
    /// The user.
    #[serde(flatten)]
    pub user: UserInfo,
    /// Its scope with names.
    pub scope: NamedScope,
    /// Whether it is disabled.
    pub disabled: bool,
    /// Latest sync of any of its devices (surveyors and monitors; `None`: never).
    pub last_sync_at: Option<DateTime<Utc>>,
}

/// `GET /api/v1/users?role=` (users.manage or assignments.manage: admin, supervisor): the
/// users inside the caller's scope with scope, disabled flag and last sync, by username.
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    query: ApiQuery<UsersQuery>,
) -> ApiResult<Json<Vec<UserView>>> {
    require_any(
        &caller.user,
        &[Capability::UsersManage, Capability::AssignmentsManage],
    )?;
    let q = query.get()?;
    let mine = scope::of(&state, &caller).await?;
    let on = scope::today(&state);
    let agencies = scope::agency_names(&state).await?;
    let mut last_sync: std::collections::BTreeMap<Uuid, DateTime<Utc>> = Default::default();
    for d in state.store.devices(None).await? {
        if let Some(at) = d.last_sync_at {
            let e = last_sync.entry(d.user_id).or_insert(at);
            *e = (*e).max(at);
        }
    }
    let users = state
        .store
        .user_records(q.role)
        .await?
        .into_iter()
        .filter(|r| r.user.id == caller.user.id || mine.contains(&r.scope, on))
        .map(|r| UserView {
            scope: scope::named(&mine.tree, &agencies, &r.scope, on),
            disabled: r.disabled,
            last_sync_at: last_sync.get(&r.user.id).copied(),
            user: r.user,
        })
        .collect();
    Ok(Json(users))
}

/// `POST /api/v1/users` (admin): creates a user (`409.1` if the username exists).
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<UserInfo>)> {
    require_cap(&caller.user, Capability::UsersManage)?;
    let mut req: CreateUserRequest = read_json(&headers, body).await?;
    let mine = scope::of(&state, &caller).await?;
    let wanted = match req.scope.take() {
        Some(codes) => scope::checked_codes(&mine.tree, codes, "scope")?,
        None => mine.codes.clone(),
    };
    scope::check_agencies(&state, &wanted.agencies, "scope.agencies").await?;
    if !mine.contains(&wanted, scope::today(&state)) {
        return Err(scope::refused(
            "The new user's scope is wider than yours; it",
            "Phạm vi của người dùng mới rộng hơn phạm vi của bạn; phạm vi này",
        )
        .with_details(serde_json::json!({ "field": "scope" })));
    }
    req.scope = Some(wanted);
    let user = create_checked_user(&state, req, Some(caller.user.id)).await?;
    tracing::info!(actor = %caller.user.id, user_id = %user.id, role = user.role.as_str(), "user created");
    Ok((StatusCode::CREATED, Json(user)))
}

/// `POST /api/v1/enrolment-codes` (supervisor, admin): a one-time code for the device of a
/// surveyor or monitor, valid `valid_minutes` (default 60, at most 7 days); `409.1` for a
/// disabled user.
pub async fn create_enrolment_code(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<EnrolmentCode>)> {
    require_cap(&caller.user, Capability::EnrolmentIssue)?;
    let req: EnrolmentCodeRequest = read_json(&headers, body).await?;
    let minutes = req.valid_minutes.unwrap_or(DEFAULT_CODE_MINUTES);
    if minutes == 0 || minutes > MAX_CODE_MINUTES {
        return Err(field_error(
            "valid_minutes",
            "valid_minutes must be between 1 and 10080 (7 days).",
            "Thời hạn mã phải từ 1 đến 10080 phút (7 ngày).",
        ));
    }
    let user = state
        .store
        .user_by_id(req.user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("user", &req.user_id.to_string()))?;
    if state.store.user_disabled(user.id).await? == Some(true) {
        return Err(ApiError::new(
            ProblemCode::Conflict,
            "This user is disabled; enable it before enrolling a device for it.",
            "Người dùng này đã bị khoá; hãy mở khoá trước khi kích hoạt thiết bị.",
        ));
    }
    let mine = scope::of(&state, &caller).await?;
    let theirs = state.store.user_scope(user.id).await?;
    if !mine.contains(&theirs, scope::today(&state)) {
        return Err(scope::refused("This user", "Người dùng này")
            .with_details(serde_json::json!({ "field": "user_id" })));
    }
    if !matches!(user.role, Role::Surveyor | Role::Monitor) {
        return Err(field_error(
            "user_id",
            "Enrolment codes are for surveyors' and monitors' devices only.",
            "Mã kích hoạt chỉ dành cho thiết bị của điều tra viên và phúc tra viên.",
        ));
    }
    let mut issued = issue_enrolment_code(&state, user.id, minutes, caller.user.id).await?;
    let server_url = server_url(&state, &headers);
    issued.fingerprint = state.tls_fingerprint.clone();
    if let Some(url) = &server_url {
        let payload = sipas_protocol::enrol::EnrolPayload {
            server: url.clone(),
            code: issued.code.clone(),
            cert_sha256: issued.fingerprint.clone(),
        }
        .encode();
        issued.qr_svg = Some(enrol_qr_svg(&payload)?);
        issued.payload = Some(payload);
    }
    issued.server_url = server_url;
    tracing::info!(actor = %caller.user.id, user_id = %user.id, "enrolment code issued");
    Ok((StatusCode::CREATED, Json(issued)))
}

/// Issues and stores (hashed) a fresh code for `user_id`, valid `minutes`.
pub async fn issue_enrolment_code(
    state: &AppState,
    user_id: uuid::Uuid,
    minutes: u32,
    issued_by: uuid::Uuid,
) -> ApiResult<EnrolmentCode> {
    let code = auth::new_enrolment_code();
    let expires_at = state.clock.now() + chrono::Duration::minutes(i64::from(minutes));
    state
        .store
        .create_enrolment_code(&auth::secret_hash(&code), user_id, expires_at, issued_by)
        .await?;
    Ok(EnrolmentCode {
        code,
        expires_at,
        server_url: None,
        fingerprint: None,
        payload: None,
        qr_svg: None,
    })
}

/// The server's address as the request reached it: `https://` when the server serves TLS
/// itself or a proxy says so (`X-Forwarded-Proto: https`), and the `Host` header.
pub fn server_url(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })?;
    let forwarded_https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let scheme = if state.tls || forwarded_https {
        "https"
    } else {
        "http"
    };
    Some(format!("{scheme}://{host}"))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The enrolment link a device scans: `sipas://enrol?server=<url>&code=<code>[&fp=<sha256>]`.
pub fn enrol_link(server_url: &str, code: &str, fingerprint: Option<&str>) -> String {
    let mut link = format!(
        "sipas://enrol?server={}&code={}",
        percent_encode(server_url),
        percent_encode(code)
    );
    if let Some(fp) = fingerprint {
        link.push_str("&fp=");
        link.push_str(&percent_encode(fp));
    }
    link
}

/// An SVG QR code of `text` (error correction M, quiet zone, at least 256 px).
pub fn enrol_qr_svg(text: &str) -> ApiResult<String> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| {
            tracing::error!(error = %e, "QR code failed");
            ApiError::internal()
        })?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .build())
}

/// `PATCH /api/v1/users/{id}` body: what to change.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    /// New display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// New role.
    #[serde(default)]
    pub role: Option<Role>,
    /// New scope (must be inside the caller's).
    #[serde(default)]
    pub scope: Option<ScopeCodes>,
}

/// `PATCH /api/v1/users/{id}` (users.manage: admin): changes display name, role and / or
/// scope of a user inside the caller's scope (`404.1` outside); a scope wider than the
/// caller's is `403.2`. Answers the user as `GET /users` shows it.
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<Uuid>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<UserView>> {
    require_cap(&caller.user, Capability::UsersManage)?;
    let id = path.get()?;
    let req: UpdateUserRequest = read_json(&headers, body).await?;
    let mine = scope::of(&state, &caller).await?;
    let on = scope::today(&state);
    mine.visible_user(&state, id, caller.user.id).await?;
    let mut change = UserChange::default();
    if let Some(name) = &req.display_name {
        let name = nfc(name.trim());
        if name.is_empty() || name.chars().count() > 100 {
            return Err(field_error(
                "display_name",
                "display_name must be 1 to 100 characters.",
                "Họ tên hiển thị phải dài 1–100 ký tự.",
            ));
        }
        change.display_name = Some(name);
    }
    if let Some(role) = req.role {
        if id == caller.user.id && role != caller.user.role {
            return Err(ApiError::new(
                ProblemCode::Conflict,
                "You cannot change your own role; ask another admin.",
                "Không thể tự đổi vai trò của mình; hãy nhờ quản trị viên khác.",
            ));
        }
        change.role = Some(role);
    }
    if let Some(codes) = req.scope {
        let codes = scope::checked_codes(&mine.tree, codes, "scope")?;
        scope::check_agencies(&state, &codes.agencies, "scope.agencies").await?;
        if !mine.contains(&codes, on) {
            return Err(scope::refused(
                "The scope asked for is wider than yours; it",
                "Phạm vi yêu cầu rộng hơn phạm vi của bạn; phạm vi này",
            )
            .with_details(serde_json::json!({ "field": "scope" })));
        }
        change.scope = Some(codes);
    }
    let user = state.store.update_user(id, &change, caller.user.id).await?;
    tracing::info!(actor = %caller.user.id, user_id = %id, "user updated");
    let codes = state.store.user_scope(id).await?;
    let disabled = state.store.user_disabled(id).await?.unwrap_or(false);
    let last_sync_at = state
        .store
        .devices(Some(id))
        .await?
        .into_iter()
        .filter_map(|d| d.last_sync_at)
        .max();
    Ok(Json(UserView {
        scope: scope::named(&mine.tree, &scope::agency_names(&state).await?, &codes, on),
        user,
        disabled,
        last_sync_at,
    }))
}

/// `POST /api/v1/users/{id}/password` body.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PasswordRequest {
    /// The new password; absent: the server makes one.
    #[serde(default)]
    pub password: Option<String>,
}

/// Answer of a password reset: the password to hand over (shown once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordReset {
    /// The new password.
    pub password: String,
}

/// A generated password: 12 characters of the enrolment code alphabet (no look-alikes).
fn generated_password() -> String {
    let mut p = auth::new_enrolment_code();
    p.push_str(&auth::new_enrolment_code()[..2]);
    p
}

/// `POST /api/v1/users/{id}/password` (users.manage: admin) `{password?}` → `{password}`:
/// sets (or generates) a user's password; every session of that user ends. `404.1` outside
/// the caller's scope.
pub async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<Uuid>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<PasswordReset>> {
    require_cap(&caller.user, Capability::UsersManage)?;
    let id = path.get()?;
    let req: PasswordRequest = read_json(&headers, body).await?;
    let mine = scope::of(&state, &caller).await?;
    mine.visible_user(&state, id, caller.user.id).await?;
    let password = match req.password {
        Some(p) if p.chars().count() < MIN_PASSWORD_CHARS || p.len() > 1024 => {
            return Err(field_error(
                "password",
                "password must have at least 8 characters.",
                "Mật khẩu phải có ít nhất 8 ký tự.",
            ));
        }
        Some(p) => p,
        None => generated_password(),
    };
    let params = state.password_params.clone();
    let to_hash = password.clone();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&to_hash, &params))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            ApiError::internal()
        })?;
    state.store.set_password(id, &hash, caller.user.id).await?;
    tracing::info!(actor = %caller.user.id, user_id = %id, "password reset");
    Ok(Json(PasswordReset { password }))
}
