//! Authentication and authorisation: bearer tokens, enrolment codes, passwords and roles.
//!
//! * Tokens are 32 random bytes, base64url without padding. Codes are 10 characters of an
//!   alphabet without look-alikes (no `0 O 1 I L`). The server stores only the SHA-256 hex of
//!   either, so a copy of the database gives no working credential.
//! * Passwords are Argon2id PHC strings.
//! * [`Caller`] extracts the authenticated user from `Authorization: Bearer …` (`401.1`);
//!   [`require`] admits only the listed roles (`403.1`).
use crate::app::AppState;
use crate::problem::{ApiError, ApiResult};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;
use sha2::{Digest, Sha256};
use sipas_protocol::problem::ProblemCode;
use sipas_protocol::roles::{Capability, Role};
use sipas_protocol::wire::UserInfo;
use uuid::Uuid;

/// Characters of enrolment codes: digits and capitals without `0 O 1 I L`.
pub const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Length of an enrolment code.
pub const CODE_LENGTH: usize = 10;

/// Hex SHA-256 of a token or code: the only form in which the server stores them.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new bearer token: 32 random bytes, base64url without padding.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A new one-time enrolment code of [`CODE_LENGTH`] characters of [`CODE_ALPHABET`].
pub fn new_enrolment_code() -> String {
    let n = CODE_ALPHABET.len();
    // Rejection sampling keeps every character equally likely.
    let accept_below = (256 / n * n) as u8;
    let mut code = String::with_capacity(CODE_LENGTH);
    while code.len() < CODE_LENGTH {
        let bytes: [u8; 16] = rand::random();
        for b in bytes {
            if b < accept_below && code.len() < CODE_LENGTH {
                code.push(CODE_ALPHABET[usize::from(b) % n] as char);
            }
        }
    }
    code
}

/// A code as typed by a person, in canonical form: capitals, without spaces or dashes.
pub fn normalise_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// Hashing a password failed (bad parameters; never the password's fault).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct PasswordError(String);

/// Default Argon2id parameters (OWASP: 19 MiB, 2 passes, 1 lane).
pub fn default_password_params() -> Params {
    Params::default()
}

/// Hashes `password` with Argon2id and `params` into a PHC string.
pub fn hash_password(password: &str, params: &Params) -> Result<String, PasswordError> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| PasswordError(e.to_string()))?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError(e.to_string()))
}

/// Whether `password` matches the PHC string `phc` (parameters are read from `phc`).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The bearer token of `Authorization: Bearer …`, if present and not empty.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty())
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The user.
    pub user: UserInfo,
    /// The enrolled device, when the token is a device token.
    pub device_id: Option<Uuid>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let token = bearer_token(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        let now = state.clock.now();
        let (user, device_id) = state
            .store
            .user_by_token_hash(&secret_hash(token), now)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        Ok(Caller { user, device_id })
    }
}

/// Admits the caller only if its role is one of `allowed`; otherwise `403.1`.
pub fn require(user: &UserInfo, allowed: &[Role]) -> ApiResult<()> {
    if allowed.contains(&user.role) {
        return Ok(());
    }
    let names: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
    Err(ApiError::new(
        ProblemCode::ForbiddenRole,
        format!(
            "Role {} may not do this; allowed: {}.",
            user.role.as_str(),
            names.join(", ")
        ),
        format!(
            "Vai trò {} không được phép thực hiện thao tác này.",
            user.role.label_vi()
        ),
    )
    .with_details(serde_json::json!({ "role": user.role, "allowed": allowed })))
}

/// Admits the caller only if its role has `capability` ([`Role::capabilities`]); otherwise
/// `403.1` naming the capability and the roles that have it. The one authorisation check of
/// every handler (scope is checked apart, in [`crate::scope`]).
pub fn require_cap(user: &UserInfo, capability: Capability) -> ApiResult<()> {
    require_any(user, &[capability])
}

/// Admits the caller if its role has any of `capabilities`; otherwise `403.1`.
pub fn require_any(user: &UserInfo, capabilities: &[Capability]) -> ApiResult<()> {
    if capabilities.iter().any(|c| user.role.can(*c)) {
        return Ok(());
    }
    let mut allowed: Vec<Role> = capabilities.iter().flat_map(|c| c.roles()).collect();
    allowed.sort();
    allowed.dedup();
    let names: Vec<&str> = capabilities.iter().map(|c| c.as_str()).collect();
    Err(ApiError::new(
        ProblemCode::ForbiddenRole,
        format!(
            "Role {} may not do this (needs {}).",
            user.role.as_str(),
            names.join(" or ")
        ),
        format!(
            "Vai trò {} không được phép thực hiện thao tác này.",
            user.role.label_vi()
        ),
    )
    .with_details(
        serde_json::json!({ "role": user.role, "capability": names, "allowed": allowed }),
    ))
}

/// `403.2`: the thing exists but is outside the caller's scope.
pub fn out_of_scope(message: &str, message_vi: &str) -> ApiError {
    ApiError::new(ProblemCode::OutOfScope, message, message_vi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_codes_have_the_promised_shape() {
        let t = new_token();
        assert_eq!(t.len(), 43);
        assert!(
            t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(new_token(), t);
        let c = new_enrolment_code();
        assert_eq!(c.len(), CODE_LENGTH);
        assert!(c.bytes().all(|b| CODE_ALPHABET.contains(&b)));
        assert_eq!(normalise_code(" abcde-fghjk "), "ABCDEFGHJK");
        assert_eq!(secret_hash("x").len(), 64);
    }

    #[test]
    fn passwords_verify_only_when_right() {
        let weak = Params::new(8, 1, 1, None).unwrap();
        let phc = hash_password("correct horse", &weak).unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("wrong", &phc));
        assert!(!verify_password("correct horse", "not a phc"));
    }

    #[test]
    fn require_lists_allowed_roles() {
        let user = UserInfo {
            id: Uuid::nil(),
            username: "u".into(),
            display_name: "U".into(),
            role: Role::Monitor,
        };
        assert!(require(&user, &[Role::Monitor]).is_ok());
        let err = require(&user, &[Role::Admin]).unwrap_err();
        assert_eq!(err.0.code, "403.1");
    }
}
