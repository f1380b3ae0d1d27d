//! Users and device enrolment codes: `POST /users` (admin), `GET /users` (supervisor, admin)
//! and `POST /enrolment-codes` (supervisor, admin).
use crate::app::AppState;
use crate::auth::{self, Caller, require};
use crate::extract::{ApiQuery, read_json};
use crate::problem::{ApiError, ApiResult};
use crate::storage::NewUser;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use sipas_core::text::nfc;
use sipas_protocol::problem::ProblemCode;
use sipas_protocol::roles::Role;
use sipas_protocol::wire::{EnrolmentCode, EnrolmentCodeRequest, UserInfo};

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

/// `GET /api/v1/users?role=surveyor|monitor|supervisor|admin` (supervisor, admin): users
/// (id, username, display name, role), sorted by username.
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    query: ApiQuery<UsersQuery>,
) -> ApiResult<Json<Vec<UserInfo>>> {
    require(&caller.user, &[Role::Supervisor, Role::Admin])?;
    let q = query.get()?;
    Ok(Json(state.store.users(q.role).await?))
}

/// `POST /api/v1/users` (admin): creates a user (`409.1` if the username exists).
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<UserInfo>)> {
    require(&caller.user, &[Role::Admin])?;
    let req: CreateUserRequest = read_json(&headers, body).await?;
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
    require(&caller.user, &[Role::Supervisor, Role::Admin])?;
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
    if !matches!(user.role, Role::Surveyor | Role::Monitor) {
        return Err(field_error(
            "user_id",
            "Enrolment codes are for surveyors' and monitors' devices only.",
            "Mã kích hoạt chỉ dành cho thiết bị của điều tra viên và phúc tra viên.",
        ));
    }
    let issued = issue_enrolment_code(&state, user.id, minutes, caller.user.id).await?;
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
    Ok(EnrolmentCode { code, expires_at })
}
