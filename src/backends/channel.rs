//! The in-process channel backend.
