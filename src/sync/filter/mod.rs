//! rclone's filter rules.
