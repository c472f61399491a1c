//! The asset events, written with [`ottr_runtime::webhooks::enqueue`] in the transaction
//! that changes the asset: their data is read from the asset's row in that transaction.

use sqlx::PgConnection;
use uuid::Uuid;

/// Records `kind` (`asset.playable`, `asset.ready`, `asset.failed`, `asset.deleted`) for
/// the asset as it stands in this transaction; nothing when it has no row.
pub async fn asset(conn: &mut PgConnection, kind: &str, asset_id: Uuid) -> sqlx::Result<()> {
    let data: Option<sqlx::types::Json<serde_json::Value>> = sqlx::query_scalar(
        "SELECT jsonb_strip_nulls(jsonb_build_object(
            'asset_id', a.id, 'filename', a.filename, 'state', a.state,
            'duration_secs', (a.source->>'duration_secs')::double precision,
            'error_code', a.error_code, 'error_message', a.error_message,
            'created_by', a.created_by))
         FROM media.assets a WHERE a.id = $1",
    )
    .bind(asset_id)
    .fetch_optional(&mut *conn)
    .await?;
    match data {
        Some(data) => ottr_runtime::webhooks::enqueue(conn, kind, data.0).await,
        None => Ok(()),
    }
}
