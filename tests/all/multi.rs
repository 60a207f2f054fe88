//! Tests of the multi layer.
