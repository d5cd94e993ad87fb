//! The bridge to external chat services: the Matrix application service against a real
//! Synapse.

mod matrix;
