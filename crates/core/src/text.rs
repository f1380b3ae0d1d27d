//! Text helpers: every piece of Vietnamese text entering the system is NFC-normalised.
use unicode_normalization::UnicodeNormalization;

/// Returns `s` in Unicode Normalization Form C (composed), the only form stored or compared.
///
/// Vietnamese keyboards and copy-paste produce both precomposed ("ệ") and decomposed
/// ("ê" + combining dot below) text; NFC makes them byte-identical.
pub fn nfc(s: &str) -> String {
    s.nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposed_vietnamese_becomes_precomposed() {
        let decomposed = "Vie\u{0302}\u{0323}t Nam"; // e + circumflex + dot below
        assert_eq!(nfc(decomposed), "Việt Nam");
        assert_eq!(nfc("Việt Nam").len(), "Việt Nam".len());
    }
}
