//! Globus Groups SDK: manager layer.
