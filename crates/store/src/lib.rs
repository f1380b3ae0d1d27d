//! SIPAS Field local store (stub: being written).
#![forbid(unsafe_code)]
