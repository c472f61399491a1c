//! Publishes an attempt's HLS output: moves it from ffmpeg's folder to storage while
//! ffmpeg still runs (every segment a variant playlist lists is complete, so it goes up,
//! then the playlist that lists it), and writes the master playlist over what is stored.
//! Once every rung has a segment stored, the asset is playable.

use std::{
    collections::{HashMap, HashSet},
    path::PathBuf,
};

use ottr_storage::{ObjectStore, StorageError};

use crate::transcode::{
    ladder::{AUDIO_KBPS, Rung},
    playlist::{self, Variant},
};

/// What has been stored of one rung.
#[derive(Default)]
struct Stored {
    /// ffmpeg 5.1 names it `init_<variant>.mp4` whatever it is told; the playlist says which.
    init: Option<String>,
    segments: HashSet<String>,
    /// (bytes, seconds) of each stored segment, for the measured bandwidths.
    sizes: Vec<(u64, f64)>,
}

pub struct Publisher {
    out_dir: PathBuf,
    prefix: String,
    rungs: Vec<Rung>,
    has_audio: bool,
    frame_rate: f64,
    stored: HashMap<String, Stored>,
}

impl Publisher {
    pub fn new(out_dir: PathBuf, prefix: String, rungs: Vec<Rung>, has_audio: bool, frame_rate: f64) -> Self {
        Self { out_dir, prefix, rungs, has_audio, frame_rate, stored: HashMap::new() }
    }

    pub fn rungs(&self) -> &[Rung] {
        &self.rungs
    }

    pub fn master_key(&self) -> String {
        format!("{}master.m3u8", self.prefix)
    }

    /// Segments stored per rung, in ladder order.
    pub fn counts(&self) -> Vec<(String, u32)> {
        self.rungs
            .iter()
            .map(|r| (r.name.clone(), self.stored.get(&r.name).map_or(0, |s| s.segments.len() as u32)))
            .collect()
    }

    /// Every rung has its init segment and at least one media segment stored.
    pub fn playable(&self) -> bool {
        self.rungs.iter().all(|r| self.stored.get(&r.name).is_some_and(|s| s.init.is_some() && !s.segments.is_empty()))
    }

    /// Uploads what ffmpeg finished since the last call. With `finished`, playlists go up
    /// as VOD.
    pub async fn sync(&mut self, store: &ObjectStore, finished: bool) -> Result<(), StorageError> {
        for rung in &self.rungs {
            let dir = self.out_dir.join(&rung.name);
            let Ok(text) = tokio::fs::read_to_string(dir.join("index.m3u8")).await else {
                continue; // ffmpeg has not closed a segment of this rung yet
            };
            let (init, segments) = playlist::segments(&text);
            let stored = self.stored.entry(rung.name.clone()).or_default();
            let key = |name: &str| format!("{}{}/{name}", self.prefix, rung.name);
            if let (None, Some(init)) = (&stored.init, init) {
                store.put_file(&key(&init), &dir.join(&init)).await?;
                stored.init = Some(init);
            }
            let mut added = false;
            for segment in segments {
                if stored.segments.contains(&segment.uri) {
                    continue;
                }
                let path = dir.join(&segment.uri);
                let bytes = tokio::fs::metadata(&path).await?.len();
                store.put_file(&key(&segment.uri), &path).await?;
                stored.sizes.push((bytes, segment.duration));
                stored.segments.insert(segment.uri);
                added = true;
            }
            if added || finished {
                let text = if finished { playlist::finalize(&text) } else { text };
                store.put_bytes(&key("index.m3u8"), text.into_bytes()).await?;
            }
        }
        Ok(())
    }

    /// The master playlist: nominal bandwidths while growing, measured ones when
    /// `codecs` (ffmpeg's, by variant URI) are given at the end.
    pub fn master(&self, measured: Option<&HashMap<String, String>>) -> String {
        let default_codecs = if self.has_audio { "avc1.640028,mp4a.40.2" } else { "avc1.640028" };
        let audio_bps = if self.has_audio { u64::from(AUDIO_KBPS) * 1000 } else { 0 };
        let variants: Vec<Variant> = self
            .rungs
            .iter()
            .map(|rung| {
                let uri = format!("{}/index.m3u8", rung.name);
                let nominal =
                    (u64::from(rung.maxrate_kbps()) * 1000 + audio_bps, u64::from(rung.video_kbps) * 1000 + audio_bps);
                let (bandwidth, average_bandwidth) = match (measured, self.stored.get(&rung.name)) {
                    (Some(_), Some(stored)) if !stored.sizes.is_empty() => playlist::bandwidths(&stored.sizes),
                    _ => nominal,
                };
                let codecs = measured.and_then(|c| c.get(&uri)).cloned().unwrap_or_else(|| default_codecs.to_owned());
                Variant {
                    uri,
                    bandwidth,
                    average_bandwidth,
                    width: rung.width,
                    height: rung.height,
                    codecs,
                    frame_rate: self.frame_rate,
                }
            })
            .collect();
        playlist::master(&variants)
    }

    /// Every key this attempt must have stored, for verification.
    pub fn expected_keys(&self) -> Vec<String> {
        let mut keys = vec![self.master_key()];
        for rung in &self.rungs {
            keys.push(format!("{}{}/index.m3u8", self.prefix, rung.name));
            if let Some(stored) = self.stored.get(&rung.name) {
                keys.extend(stored.init.iter().map(|init| format!("{}{}/{init}", self.prefix, rung.name)));
                keys.extend(stored.segments.iter().map(|s| format!("{}{}/{s}", self.prefix, rung.name)));
            }
        }
        keys
    }
}
