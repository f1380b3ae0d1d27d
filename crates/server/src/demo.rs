//! Demo seeding (`sipas-server --demo`) and admin bootstrap (`--bootstrap-admin`).
//!
//! The demo creates one user per role with a random password (supervisor, surveyor and
//! monitor scoped to the demo province, Hà Nội `01`; admin and ministry unscoped), a round
//! using `sipas-6-groups@2026.1` covering `01`, demo agencies in Hà Nội and a few invented
//! sample rows with catalogue codes (units, agencies, procedures) assigned to the surveyor,
//! and a fresh
//! enrolment code for the surveyor's device. Running it again keeps what exists (passwords
//! unchanged) and issues a new code.
use crate::app::AppState;
use crate::auth;
use crate::handlers::users::{CreateUserRequest, create_checked_user, issue_enrolment_code};
use crate::problem::ApiError;
use crate::storage::{CatalogueImport, RoundPlan, SampleRow, ScopeCodes, StoreError};
use chrono::NaiveDate;
use sipas_core::catalogue::{Agency, AgencyKind, SampleCodes};
use sipas_core::questionnaire::FormKey;
use sipas_core::response::new_id;
use sipas_protocol::roles::Role;
use sipas_protocol::wire::{Contact, EnrolmentCode, Round, UserInfo};

/// Unit code of the demo province (Thành phố Hà Nội in the unit seed): the scope of the
/// demo supervisor, surveyor and monitor, and the unit the demo round covers.
pub const DEMO_PROVINCE: &str = "01";

/// Id of the demo round.
pub const DEMO_ROUND_ID: &str = "DEMO-2026";

/// Seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A request-level check failed.
    #[error("{0}")]
    Api(#[from] ApiError),
}

/// A demo user and, when created now, its password.
#[derive(Debug, Clone)]
pub struct DemoUser {
    /// The user.
    pub user: UserInfo,
    /// Password, if the user was created by this run.
    pub password: Option<String>,
}

/// What the demo seeding did.
#[derive(Debug, Clone)]
pub struct DemoInfo {
    /// One user per role.
    pub users: Vec<DemoUser>,
    /// The demo round.
    pub round_id: String,
    /// Sample rows imported by this run (0 when the round existed).
    pub imported: u64,
    /// A fresh enrolment code for the surveyor's device.
    pub enrolment_code: EnrolmentCode,
}

fn demo_password() -> String {
    auth::new_token()[..16].to_string()
}

/// Creates `username` with `role` and `password` unless it exists; returns the user and
/// whether it was created.
pub async fn ensure_user(
    state: &AppState,
    username: &str,
    display_name: &str,
    role: Role,
    password: &str,
) -> Result<(UserInfo, bool), SeedError> {
    ensure_user_in(state, username, display_name, role, password, None).await
}

/// [`ensure_user`] with a scope for a new user (`None`: the whole server).
pub async fn ensure_user_in(
    state: &AppState,
    username: &str,
    display_name: &str,
    role: Role,
    password: &str,
    scope: Option<ScopeCodes>,
) -> Result<(UserInfo, bool), SeedError> {
    let username = crate::handlers::users::canonical_username(username);
    if let Some((user, _)) = state.store.user_by_username(&username).await? {
        return Ok((user, false));
    }
    let created = create_checked_user(
        state,
        CreateUserRequest {
            username: username.clone(),
            display_name: display_name.to_owned(),
            role,
            password: Some(password.to_owned()),
            scope,
        },
        None,
    )
    .await;
    match created {
        Ok(user) => Ok((user, true)),
        // Several servers starting at once on one database (issue 14): another one may have
        // created the user meanwhile.
        Err(e) => match state.store.user_by_username(&username).await? {
            Some((user, _)) => Ok((user, false)),
            None => Err(e.into()),
        },
    }
}

/// Demo agencies of several kinds in Hà Nội (province 01 of the unit seed) and its wards
/// 95001-95003 (invented codes, see `schemas/units/vn-units-seed.json`).
pub fn demo_agencies() -> Vec<Agency> {
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    [
        (
            "HN-UBND-BADINH",
            "UBND phường Ba Đình",
            AgencyKind::UbndXa,
            "95001",
            day(2025, 7, 1),
        ),
        (
            "HN-MC-BADINH",
            "Bộ phận Một cửa phường Ba Đình",
            AgencyKind::MotCua,
            "95001",
            day(2025, 7, 1),
        ),
        (
            "HN-SO-TNMT",
            "Sở Tài nguyên và Môi trường Hà Nội",
            AgencyKind::SoBanNganh,
            "01",
            day(2020, 1, 1),
        ),
        (
            "HN-TYT-HONGHA",
            "Trạm Y tế phường Hồng Hà",
            AgencyKind::YTe,
            "95002",
            day(2025, 7, 1),
        ),
        (
            "HN-THCS-NGOCHA",
            "Trường THCS Ngọc Hà",
            AgencyKind::GiaoDuc,
            "95003",
            day(2025, 7, 1),
        ),
    ]
    .into_iter()
    .map(|(code, name, kind, unit, from)| Agency {
        code: code.into(),
        name: name.into(),
        kind,
        unit_code: unit.into(),
        valid_from: from,
        valid_to: None,
    })
    .collect()
}

