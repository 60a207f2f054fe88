//! (Being written: issue 12.)
