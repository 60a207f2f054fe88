//! Tests of the format layer.
