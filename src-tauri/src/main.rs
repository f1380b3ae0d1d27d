//! SIPAS Field desktop app entry point.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]
#![forbid(unsafe_code)]

fn main() {
    sipas_field_lib::run();
}
