//! Sessions: `POST /login` (password → session token), `POST /enrol` (one-time code →
//! device token) and `GET /me`.
use crate::app::AppState;
use crate::auth::{self, Caller};
use crate::extract::{ClientIp, read_json};
use crate::problem::{ApiError, ApiResult};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use base64::Engine;
use sipas_core::response::new_id;
use sipas_core::text::nfc;
use sipas_protocol::handover::parse_public_key;
use sipas_protocol::problem::ProblemCode;
use sipas_protocol::wire::{EnrolRequest, EnrolResponse, LoginRequest, LoginResponse, UserInfo};

/// Lifetime of a dashboard session.
pub const SESSION_HOURS: i64 = 12;
/// Longest device name accepted.
pub const MAX_DEVICE_NAME_CHARS: usize = 100;

fn bad_credentials() -> ApiError {
    ApiError::new(
        ProblemCode::BadCredentials,
        "Wrong username or password.",
        "Sai tên đăng nhập hoặc mật khẩu.",
    )
}

fn bad_code() -> ApiError {
    ApiError::new(
        ProblemCode::BadEnrolmentCode,
        "The enrolment code is unknown, already used or expired; ask your supervisor for a new one.",
        "Mã kích hoạt không đúng, đã dùng hoặc đã hết hạn; hãy xin giám sát viên mã mới.",
    )
}

fn too_many_enrolments() -> ApiError {
    ApiError::new(
        ProblemCode::RateLimited,
        "Too many wrong enrolment codes; wait 15 minutes and try again, or ask your \
         supervisor for a new code.",
        "Nhập sai mã kích hoạt quá nhiều lần; vui lòng đợi 15 phút rồi thử lại hoặc xin giám \
         sát viên mã mới.",
    )
}

/// `POST /api/v1/login` (anyone): username and password → session token (`401.3`, `429.1`).
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<LoginResponse>> {
    let req: LoginRequest = read_json(&headers, body).await?;
    let now = state.clock.now();
    if !state.login_limiter.allowed(&req.username, now) {
        return Err(ApiError::new(
            ProblemCode::RateLimited,
            "Too many failed sign-in attempts; wait 15 minutes and try again.",
            "Đăng nhập sai quá nhiều lần; vui lòng đợi 15 phút rồi thử lại.",
        ));
    }
    let found = state
        .store
        .user_by_username(&super::users::canonical_username(&req.username))
        .await?;
    let (user, phc) = match found {
        Some((user, Some(phc))) => (Some(user), phc),
        // Unknown user or no password: spend the same effort as a real check.
        _ => (None, String::new()),
    };
    let params = state.password_params.clone();
    let password = req.password;
    let ok = tokio::task::spawn_blocking(move || {
        if phc.is_empty() {
            let _ = auth::hash_password(&password, &params);
            false
        } else {
            auth::verify_password(&password, &phc)
        }
    })
    .await
    .map_err(|_| ApiError::internal())?;
    let user = match (ok, user) {
        (true, Some(user)) => user,
        _ => {
            state.login_limiter.record_failure(&req.username, now);
            tracing::info!("login failed");
            return Err(bad_credentials());
        }
    };
    state.login_limiter.reset(&req.username);
    if state.store.user_disabled(user.id).await? == Some(true) {
        state
            .store
            .audit(Some(user.id), "login.disabled", Some(&user.id.to_string()))
            .await?;
        tracing::info!(user_id = %user.id, "login of a disabled user refused");
        return Err(ApiError::new(
            ProblemCode::AccountDisabled,
            "This account is disabled; ask your administrator or supervisor.",
            "Tài khoản này đã bị khoá; hãy liên hệ quản trị viên hoặc giám sát viên.",
        ));
    }
    let token = auth::new_token();
    state
        .store
        .create_session(
            &auth::secret_hash(&token),
            user.id,
            now + chrono::Duration::hours(SESSION_HOURS),
        )
        .await?;
    state
        .store
        .audit(Some(user.id), "session.login", Some(&user.id.to_string()))
        .await?;
    tracing::info!(user_id = %user.id, "login");
    Ok(Json(LoginResponse { token, user }))
}

/// `POST /api/v1/enrol` (anyone with a code): one-time code → device token (`401.2`). An
/// optional `public_key` (Ed25519, standard base64; `400.3` if invalid) is kept with the
/// device to verify its offline hand-over files.
///
/// Throttled: after 10 wrong codes within 15 minutes from one client IP address, or for one
/// code (from any address), further attempts get `429.1` until the window has passed, even
/// with a valid code. The code is keyed by its hash; neither key is logged.
pub async fn enrol(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<EnrolResponse>> {
    let req: EnrolRequest = read_json(&headers, body).await?;
    let now = state.clock.now();
    let ip_key = format!(
        "ip:{}",
        ip.map_or_else(|| "unknown".into(), |ip| ip.to_string())
    );
    let code = auth::normalise_code(&req.code);
    let code_key = format!("code:{}", auth::secret_hash(&code));
    let limiter = &state.enrol_limiter;
    if !limiter.allowed(&ip_key, now) || !limiter.allowed(&code_key, now) {
        tracing::info!("enrolment throttled");
        return Err(too_many_enrolments());
    }
    let refused = || {
        limiter.record_failure(&ip_key, now);
        limiter.record_failure(&code_key, now);
        tracing::info!("enrolment refused");
        bad_code()
    };
    let device_name = nfc(req.device_name.trim());
    let chars = device_name.chars().count();
    if chars == 0 || chars > MAX_DEVICE_NAME_CHARS {
        return Err(ApiError::invalid_input(
            format!("device_name must be 1 to {MAX_DEVICE_NAME_CHARS} characters."),
            format!("Tên thiết bị phải có từ 1 đến {MAX_DEVICE_NAME_CHARS} ký tự."),
        )
        .with_details(serde_json::json!({ "field": "device_name" })));
    }
    let public_key = match req.public_key.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(key) => {
            // Stored in canonical form: the 32 bytes re-encoded.
            let parsed = parse_public_key(key).map_err(|_| {
                ApiError::invalid_input(
                    "public_key must be an Ed25519 public key: 32 bytes in standard base64.",
                    "Khoá công khai của thiết bị không hợp lệ (Ed25519, 32 byte, base64).",
                )
                .with_details(serde_json::json!({ "field": "public_key" }))
            })?;
            Some(base64::engine::general_purpose::STANDARD.encode(parsed.as_bytes()))
        }
    };
    if code.len() != auth::CODE_LENGTH {
        return Err(refused());
    }
    let device_id = new_id();
    let token = auth::new_token();
    let user = state
        .store
        .redeem_enrolment_code_with_key(
            &auth::secret_hash(&code),
            device_id,
            &device_name,
            &auth::secret_hash(&token),
            public_key.as_deref(),
            now,
        )
        .await?
        .ok_or_else(refused)?;
    limiter.reset(&code_key);
    tracing::info!(user_id = %user.id, device_id = %device_id, "device enrolled");
    Ok(Json(EnrolResponse {
        device_id,
        token,
        user,
    }))
}

/// `GET /api/v1/me` (any signed-in user): who the token belongs to.
pub async fn me(caller: Caller) -> Json<UserInfo> {
    Json(caller.user)
}
