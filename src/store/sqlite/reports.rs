//! SQLite's report tables: the recorder's batches and ratings written inside the writer's
//! transaction, the reports' reads from the pool. The functions and their SQL are
//! `report_log`'s, shared with PostgreSQL.

use super::super::StoreError;
use super::super::report_log::*;

report_functions!(
    sqlx::sqlite::SqliteConnection,
    sqlx::sqlite::SqlitePool,
    SQLITE_PACKING
);