/// Seeds the demo (see the module documentation).
pub async fn seed_demo(state: &AppState) -> Result<DemoInfo, SeedError> {
    let specs = [
        ("admin", "Quản trị hệ thống", Role::Admin),
        ("supervisor", "Giám sát viên Hoàn Kiếm", Role::Supervisor),
        (
            "surveyor",
            "Điều tra viên Bưu điện Hoàn Kiếm",
            Role::Surveyor,
        ),
        ("monitor", "Phúc tra viên MTTQ", Role::Monitor),
        ("ministry", "Bộ Nội vụ (xem chỉ số)", Role::Ministry),
    ];
    let mut users = Vec::new();
    for (username, display_name, role) in specs {
        let password = demo_password();
        // The admin and the ministry see the whole server; the others work in the demo
        // province (Hà Nội, 01).
        let scope = (!matches!(role, Role::Admin | Role::Ministry)).then(|| ScopeCodes {
            units: vec![DEMO_PROVINCE.to_owned()],
            agencies: Vec::new(),
        });
        let (user, created) =
            ensure_user_in(state, username, display_name, role, &password, scope).await?;
        users.push(DemoUser {
            user,
            password: created.then_some(password),
        });
    }
    let supervisor = users[1].user.id;
    let surveyor = users[2].user.id;

    let mut imported = 0;
    if state.store.round(DEMO_ROUND_ID).await?.is_none() {
        let round = Round {
            id: DEMO_ROUND_ID.into(),
            name: "Khảo sát thử SIPAS 2026".into(),
            form: FormKey {
                form_id: "sipas-6-groups".into(),
                version: "2026.1".into(),
            },
            starts_on: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(),
            // A year from today at least: the demo's self-completion links screen a visit
            // of today against the round's end.
            ends_on: NaiveDate::from_ymd_opt(2026, 12, 31)
                .unwrap_or_default()
                .max(state.clock.now().date_naive() + chrono::Days::new(365)),
            outside_sample: Default::default(),
        };
        let plan = RoundPlan {
            units: vec![DEMO_PROVINCE.to_owned()],
            ..RoundPlan::default()
        };
        state
            .store
            .create_planned_round(&round, &plan, supervisor)
            .await?;
        let round = state.store.round(DEMO_ROUND_ID).await?.unwrap_or(round);
        // Invented people and addresses: demo data only. Units are wards of Hà Nội (01) in
        // the unit seed; agencies are the demo agencies below; procedures from the field seed.
        crate::catalogue::seed_if_empty(state.store.as_ref()).await?;
        state
            .store
            .import_catalogues(&[CatalogueImport::Agencies(demo_agencies())], None)
            .await?;
        let catalogues = state.store.catalogues().await?;
        let mut rows: Vec<SampleRow> = Vec::new();
        for (unit, agency, procedure, name, address) in [
            (
                "95001",
                "HN-MC-BADINH",
                "ho_tich.khai_sinh",
                "Nguyễn Văn An",
                "Số 1 phố Demo",
            ),
            (
                "95001",
                "HN-UBND-BADINH",
                "tu_phap.chung_thuc",
                "Trần Thị Bình",
                "Số 2 phố Demo",
            ),
            (
                "95002",
                "HN-SO-TNMT",
                "dat_dai.cap_gcn",
                "Lê Văn Cường",
                "Số 3 phố Demo",
            ),
            (
                "95002",
                "HN-TYT-HONGHA",
                "y_te.kham_bhyt",
                "Phạm Thị Dung",
                "Số 4 phố Demo",
            ),
            (
                "95003",
                "HN-THCS-NGOCHA",
                "giao_duc.tuyen_sinh_lop1",
                "Hoàng Văn Em",
                "Số 5 phố Demo",
            ),
        ] {
            let codes = SampleCodes {
                unit_code: unit.into(),
                agency_code: Some(agency.into()),
                field_code: None,
                procedure_code: Some(procedure.into()),
            };
            let names = catalogues
                .resolve(&codes, round.starts_on)
                .map_err(|issues| {
                    StoreError::Backend(format!(
                        "demo sample row does not match the catalogues: {}",
                        issues
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; ")
                    ))
                })?;
            rows.push(SampleRow {
                id: new_id(),
                unit_code: unit.into(),
                procedure: names.procedure_name.unwrap_or_default(),
                agency: names.agency_name,
                contact: Contact {
                    name: name.into(),
                    address: address.into(),
                    phone: None,
                },
                unit_name: Some(names.unit_name),
                agency_code: codes.agency_code,
                field_code: names.field_code,
                field_name: names.field_name,
                procedure_code: codes.procedure_code,
            });
        }
        imported = state
            .store
            .import_sample(DEMO_ROUND_ID, &rows, supervisor)
            .await?;
        let ids: Vec<_> = rows.iter().map(|r| r.id).collect();
        state.store.assign(&ids, surveyor, supervisor).await?;
    }
    // Issued by the supervisor of the surveyor's province (the audit entry's actor).
    let enrolment_code = issue_enrolment_code(state, surveyor, 60, supervisor).await?;
    Ok(DemoInfo {
        users,
        round_id: DEMO_ROUND_ID.into(),
        imported,
        enrolment_code,
    })
}
