//! Roles of SIPAS Field users.
use serde::{Deserialize, Serialize};

/// A user's role. Every API endpoint names the roles it admits; the rest get `403.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sets up users, rounds and units; sees the audit log.
    Admin,
    /// Plans a round: imports the sample frame, assigns surveyors, issues enrolment codes,
    /// reviews responses.
    Supervisor,
    /// Post-office (Bưu điện) surveyor: collects and submits responses for its own assignments.
    Surveyor,
    /// Fatherland Front (MTTQ) / Veterans' Association monitor: spot-checks (phúc tra).
    Monitor,
    /// Ministry of Home Affairs (Bộ Nội vụ): read-only aggregates (index, report) across its
    /// scope; never contacts, single responses, review, audit or users.
    Ministry,
}

impl Role {
    /// The stored / wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Surveyor => "surveyor",
            Role::Monitor => "monitor",
            Role::Ministry => "ministry",
        }
    }

    /// Parses a stored / wire name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "supervisor" => Some(Role::Supervisor),
            "surveyor" => Some(Role::Surveyor),
            "monitor" => Some(Role::Monitor),
            "ministry" => Some(Role::Ministry),
            _ => None,
        }
    }

    /// Vietnamese name shown in the UI.
    pub fn label_vi(self) -> &'static str {
        match self {
            Role::Admin => "Quản trị",
            Role::Supervisor => "Giám sát viên",
            Role::Surveyor => "Điều tra viên (Bưu điện)",
            Role::Monitor => "Phúc tra (MTTQ / Hội CCB)",
            Role::Ministry => "Bộ Nội vụ",
        }
    }

    /// Every role, in display order.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Supervisor,
        Role::Surveyor,
        Role::Monitor,
        Role::Ministry,
    ];

    /// What the role may do: the one list the server's checks and the dashboard's navigation
    /// use. Scope (which units and agencies) is checked apart from this.
    pub fn capabilities(self) -> &'static [Capability] {
        use Capability as C;
        match self {
            Role::Admin => &[
                C::RoundsRead,
                C::RoundsManage,
                C::SampleManage,
                C::AssignmentsManage,
                C::ProgressRead,
                C::UsersManage,
                C::DevicesManage,
                C::EnrolmentIssue,
                C::ReportsRead,
                C::IndexRead,
                C::AuditRead,
                C::CataloguesRead,
                C::CataloguesManage,
                // issue 11 (h-results)
                C::MicrodataRead,
                // issue 12 (h-formpub)
                C::FormsRead,
                C::FormsManage,
            ],
            Role::Supervisor => &[
                C::RoundsRead,
                C::RoundsManage,
                C::SampleManage,
                C::AssignmentsManage,
                C::ProgressRead,
                C::DevicesManage,
                C::EnrolmentIssue,
                C::Review,
                C::QuarantineManage,
                C::SpotChecksManage,
                C::ReportsRead,
                C::IndexRead,
                C::CataloguesRead,
                C::HandoverImport,
                // issue 11 (h-results)
                C::MicrodataRead,
                // issue 12 (h-formpub)
                C::FormsRead,
            ],
            Role::Surveyor => &[C::Collect, C::FormsRead],
            Role::Monitor => &[
                C::RoundsRead,
                C::SpotChecksDo,
                C::ReportsRead,
                C::IndexRead,
                C::CataloguesRead,
                // issue 12 (h-formpub)
                C::FormsRead,
            ],
            Role::Ministry => &[
                C::IndexRead,
                C::ReportsRead,
                C::RoundsRead,
                C::CataloguesRead,
            ],
        }
    }

    /// Whether the role has `capability`.
    pub fn can(self, capability: Capability) -> bool {
        self.capabilities().contains(&capability)
    }
}

