//! How a response was collected (issue 15): by an interviewer (`capi`, including hand-over
//! files), by the respondent on a personal one-time link (`self_personal`) or on an agency's
//! open link / QR poster (`self_open`), and which of these a round's official figure counts.
use serde::{Deserialize, Serialize};

/// How a response was collected. Set by the server from the channel it came through, never
/// by the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// Interviewer's device (or a signed hand-over file).
    Capi,
    /// The sampled respondent on a personal one-time link.
    SelfPersonal,
    /// Anyone on an agency's open link (QR poster); not a sampled respondent.
    SelfOpen,
}

impl ResponseMode {
    /// Every mode, in display order.
    pub const ALL: [ResponseMode; 3] = [
        ResponseMode::Capi,
        ResponseMode::SelfPersonal,
        ResponseMode::SelfOpen,
    ];

    /// Stored / wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseMode::Capi => "capi",
            ResponseMode::SelfPersonal => "self_personal",
            ResponseMode::SelfOpen => "self_open",
        }
    }

    /// Parses a stored / wire name.
    pub fn parse(s: &str) -> Option<ResponseMode> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Vietnamese label.
    pub fn label_vi(self) -> &'static str {
        match self {
            ResponseMode::Capi => "Điều tra viên phỏng vấn",
            ResponseMode::SelfPersonal => "Tự trả lời (đường dẫn riêng)",
            ResponseMode::SelfOpen => "Tự trả lời (đường dẫn mở)",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            ResponseMode::Capi => "Interviewer",
            ResponseMode::SelfPersonal => "Self-completion (personal link)",
            ResponseMode::SelfOpen => "Self-completion (open link)",
        }
    }
}

/// The modes a round's official figure counts (`rounds.official_modes`). Default: the
/// interviewer and personal links (the sampled respondents); open-link answers are shown
/// in a separate panel only unless a round says otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OfficialModes(Vec<ResponseMode>);

impl Default for OfficialModes {
    fn default() -> Self {
        OfficialModes(vec![ResponseMode::Capi, ResponseMode::SelfPersonal])
    }
}

/// Why a list of official modes is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModesError {
    /// Empty list.
    #[error("at least one mode must count")]
    Empty,
    /// Unknown name.
    #[error("unknown mode {0:?}")]
    Unknown(String),
}

impl OfficialModes {
    /// From names; sorted, without repeats; at least one.
    pub fn new<S: AsRef<str>>(names: &[S]) -> Result<Self, ModesError> {
        let mut modes = Vec::new();
        for n in names {
            let m = ResponseMode::parse(n.as_ref())
                .ok_or_else(|| ModesError::Unknown(n.as_ref().into()))?;
            if !modes.contains(&m) {
                modes.push(m);
            }
        }
        if modes.is_empty() {
            return Err(ModesError::Empty);
        }
        modes.sort();
        Ok(OfficialModes(modes))
    }

    /// From the stored JSON text (an array of names); the default when absent or unreadable.
    pub fn from_json(text: Option<&str>) -> Self {
        text.and_then(|t| serde_json::from_str::<Vec<String>>(t).ok())
            .and_then(|v| Self::new(&v).ok())
            .unwrap_or_default()
    }

    /// The stored JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "[]".into())
    }

    /// Whether `mode` counts.
    pub fn counts(&self, mode: ResponseMode) -> bool {
        self.0.contains(&mode)
    }

    /// The modes.
    pub fn modes(&self) -> &[ResponseMode] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_default_counts_interviewer_and_personal() {
        for m in ResponseMode::ALL {
            assert_eq!(ResponseMode::parse(m.as_str()), Some(m));
        }
        assert_eq!(ResponseMode::parse("web"), None);
        let d = OfficialModes::default();
        assert!(d.counts(ResponseMode::Capi) && d.counts(ResponseMode::SelfPersonal));
        assert!(!d.counts(ResponseMode::SelfOpen));
        assert_eq!(d.to_json(), r#"["capi","self_personal"]"#);
    }

    #[test]
    fn official_modes_are_checked_and_normalised() {
        assert_eq!(OfficialModes::new::<&str>(&[]), Err(ModesError::Empty));
        assert_eq!(
            OfficialModes::new(&["capi", "x"]),
            Err(ModesError::Unknown("x".into()))
        );
        let m = OfficialModes::new(&["self_open", "capi", "capi"]).unwrap();
        assert_eq!(m.modes(), &[ResponseMode::Capi, ResponseMode::SelfOpen]);
        assert_eq!(
            OfficialModes::from_json(Some("nonsense")),
            OfficialModes::default()
        );
        assert_eq!(OfficialModes::from_json(Some(&m.to_json())), m);
    }
}
