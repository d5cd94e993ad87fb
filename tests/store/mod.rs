//! The storage backends: the shared conformance suite and backend-specific checks.

mod conformance;
mod sqlite;
