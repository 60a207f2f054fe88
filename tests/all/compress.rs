//! Tests of the compress layer.
