//! Placeholder so the root package has a test target.
#[test]
fn workspace_links() {
    assert_eq!(sipas_core::text::nfc("a"), "a");
}
