//! Unit tests of the rules engine.
