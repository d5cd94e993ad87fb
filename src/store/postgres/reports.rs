//! PostgreSQL's report tables: the recorder's batches and ratings written in their own
//! transactions, the reports' reads from the pool. The functions and their SQL are
//! `report_log`'s, shared with SQLite.

use super::super::StoreError;
use super::super::report_log::*;

report_functions!(
    sqlx::postgres::PgConnection,
    sqlx::postgres::PgPool,
    POSTGRES_PACKING
);
