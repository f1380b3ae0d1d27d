//! The application: shared state and the `/api/v1` router.
use crate::clock::{Clock, SystemClock};
use crate::forms::FormRegistry;
use crate::handlers;
use crate::problem::ApiError;
use crate::ratelimit::{FailureLimiter, Throttle};
use crate::storage::ServerStore;
use axum::Router;
use axum::routing::{get, post};
use sipas_protocol::problem::ProblemCode;
use std::sync::Arc;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

/// Default of `--min-n-floor`: reports never show a value with a base below 10.
pub const DEFAULT_MIN_N_FLOOR: usize = 10;

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    /// Storage backend.
    pub store: Arc<dyn ServerStore>,
    /// Known questionnaires by form key.
    pub forms: Arc<FormRegistry>,
    /// Source of "now".
    pub clock: Arc<dyn Clock>,
    /// Argon2id parameters for new password hashes.
    pub password_params: argon2::Params,
    /// Failed-login throttle (per username), counted in the database.
    pub login_limiter: Arc<FailureLimiter>,
    /// Failed-enrolment throttle (per client IP address and per code tried), counted in the
    /// database.
    pub enrol_limiter: Arc<FailureLimiter>,
    /// When devices' sync times were last written.
    pub last_sync: Arc<crate::last_sync::LastSync>,
    /// Smallest `min_n` any report is shaped with (`--min-n-floor`); a lower `min_n` asked
    /// for is raised to it.
    pub min_n_floor: usize,
    /// GET index / report re-read every counted response (the reference engine path)
    /// instead of reading the answer counts ([`crate::answer_counts`]); for benchmarks.
    pub index_from_responses: bool,
    /// Whether the server itself serves HTTPS (enrolment QR codes then say `https://`).
    pub tls: bool,
    /// SHA-256 of a self-signed server certificate, given to devices at enrolment to pin.
    pub tls_fingerprint: Option<String>,
    /// The PIN-recovery public key sent to devices at enrolment (X25519, standard base64;
    /// issue 13). `None`: devices get none.
    pub recovery_public_key: Option<String>,
    /// The unit tree scope decisions use, with when it was loaded and the `units` version
    /// counter it was loaded at (see [`crate::scope::unit_tree`]).
    #[allow(clippy::type_complexity)]
    pub unit_tree_cache:
        Arc<std::sync::Mutex<Option<(std::time::Instant, i64, Arc<sipas_core::units::UnitTree>)>>>,
    /// The newest `units` version counter this process has read (see
    /// [`crate::shared_state`]).
    pub units_version: Arc<std::sync::atomic::AtomicI64>,
    /// Abuse limits of open self-completion links (issue 15).
    pub open_limits: crate::self_completion::OpenLimits,
}

impl AppState {
    /// State with the system clock, default password parameters, the login and enrolment
    /// throttles (see [`crate::ratelimit`]) and the default suppression floor.
    pub fn new(store: Arc<dyn ServerStore>, forms: FormRegistry) -> Self {
        AppState {
            forms: Arc::new(forms),
            clock: Arc::new(SystemClock),
            password_params: crate::auth::default_password_params(),
            login_limiter: Arc::new(FailureLimiter::new(Throttle::Login, store.clone())),
            enrol_limiter: Arc::new(FailureLimiter::new(Throttle::Enrol, store.clone())),
            last_sync: Arc::default(),
            min_n_floor: DEFAULT_MIN_N_FLOOR,
            index_from_responses: false,
            tls: false,
            tls_fingerprint: None,
            recovery_public_key: None,
            unit_tree_cache: Arc::default(),
            units_version: Arc::default(),
            store,
            open_limits: Default::default(),
        }
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("backend", &self.store.backend())
            .field("forms", &self.forms.keys().len())
            .finish_non_exhaustive()
    }
}

