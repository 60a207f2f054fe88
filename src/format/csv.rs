//! CSV records on the csv crate.
