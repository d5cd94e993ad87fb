//! The storage backends: the shared conformance suite, backend-specific checks and the upgrade
//! of databases made by earlier releases.

mod conformance;
mod migration;
pub mod postgres;
mod sqlite;
