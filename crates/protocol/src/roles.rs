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
}

impl Role {
    /// The stored / wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Surveyor => "surveyor",
            Role::Monitor => "monitor",
        }
    }

    /// Parses a stored / wire name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "supervisor" => Some(Role::Supervisor),
            "surveyor" => Some(Role::Surveyor),
            "monitor" => Some(Role::Monitor),
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
        }
    }
}
