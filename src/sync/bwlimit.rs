//! A shared bandwidth limit.
