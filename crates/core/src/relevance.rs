//! Skip logic: evaluating relevance conditions against answers (stub: being written).
