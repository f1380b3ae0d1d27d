//! SIPAS Field domain core.
//!
//! Pure domain logic shared by the surveyor app, the central server and the tests:
//! questionnaire definitions ([`questionnaire`]), loading and checking them ([`form_loader`]),
//! answers and their validation ([`answer`], [`answer_validation`], [`relevance`]),
//! the response record ([`response`]), the SIPAS index engine ([`index`]) and the
//! administrative-unit tree ([`units`]).
//!
//! Published results (issue 11), all read off the index engine: one suppression rule
//! ([`suppression`]), per-row figures with 95% Wilson intervals ([`figure`], [`interval`]),
//! breakdowns by unit / agency / agency kind / field / profile item ([`breakdown`]),
//! rankings ([`ranking`]), comparison with an earlier round ([`comparison`]), targets
//! ([`targets`]) and response-level microdata with a codebook and SPSS syntax
//! ([`microdata`]). Nothing in this crate touches files, sockets or clocks
//! except through values passed in, so it stays portable to mobile targets.
#![forbid(unsafe_code)]

pub mod answer;
pub mod answer_validation;
pub mod assignment_status;
pub mod breakdown;
pub mod builtin;
pub mod canonical;
pub mod catalogue;
pub mod comparison;
pub mod expr;
pub mod figure;
pub mod form_loader;
pub mod index;
pub mod interval;
pub mod microdata;
pub mod quality;
pub mod questionnaire;
pub mod ranking;
pub mod recheck;
pub mod relevance;
pub mod report;
pub mod response;
pub mod spot_check;
pub mod suppression;
pub mod targets;
pub mod text;
pub mod units;
