//! Subtitle and caption tracks added, replaced and removed on a ready asset, without
//! touching its video. Each edit holds the asset's row lock, so two editors cannot lose
//! each other's track; a replaced track gets a new folder, and the master playlist is
//! rewritten in one write, so a player that loaded the previous master keeps finding the
//! files it names. Removed and replaced files stay until the asset itself goes.

use sqlx::types::Json;
use uuid::Uuid;

use super::{parse, store_track};
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
pub struct NewTrack<'a> {
    pub language: &'a str,
    pub label: &'a str,
    pub kind: &'a str,
    pub forced: bool,
    pub content: &'a [u8],
}

impl NewTrack<'_> {
    fn kind(&self) -> Result<SubtitleKind, MediaError> {
        match self.kind {
            "" | "subtitles" => Ok(SubtitleKind::Subtitles),
            "captions" => Ok(SubtitleKind::Captions),
            _ => Err(MediaError::Invalid { field: "kind", message: "must be subtitles or captions".into() }),
        }
    }
}

/// What an edit changes in the list of tracks.
enum Change<'a> {
    Put { replace: Option<&'a str>, track: NewTrack<'a> },
    Remove(&'a str),
}

/// Adds a track, or replaces `replace`; returns the track's id.
pub async fn put(
    ctx: &Context,
    asset_id: Uuid,
    replace: Option<&str>,
    track: NewTrack<'_>,
) -> Result<String, MediaError> {
    edit(ctx, asset_id, Change::Put { replace, track }).await
}

pub async fn remove(ctx: &Context, asset_id: Uuid, track_id: &str) -> Result<(), MediaError> {
    edit(ctx, asset_id, Change::Remove(track_id)).await.map(drop)
}

fn short_id() -> String {
    Uuid::new_v4().simple().to_string()[..8].to_owned()
}

async fn edit(ctx: &Context, asset_id: Uuid, change: Change<'_>) -> Result<String, MediaError> {
    // The file is read before any lock is taken: a bad one costs nothing else.
    let cues = match &change {
        Change::Put { track, .. } => Some(parse(track.content)?),
        Change::Remove(_) => None,
    };
    let mut tx = ctx.pool.begin().await?;
    let row: Option<(String, Option<String>, Json<Tracks>, Json<SourceInfo>)> =
        sqlx::query_as("SELECT state, master_key, tracks, source FROM media.assets WHERE id = $1 FOR UPDATE")
            .bind(asset_id)
            .fetch_optional(&mut *tx)
            .await?;
    let (state, master_key, Json(mut tracks), Json(source)) = row.ok_or(MediaError::NotFound("asset"))?;
    let master_key = master_key.filter(|_| state == "ready").ok_or(MediaError::NotReady)?;
    let prefix = master_key.strip_suffix("master.m3u8").ok_or(MediaError::NotReady)?.to_owned();
    let id = match change {
        Change::Put { replace, track } => {
            let id = match replace {
                Some(id) => {
                    let at = tracks
                        .subtitles
                        .iter()
                        .position(|t| t.id == id)
                        .ok_or(MediaError::NotFound("subtitle track"))?;
                    tracks.subtitles.remove(at);
                    id.to_owned()
                }
                None if tracks.subtitles.len() >= MAX_TRACKS => {
                    return Err(MediaError::Invalid {
                        field: "track",
                        message: format!("at most {MAX_TRACKS} tracks per asset"),
                    });
                }
                None => format!("u{}", short_id()),
            };
            let (language, name) = tracks::language(track.language);
            if language.is_empty() {
                return Err(MediaError::Invalid {
                    field: "language",
                    message: "a language tag is required (en, fra)".into(),
                });
            }
            let label = tracks::label(Some(track.label), name, language.clone());
            let added = SubtitleTrack {
                folder: format!("subs_{id}_{}", short_id()),
                id: id.clone(),
                language,
                label,
                kind: track.kind()?,
                forced: track.forced,
                source_index: None,
            };
            let cues = cues.unwrap_or_default();
            store_track(&ctx.store, &prefix, &added.folder, &cues, source.duration_secs).await?;
            tracks.subtitles.push(added);
            id
        }
        Change::Remove(id) => {
            let before = tracks.subtitles.len();
            tracks.subtitles.retain(|t| t.id != id);
            if tracks.subtitles.len() == before {
                return Err(MediaError::NotFound("subtitle track"));
            }
            id.to_owned()
        }
    };
    let master = String::from_utf8_lossy(&ctx.store.get_bytes(&master_key).await?).into_owned();
    ctx.store.put_bytes(&master_key, playlist::with_subtitles(&master, &tracks.subtitles).into_bytes()).await?;
    sqlx::query("UPDATE media.assets SET tracks = $2 WHERE id = $1")
        .bind(asset_id)
        .bind(Json(&tracks))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}
