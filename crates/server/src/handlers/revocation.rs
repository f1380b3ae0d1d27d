//! Cutting people and devices off: `POST /logout`, `POST /users/{id}/disable` and `/enable`,
//! `GET /devices?user_id=` and `POST /devices/{id}/revoke`.
//!
//! Who may act on whom: admins on every user and device (but never disable themselves);
//! supervisors only on surveyors and monitors and their devices (`403.1` otherwise); surveyors
//! and monitors only log their own token out.
use crate::app::AppState;
use crate::auth::{self, Caller, bearer_token, require_any, require_cap};
use crate::extract::{ApiPath, ApiQuery};
use crate::problem::{ApiError, ApiResult};
use crate::scope;
use crate::storage::{DeviceRecord, RevokedToken};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use sipas_protocol::problem::ProblemCode;
use sipas_protocol::roles::{Capability, Role};
use sipas_protocol::wire::UserInfo;
use uuid::Uuid;

/// Answer of `POST /users/{id}/disable` and `/enable`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAccess {
    /// The user.
    pub user_id: Uuid,
    /// Whether the user is disabled now.
    pub disabled: bool,
    /// Whether this call changed it (`false`: it already was so).
    pub changed: bool,
}

/// Query of `GET /devices`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct DevicesQuery {
    /// Only the devices of this user (default: every device).
    #[serde(default)]
    pub user_id: Option<Uuid>,
}

/// Admits `caller` to act on a user of role `target`: admins always, supervisors for
/// surveyors and monitors; otherwise `403.1`.
pub fn may_manage(caller: &UserInfo, target: Role) -> ApiResult<()> {
    require_any(
        caller,
        &[Capability::UsersManage, Capability::DevicesManage],
    )?;
    if caller.role.can(Capability::UsersManage) || matches!(target, Role::Surveyor | Role::Monitor)
    {
        return Ok(());
    }
    Err(ApiError::new(
        ProblemCode::ForbiddenRole,
        format!(
            "A supervisor may act only on surveyors and monitors, not on role {}.",
            target.as_str()
        ),
        format!(
            "Giám sát viên chỉ được thao tác với điều tra viên và phúc tra viên, không với vai \
             trò {}.",
            target.label_vi()
        ),
    )
    .with_details(serde_json::json!({ "role": caller.role, "target_role": target })))
}

/// `POST /api/v1/logout` (any signed-in user or device): ends the calling session, or
/// revokes the calling device's token; `204`. The token answers `401.1` from the next call.
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let token = bearer_token(&headers).ok_or_else(ApiError::unauthenticated)?;
    let ended = state
        .store
        .revoke_token(&auth::secret_hash(token), caller.user.id, state.clock.now())
        .await?;
    match ended {
        RevokedToken::Device(id) => {
            tracing::info!(user_id = %caller.user.id, device_id = %id, "device logged out")
        }
        _ => tracing::info!(user_id = %caller.user.id, "logout"),
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn set_disabled(
    state: &AppState,
    caller: &Caller,
    path: ApiPath<Uuid>,
    disabled: bool,
) -> ApiResult<Json<UserAccess>> {
    require_cap(&caller.user, Capability::DevicesManage)?;
    let id = path.get()?;
    if disabled && id == caller.user.id {
        return Err(ApiError::new(
            ProblemCode::Conflict,
            "You cannot disable your own account; ask another admin.",
            "Không thể tự khoá tài khoản của chính mình; hãy nhờ quản trị viên khác.",
        ));
    }
    let mine = scope::of(state, caller).await?;
    let target = mine.visible_user(state, id, caller.user.id).await?;
    may_manage(&caller.user, target.role)?;
    let changed = state
        .store
        .set_user_disabled(id, disabled, caller.user.id, state.clock.now())
        .await?;
    tracing::info!(actor = %caller.user.id, user_id = %id, disabled, changed, "user access set");
    Ok(Json(UserAccess {
        user_id: id,
        disabled,
        changed,
    }))
}

/// `POST /api/v1/users/{id}/disable` (admin; supervisor for surveyors and monitors): the user
/// can no longer sign in (`401.4` after a right password), every session of it ends and its
/// device tokens answer `401.1` until it is enabled. Nobody disables themselves (`409.1`).
pub async fn disable_user(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<Uuid>,
) -> ApiResult<Json<UserAccess>> {
    set_disabled(&state, &caller, path, true).await
}

/// `POST /api/v1/users/{id}/enable` (as disable): the user can sign in again, and its
/// devices that were not revoked work again.
pub async fn enable_user(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<Uuid>,
) -> ApiResult<Json<UserAccess>> {
    set_disabled(&state, &caller, path, false).await
}

/// `GET /api/v1/devices?user_id=` (supervisor, admin): enrolled devices (of one user, or all)
/// with enrolment, last sync and revocation times, oldest enrolment first.
pub async fn list_devices(
    State(state): State<AppState>,
    caller: Caller,
    query: ApiQuery<DevicesQuery>,
) -> ApiResult<Json<Vec<DeviceRecord>>> {
    require_cap(&caller.user, Capability::DevicesManage)?;
    let q = query.get()?;
    let mine = scope::of(&state, &caller).await?;
    if let Some(id) = q.user_id {
        mine.visible_user(&state, id, caller.user.id).await?;
    }
    let devices = state.store.devices(q.user_id).await?;
    if mine.is_whole() {
        return Ok(Json(devices));
    }
    let visible = mine.visible_user_ids(&state, caller.user.id).await?;
    Ok(Json(
        devices
            .into_iter()
            .filter(|d| visible.contains(&d.user_id))
            .collect(),
    ))
}

/// `POST /api/v1/devices/{id}/revoke` (admin; supervisor for devices of surveyors and
/// monitors): the device's token answers `401.1` from the next call, for good (the device
/// must enrol again). Revoking twice keeps the first time. Answers the device.
pub async fn revoke_device(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<Uuid>,
) -> ApiResult<Json<DeviceRecord>> {
    require_cap(&caller.user, Capability::DevicesManage)?;
    let id = path.get()?;
    let device = state
        .store
        .device(id)
        .await?
        .ok_or_else(|| ApiError::not_found("device", &id.to_string()))?;
    let mine = scope::of(&state, &caller).await?;
    if mine
        .visible_user(&state, device.user.id, caller.user.id)
        .await
        .is_err()
    {
        return Err(scope::hidden("device", &id.to_string()));
    }
    may_manage(&caller.user, device.user.role)?;
    let record = state
        .store
        .revoke_device(id, caller.user.id, state.clock.now())
        .await?;
    tracing::info!(actor = %caller.user.id, device_id = %id, "device revoked");
    Ok(Json(record))
}

/// Records that `caller`'s device synced now (at most once a minute per device; see
/// [`crate::last_sync`]). A failure is logged, never fails the sync itself.
pub async fn record_sync(state: &AppState, caller: &Caller) {
    let Some(device) = caller.device_id else {
        return;
    };
    let now = state.clock.now();
    if state.last_sync.due(device, now)
        && let Err(e) = state.store.touch_device(device, now).await
    {
        tracing::warn!(device_id = %device, error = %e, "recording the sync time failed");
    }
}
