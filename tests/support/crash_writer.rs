//! Child process for the crash test (stub: being written).
fn main() {}
