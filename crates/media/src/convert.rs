//! Domain types into their `ottr.media.v1` wire forms, in one place. Object keys go out
//! as they are: the edge signs playback URLs for them.

use ottr_proto::media::v1 as pb;

use crate::{
    MediaError,
    probe::SourceInfo,
    store::{
        assets::{AssetRow, AssetState},
        jobs::{Claim, JobState},
        uploads::{UploadRow, UploadState},
    },
    transcode::{
        ladder::Rung,
        tracks::{AudioRendition, Loudness, SubtitleTrack},
    },
};

impl From<&SourceInfo> for pb::SourceInfo {
    fn from(info: &SourceInfo) -> Self {
        pb::SourceInfo {
            container: info.container.clone(),
            duration_secs: info.duration_secs,
            width: info.width,
            height: info.height,
            rotation: info.rotation,
            frame_rate: info.frame_rate,
            video_codec: info.video_codec.clone(),
            audio_codec: info.audio_codec.clone().unwrap_or_default(),
            size_bytes: info.size_bytes,
        }
    }
}

impl From<&UploadRow> for pb::UploadSession {
    fn from(row: &UploadRow) -> Self {
        let complete = row.state == UploadState::Complete;
        pb::UploadSession {
            id: row.id.to_string(),
            length: row.length.unwrap_or(row.received).max(0) as u64,
            offset: row.received.max(0) as u64,
            filename: row.filename.clone(),
            expires_at: row.expires_at.unix_timestamp(),
            asset_id: if complete { row.asset_id.to_string() } else { String::new() },
            job_id: row.job_id.filter(|_| complete).map(|id| id.to_string()).unwrap_or_default(),
            key: String::new(),
        }
    }
}

impl From<AssetState> for pb::AssetState {
    fn from(state: AssetState) -> Self {
        match state {
            AssetState::Processing => pb::AssetState::Processing,
            AssetState::Ready => pb::AssetState::Ready,
            AssetState::Failed => pb::AssetState::Failed,
            AssetState::Cancelled => pb::AssetState::Cancelled,
        }
    }
}

/// The phase a job is in when no progress event was stored for it yet.
impl From<JobState> for pb::Phase {
    fn from(state: JobState) -> Self {
        match state {
            JobState::Queued => pb::Phase::Queued,
            JobState::Running => pb::Phase::Transcoding,
            JobState::Ready => pb::Phase::Ready,
            JobState::Failed => pb::Phase::Failed,
            JobState::Cancelled => pb::Phase::Cancelled,
        }
    }
}

impl From<Rung> for pb::Rendition {
    fn from(rung: Rung) -> Self {
        pb::Rendition {
            name: rung.name,
            width: rung.width,
            height: rung.height,
            video_bitrate_kbps: rung.video_kbps,
            bytes: rung.bytes.unwrap_or(0),
        }
    }
}

impl From<Loudness> for pb::Loudness {
    fn from(l: Loudness) -> Self {
        pb::Loudness {
            integrated_lufs: l.integrated_lufs,
            true_peak_dbtp: l.true_peak_dbtp,
            sample_peak_dbfs: l.sample_peak_dbfs,
            range_lu: l.range_lu,
        }
    }
}

impl From<AudioRendition> for pb::AudioTrack {
    fn from(a: AudioRendition) -> Self {
        pb::AudioTrack {
            name: a.name,
            language: a.language,
            label: a.label,
            channels: a.channels,
            default: a.default,
            measured: a.measured.map(pb::Loudness::from),
            result: a.result.map(pb::Loudness::from),
            bytes: a.bytes.unwrap_or(0),
        }
    }
}

impl From<SubtitleTrack> for pb::SubtitleTrack {
    fn from(s: SubtitleTrack) -> Self {
        pb::SubtitleTrack {
            origin: if s.source_index.is_some() { "source" } else { "upload" }.into(),
            id: s.id,
            language: s.language,
            label: s.label,
            kind: s.kind.as_str().into(),
            forced: s.forced,
        }
    }
}

impl From<AssetRow> for pb::Asset {
    fn from(row: AssetRow) -> Self {
        let tracks = row.tracks.0;
        let ladder_bytes: u64 = row.renditions.0.iter().filter_map(|r| r.bytes).sum::<u64>()
            + tracks.audio.iter().filter_map(|a| a.bytes).sum::<u64>();
        let hours = row.source.0.duration_secs / 3600.0;
        let job = crate::events::stored_event(
            row.job_id,
            row.id,
            row.job_state,
            row.job_progress.as_deref(),
            row.job_sequence,
        );
        let bytes_per_hour = if hours > 0.0 { (ladder_bytes as f64 / hours).round() as u64 } else { 0 };
        pb::Asset {
            id: row.id.to_string(),
            filename: row.filename,
            state: pb::AssetState::from(row.state) as i32,
            source: Some(pb::SourceInfo::from(&row.source.0)),
            job_id: row.job_id.to_string(),
            renditions: row.renditions.0.into_iter().map(pb::Rendition::from).collect(),
            master_playlist: row.master_key.unwrap_or_default(),
            poster: row.poster_key.unwrap_or_default(),
            storyboard: row.storyboard_key.unwrap_or_default(),
            error_code: row.error_code.unwrap_or_default(),
            error_message: row.error_message.unwrap_or_default(),
            created_at: row.created_at.unix_timestamp(),
            ready_at: row.ready_at.map_or(0, |t| t.unix_timestamp()),
            audio_tracks: tracks.audio.into_iter().map(pb::AudioTrack::from).collect(),
            subtitle_tracks: tracks.subtitles.into_iter().map(pb::SubtitleTrack::from).collect(),
            notes: tracks.notes,
            deinterlaced: tracks.picture.deinterlaced,
            tone_mapped_from: match tracks.picture.tone_mapped {
                Some(crate::probe::DynamicRange::Pq) => "pq".into(),
                Some(crate::probe::DynamicRange::Hlg) => "hlg".into(),
                _ => String::new(),
            },
            ladder_bytes,
            bytes_per_hour,
            created_by: row.created_by.map(|id| id.to_string()).unwrap_or_default(),
            job: Some(job),
            download: row.download_key.unwrap_or_default(),
            download_bytes: row.download_bytes.unwrap_or_default().max(0) as u64,
        }
    }
}

/// Playback needs a master playlist, and a cancelled asset has none to offer.
impl TryFrom<AssetRow> for pb::Playback {
    type Error = MediaError;

    fn try_from(row: AssetRow) -> Result<Self, MediaError> {
        let master = row
            .master_key
            .filter(|_| row.state != AssetState::Cancelled)
            .ok_or(MediaError::NotFound("playable asset"))?;
        Ok(pb::Playback {
            asset_id: row.id.to_string(),
            master_playlist: master,
            poster: row.poster_key.unwrap_or_default(),
            storyboard: row.storyboard_key.unwrap_or_default(),
            ready: row.state == AssetState::Ready,
            duration_secs: row.source.duration_secs,
            download: row.download_key.unwrap_or_default(),
            download_bytes: row.download_bytes.unwrap_or_default().max(0) as u64,
        })
    }
}

/// The first event of an attempt: which job, asset and attempt it is about.
impl From<&Claim> for pb::JobEvent {
    fn from(claim: &Claim) -> Self {
        pb::JobEvent {
            job_id: claim.job_id.to_string(),
            asset_id: claim.asset_id.to_string(),
            attempt: claim.attempt as u32,
            ..Default::default()
        }
    }
}
