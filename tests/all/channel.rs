//! Tests of the channel layer.