/// Something a role may do (wire names like `rounds.read`). See [`Role::capabilities`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Capability {
    /// List and read rounds.
    #[serde(rename = "rounds.read")]
    RoundsRead,
    /// Create, change and close rounds.
    #[serde(rename = "rounds.manage")]
    RoundsManage,
    /// Import a round's sample frame.
    #[serde(rename = "sample.manage")]
    SampleManage,
    /// List and (re)assign assignments.
    #[serde(rename = "assignments.manage")]
    AssignmentsManage,
    /// Read a round's progress.
    #[serde(rename = "progress.read")]
    ProgressRead,
    /// Create, change, disable users and reset their passwords.
    #[serde(rename = "users.manage")]
    UsersManage,
    /// List and revoke devices; disable / enable surveyors and monitors.
    #[serde(rename = "devices.manage")]
    DevicesManage,
    /// Issue enrolment codes for devices of surveyors and monitors.
    #[serde(rename = "enrolment.issue")]
    EnrolmentIssue,
    /// Review queue, single responses, decisions, voiding.
    #[serde(rename = "review")]
    Review,
    /// Quarantine: list, accept, dismiss.
    #[serde(rename = "quarantine.manage")]
    QuarantineManage,
    /// Draw, list and assign spot checks; read discrepancies.
    #[serde(rename = "spot_checks.manage")]
    SpotChecksManage,
    /// Do spot checks (the monitor's own tasks).
    #[serde(rename = "spot_checks.do")]
    SpotChecksDo,
    /// Read reports.
    #[serde(rename = "reports.read")]
    ReportsRead,
    /// Read the index.
    #[serde(rename = "index.read")]
    IndexRead,
    /// Read the audit log.
    #[serde(rename = "audit.read")]
    AuditRead,
    /// Read catalogues (units, agencies, fields, procedures).
    #[serde(rename = "catalogues.read")]
    CataloguesRead,
    /// Import catalogues.
    #[serde(rename = "catalogues.manage")]
    CataloguesManage,
    /// Import offline hand-over files.
    #[serde(rename = "handover.import")]
    HandoverImport,
    /// Collect: pull assignments, report statuses, upload responses (surveyors' devices).
    #[serde(rename = "collect")]
    Collect,
    /// Download response-level microdata (no contacts) of rounds in scope (issue 11).
    #[serde(rename = "microdata.read")]
    MicrodataRead,
    /// Read published questionnaires and download them to devices (issue 12).
    #[serde(rename = "forms.read")]
    FormsRead,
    /// Upload, publish, retire and delete questionnaire versions (issue 12).
    #[serde(rename = "forms.manage")]
    FormsManage,
}

impl Capability {
    /// The wire name, e.g. `rounds.read`.
    pub fn as_str(self) -> &'static str {
        use Capability as C;
        match self {
            C::RoundsRead => "rounds.read",
            C::RoundsManage => "rounds.manage",
            C::SampleManage => "sample.manage",
            C::AssignmentsManage => "assignments.manage",
            C::ProgressRead => "progress.read",
            C::UsersManage => "users.manage",
            C::DevicesManage => "devices.manage",
            C::EnrolmentIssue => "enrolment.issue",
            C::Review => "review",
            C::QuarantineManage => "quarantine.manage",
            C::SpotChecksManage => "spot_checks.manage",
            C::SpotChecksDo => "spot_checks.do",
            C::ReportsRead => "reports.read",
            C::IndexRead => "index.read",
            C::AuditRead => "audit.read",
            C::CataloguesRead => "catalogues.read",
            C::CataloguesManage => "catalogues.manage",
            C::HandoverImport => "handover.import",
            C::MicrodataRead => "microdata.read",
            C::Collect => "collect",
            C::FormsRead => "forms.read",
            C::FormsManage => "forms.manage",
        }
    }

    /// The roles that have this capability.
    pub fn roles(self) -> Vec<Role> {
        Role::ALL.into_iter().filter(|r| r.can(self)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_serde() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            for c in role.capabilities() {
                assert_eq!(
                    serde_json::to_value(c).unwrap(),
                    serde_json::json!(c.as_str())
                );
            }
        }
    }

    #[test]
    fn ministry_reads_aggregates_only_and_admins_do_not_review() {
        assert_eq!(
            Role::Ministry.capabilities(),
            &[
                Capability::IndexRead,
                Capability::ReportsRead,
                Capability::RoundsRead,
                Capability::CataloguesRead
            ]
        );
        assert!(!Role::Admin.can(Capability::Review));
        assert!(!Role::Admin.can(Capability::SpotChecksManage));
        assert!(Role::Supervisor.can(Capability::Review));
        assert_eq!(Capability::UsersManage.roles(), vec![Role::Admin]);
    }
}