/// The HTTP API under `/api/v1` (see the handler modules for each endpoint's roles).
pub fn router(state: AppState) -> Router {
    use handlers::{
        audit, handover, index, quarantine, reports, review, revocation, rounds, session,
        spot_checks, sync, users,
    };
    use handlers::{catalogues, sample};
    let api = Router::new()
        .route("/login", post(session::login))
        .route("/enrol", post(session::enrol))
        .route("/me", get(session::me))
        .route("/users", post(users::create_user).get(users::list_users))
        .route("/users/{id}", axum::routing::patch(users::update_user))
        .route("/users/{id}/password", post(users::reset_password))
        // --- published forms (issue 12, h-formpub) ---
        .route("/forms", get(handlers::forms::list_forms))
        .route("/forms/drafts", post(handlers::forms::upload))
        .route(
            "/forms/{form_id}/{version}",
            get(handlers::forms::get_form).delete(handlers::forms::delete_draft),
        )
        .route(
            "/forms/{form_id}/{version}/xlsx",
            get(handlers::forms::get_xlsx),
        )
        .route(
            "/forms/{form_id}/{version}/publish",
            post(handlers::forms::publish),
        )
        .route(
            "/forms/{form_id}/{version}/retire",
            post(handlers::forms::retire),
        )
        .route(
            "/rounds/{id}/catalogue-bundle",
            get(handlers::forms::catalogue_bundle),
        )
        .route(
            "/rounds/{id}",
            get(rounds::get_round).patch(rounds::update_round),
        )
        .route("/rounds/{id}/close", post(rounds::close_round))
        .route("/rounds/{id}/assignments", get(rounds::list_assignments))
        .route("/enrolment-codes", post(users::create_enrolment_code))
        .route(
            "/rounds",
            post(rounds::create_round).get(rounds::list_rounds),
        )
        // --- catalogues and sample frame (issue 10, h-cat) ---
        .route("/rounds/{id}/sample", post(sample::import_sample))
        .route(
            "/rounds/{id}/sample-template.xlsx",
            get(sample::sample_template),
        )
        .route("/units", get(catalogues::list_units))
        .route("/agencies", get(catalogues::list_agencies))
        .route("/fields", get(catalogues::list_fields))
        .route("/procedures", get(catalogues::list_procedures))
        .route("/units/import", post(catalogues::import_units))
        .route("/agencies/import", post(catalogues::import_agencies))
        .route("/fields/import", post(catalogues::import_fields))
        .route("/procedures/import", post(catalogues::import_procedures))
        .route("/rounds/{id}/assign", post(rounds::assign))
        .route("/rounds/{id}/progress", get(rounds::progress))
        .route("/rounds/{id}/index", get(index::round_index))
        .route("/rounds/{id}/report", get(reports::round_report))
        // --- published results (issue 11, h-results) ---
        .route(
            "/rounds/{id}/results",
            get(handlers::results::round_results),
        )
        .route(
            "/rounds/{id}/targets",
            get(handlers::results::get_targets).put(handlers::results::put_targets),
        )
        .route("/rounds/{id}/microdata", get(handlers::results::microdata))
        .route(
            "/rounds/{id}/spot-checks",
            post(spot_checks::draw).get(spot_checks::list),
        )
        .route(
            "/rounds/{id}/discrepancies",
            get(spot_checks::discrepancies),
        )
        .route("/spot-checks/{id}/assign", post(spot_checks::assign))
        .route("/monitor/tasks", get(spot_checks::monitor_tasks))
        .route(
            "/monitor/tasks/{id}/result",
            post(spot_checks::submit_result),
        )
        .route("/review/queue", get(review::queue))
        .route("/handover", post(handover::import))
        .route("/pull", get(sync::pull))
        .route("/assignments/{id}/status", post(sync::set_status))
        .route("/responses/batch", post(sync::upload_batch))
        .route("/responses/{id}/void", post(quarantine::void))
        .route("/responses/{id}/{revision}", get(review::response_detail))
        .route("/quarantine", get(quarantine::list))
        .route("/quarantine/{id}/accept", post(quarantine::accept))
        .route("/quarantine/{id}/dismiss", post(quarantine::dismiss))
        .route("/responses/{id}/{revision}/decision", post(review::decide))
        .route("/audit", get(audit::entries))
        .route("/logout", post(revocation::logout))
        .route("/users/{id}/disable", post(revocation::disable_user))
        .route("/users/{id}/enable", post(revocation::enable_user))
        .route("/devices", get(revocation::list_devices))
        .route("/devices/{id}/revoke", post(revocation::revoke_device))
        // --- self-completion (issue 15, h-self) ---
        .route(
            "/rounds/{id}/self-links",
            post(handlers::self_links::create_self_links)
                .get(handlers::self_links::list_self_links),
        )
        .route(
            "/self-links/{code}/revoke",
            post(handlers::self_links::revoke_self_link),
        )
        .route(
            "/rounds/{id}/open-links",
            post(handlers::self_links::create_open_link).get(handlers::self_links::list_open_links),
        )
        .route(
            "/open-links/{token}/revoke",
            post(handlers::self_links::revoke_open_link),
        )
        .route(
            "/rounds/{id}/official-modes",
            get(handlers::self_links::get_official_modes)
                .put(handlers::self_links::put_official_modes),
        )
        // Several processes on one database: caches follow the database's version counters.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::shared_state::refresh_caches,
        ));
    Router::new()
        .nest(sipas_protocol::API_PREFIX, api)
        // The web dashboard (static, embedded): /dashboard/, and / redirects there.
        .merge(crate::dashboard::routes())
        // The public self-completion page and its endpoints (issue 15): no sign-in.
        .merge(
            crate::public_page::routes().layer(axum::middleware::from_fn_with_state(
                state.clone(),
                crate::shared_state::refresh_caches,
            )),
        )
        .fallback(not_found)
        // Problem bodies, OPTIONS and no-store for every /api/v1 answer.
        .layer(axum::middleware::from_fn(crate::hygiene::api_answers))
        // Request lines carry method, path (ids only) and status; never headers or bodies.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<axum::body::Body>| {
                    // Self-completion codes and tokens are secrets in the path: masked.
                    let path = crate::public_page::loggable_path(req.uri().path());
                    tracing::info_span!(
                        "request",
                        method = %req.method(),
                        uri = %path,
                        version = ?req.version(),
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(
        ProblemCode::NotFound,
        "No such endpoint.",
        "Không có địa chỉ này.",
    )
}
