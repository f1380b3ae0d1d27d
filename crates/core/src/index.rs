//! The SIPAS index engine (stub: being written).
