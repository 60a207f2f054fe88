//! Length-prefixed records.
