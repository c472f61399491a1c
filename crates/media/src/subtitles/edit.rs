//! Subtitle and caption tracks added, replaced and removed on a ready asset, without
//! touching its video. Each edit holds the asset's row lock, so two editors cannot lose
//! each other's track; a replaced track gets a new folder, and the master playlist is
//! rewritten in one write, so a player that loaded the previous master keeps finding the
//! files it names. Removed and replaced files stay until the asset itself goes.
//!
//! The row and the master change together: the new list is written in the transaction,
//! the master after it, and the old master is put back if the commit fails. An edit runs to
//! its end on its own task, so a caller that goes away cannot leave the two apart.

use sqlx::types::Json;
use uuid::Uuid;

use super::{Cue, parse, store_track};
use crate::{
    MediaError,
    pipeline::Context,
    probe::SourceInfo,
    transcode::{
        playlist,
        tracks::{self, SubtitleKind, SubtitleTrack, Tracks},
    },
};

/// Tracks one asset may carry, from its source and uploaded together.
pub const MAX_TRACKS: usize = 32;

/// A track as an editor describes it.
pub struct NewTrack {
    pub language: String,
    pub label: String,
    pub kind: String,
    pub forced: bool,
    pub content: Vec<u8>,
}

impl NewTrack {
    fn kind(&self) -> Result<SubtitleKind, MediaError> {
        match self.kind.as_str() {
            "" | "subtitles" => Ok(SubtitleKind::Subtitles),
            "captions" => Ok(SubtitleKind::Captions),
            _ => Err(MediaError::Invalid { field: "kind", message: "must be subtitles or captions".into() }),
        }
    }

    /// The track as it will be listed, in a new folder of its own.
    fn described(&self, id: String) -> Result<SubtitleTrack, MediaError> {
        let (language, name) = tracks::language(&self.language);
        if language.is_empty() {
            let message = "a language tag is required (en, fra, pt-BR)".into();
            return Err(MediaError::Invalid { field: "language", message });
        }
        Ok(SubtitleTrack {
            folder: format!("subs_{id}_{}", short_id()),
            label: tracks::label(Some(&self.label), name, language.clone()),
            id,
            language,
            kind: self.kind()?,
            forced: self.forced,
            source_index: None,
        })
    }
}

/// What an edit changes in the list of tracks.
enum Change {
    Put { replace: Option<String>, track: NewTrack, cues: Vec<Cue> },
    Remove(String),
}

/// Adds a track, or replaces `replace`; returns the track's id.
pub async fn put(
    ctx: &Context,
    asset_id: Uuid,
    replace: Option<String>,
    track: NewTrack,
) -> Result<String, MediaError> {
    // The file is read before any lock is taken: a bad one costs nothing else.
    let cues = parse(&track.content)?;
    run(ctx, asset_id, Change::Put { replace, track, cues }).await
}

pub async fn remove(ctx: &Context, asset_id: Uuid, track_id: String) -> Result<(), MediaError> {
    run(ctx, asset_id, Change::Remove(track_id)).await.map(drop)
}

fn short_id() -> String {
    Uuid::new_v4().simple().to_string()[..8].to_owned()
}

async fn run(ctx: &Context, asset_id: Uuid, change: Change) -> Result<String, MediaError> {
    let ctx = ctx.clone();
    tokio::spawn(async move { edit(&ctx, asset_id, change).await }).await.map_err(MediaError::Task)?
}

/// An asset's state, master key, tracks and source, as the edit reads them under its lock.
type LockedAsset = (String, Option<String>, Json<Tracks>, Json<SourceInfo>);

async fn edit(ctx: &Context, asset_id: Uuid, change: Change) -> Result<String, MediaError> {
    let mut tx = ctx.pool.begin().await?;
    let row: Option<LockedAsset> =
        sqlx::query_as("SELECT state, master_key, tracks, source FROM media.assets WHERE id = $1 FOR UPDATE")
            .bind(asset_id)
            .fetch_optional(&mut *tx)
            .await?;
    let (state, master_key, Json(mut tracks), Json(source)) = row.ok_or(MediaError::NotFound("asset"))?;
    let master_key = master_key.filter(|_| state == "ready").ok_or(MediaError::NotReady)?;
    let prefix = master_key.strip_suffix("master.m3u8").ok_or(MediaError::NotReady)?.to_owned();
    let position =
        |id: &str| tracks.subtitles.iter().position(|t| t.id == id).ok_or(MediaError::NotFound("subtitle track"));
    let id = match change {
        Change::Put { replace: Some(id), track, cues } => {
            let at = position(&id)?;
            let replaced = track.described(id.clone())?;
            store_track(&ctx.store, &prefix, &replaced.folder, &cues, source.duration_secs).await?;
            // In its place, so menus keep their order.
            tracks.subtitles[at] = replaced;
            id
        }
        Change::Put { replace: None, .. } if tracks.subtitles.len() >= MAX_TRACKS => {
            let message = format!("at most {MAX_TRACKS} tracks per asset");
            return Err(MediaError::Invalid { field: "track", message });
        }
        Change::Put { replace: None, track, cues } => {
            let added = track.described(format!("u{}", short_id()))?;
            store_track(&ctx.store, &prefix, &added.folder, &cues, source.duration_secs).await?;
            let id = added.id.clone();
            tracks.subtitles.push(added);
            id
        }
        Change::Remove(id) => {
            tracks.subtitles.remove(position(&id)?);
            id
        }
    };
    let before = ctx.store.get_bytes(&master_key).await?;
    let after = playlist::with_subtitles(&String::from_utf8_lossy(&before), &tracks.subtitles);
    sqlx::query("UPDATE media.assets SET tracks = $2 WHERE id = $1")
        .bind(asset_id)
        .bind(Json(&tracks))
        .execute(&mut *tx)
        .await?;
    ctx.store.put_bytes(&master_key, after.into_bytes()).await?;
    if let Err(error) = tx.commit().await {
        if let Err(restore) = ctx.store.put_bytes(&master_key, before).await {
            tracing::error!(%restore, %master_key, "the master could not be put back after a failed commit");
        }
        return Err(error.into());
    }
    Ok(id)
}
