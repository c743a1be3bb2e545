//! Globus Groups SDK: emulator layer.

pub mod world;
