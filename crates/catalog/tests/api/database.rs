//! A database that goes away mid-request (restart, failover) is told apart from a bug:
//! the call answers `unavailable` (503), which clients retry, not `internal`.

use ottr_catalog::CatalogError;
use ottr_runtime::{ErrorCode, ServiceError};
use sqlx::PgPool;

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_connection_the_server_ends_is_unavailable_not_internal(pool: PgPool) {
    // The server ends this session as `pg_ctl stop -m fast` ends every session (57P01).
    let ended = sqlx::query("SELECT pg_terminate_backend(pg_backend_pid())").execute(&pool).await.unwrap_err();
    assert_eq!(CatalogError::Database(ended).code(), ErrorCode::Unavailable);

    let reset = sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into());
    assert_eq!(CatalogError::Database(reset).code(), ErrorCode::Unavailable);
    assert_eq!(CatalogError::Database(sqlx::Error::PoolTimedOut).code(), ErrorCode::Unavailable);

    // A query that is simply wrong stays our fault.
    let wrong = sqlx::query("SELECT no_such_column FROM catalog.titles").execute(&pool).await.unwrap_err();
    assert_eq!(CatalogError::Database(wrong).code(), ErrorCode::Internal);
}
