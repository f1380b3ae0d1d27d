//! Sessions: `POST /login` (password → session token), `POST /enrol` (one-time code →
//! device token) and `GET /me`.
use crate::app::AppState;
use crate::auth::{self, Caller};
use crate::extract::{ClientIp, read_json};
use crate::problem::{ApiError, ApiResult};
use crate::ratelimit::{EnrolKeys, LoginKeys};
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

fn too_many_logins() -> ApiError {
    ApiError::new(
        ProblemCode::RateLimited,
        "Too many failed sign-in attempts; wait 15 minutes and try again.",
        "Đăng nhập sai quá nhiều lần; vui lòng đợi 15 phút rồi thử lại.",
    )
}

/// `POST /api/v1/login` (anyone): username and password → session token (`401.3`; `401.4`
/// for a disabled account after the right password; `429.1`).
///
/// Throttled (see [`crate::ratelimit`]): the attempt is reserved before the password is
/// checked, per user name and client address (10 failures / 15 min lock that pair), per name
/// from everywhere (100, not applied where the user signed in lately) and per address (50).
/// Failures are audited `login.failed` (entity: the user's id, or none for an unknown name).
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<LoginResponse>> {
    let req: LoginRequest = read_json(&headers, body).await?;
    let now = state.clock.now();
    let username = super::users::canonical_username(&req.username);
    // Keyed by the name's hash: fixed-size keys whatever length was typed.
    let keys = LoginKeys::new(&auth::secret_hash(&username), ip);
    let limiter = &state.login_limiter;
    let known = limiter.is_known(&keys.known, now);
    let attempt = limiter
        .reserve(&keys.limits(known), now)
        .map_err(|_| too_many_logins())?;
    let found = state.store.user_by_username(&username).await?;
    let (user, phc) = match found {
        Some((user, Some(phc))) => (Some(user), phc),
        Some((user, None)) => (Some(user), String::new()),
        // Unknown user or no password: spend the same effort as a real check.
        None => (None, String::new()),
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
        (_, user) => {
            attempt.failed();
            let entity = user.map(|u| u.id.to_string());
            state
                .store
                .audit(None, "login.failed", entity.as_deref())
                .await?;
            tracing::info!("login failed");
            return Err(bad_credentials());
        }
    };
    attempt.succeeded(&[&keys.pair]);
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
    limiter.remember_known(&keys.known, now);
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
/// Throttled (see [`crate::ratelimit`]), the attempt reserved before the code is looked up:
/// after 10 wrong tries of one code (from any address) or 30 wrong codes from one client
/// address within 15 minutes, further attempts get `429.1` until the window has passed, even
/// with a valid code. The code is keyed by its hash; neither key is logged. Refusals are
/// audited `enrol.refused` (no entity; never the code).
pub async fn enrol(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<EnrolResponse>> {
    let req: EnrolRequest = read_json(&headers, body).await?;
    let now = state.clock.now();
    let code = auth::normalise_code(&req.code);
    let keys = EnrolKeys::new(&auth::secret_hash(&code), ip);
    let limiter = &state.enrol_limiter;
    let attempt = limiter.reserve(&keys.limits(), now).map_err(|_| {
        tracing::info!("enrolment throttled");
        too_many_enrolments()
    })?;
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
    let device_id = new_id();
    let token = auth::new_token();
    let user = if code.len() == auth::CODE_LENGTH {
        state
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
    } else {
        None
    };
    let Some(user) = user else {
        attempt.failed();
        state.store.audit(None, "enrol.refused", None).await?;
        tracing::info!("enrolment refused");
        return Err(bad_code());
    };
    attempt.succeeded(&[&keys.code]);
    tracing::info!(user_id = %user.id, device_id = %device_id, "device enrolled");
    Ok(Json(EnrolResponse {
        device_id,
        token,
        user,
        recovery_public_key: state.recovery_public_key.clone(),
    }))
}

/// Answer of `GET /me`: the user, its scope with names and its capabilities.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Me {
    /// The user.
    #[serde(flatten)]
    pub user: UserInfo,
    /// Its scope (no units: the whole server).
    pub scope: crate::scope::NamedScope,
    /// What its role may do ([`sipas_protocol::roles::Role::capabilities`]).
    pub capabilities: Vec<sipas_protocol::roles::Capability>,
}

/// `GET /api/v1/me` (any signed-in user): who the token belongs to, with scope (names) and
/// capabilities.
pub async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Me>> {
    let mine = crate::scope::of(&state, &caller).await?;
    let agencies = crate::scope::agency_names(&state).await?;
    Ok(Json(Me {
        scope: crate::scope::named(
            &mine.tree,
            &agencies,
            &mine.codes,
            crate::scope::today(&state),
        ),
        capabilities: caller.user.role.capabilities().to_vec(),
        user: caller.user,
    }))
}
