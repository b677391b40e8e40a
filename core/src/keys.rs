//! Key material (being written).
