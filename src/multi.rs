//! Fan-out writers and concatenating readers.
