//! Publishes an attempt's HLS output: moves it from ffmpeg's folder to storage while
//! ffmpeg still runs (every segment a variant playlist lists is complete, so it goes up,
//! then the playlist that lists it), and writes the master playlist over what is stored.
//! Once every rung and every audio rendition has a segment stored, the asset is playable.

use std::{
    collections::{HashMap, HashSet},
    path::PathBuf,
};

use ottr_storage::{ObjectStore, StorageError};

use crate::transcode::{
    command::SEGMENT_SECS,
    ladder::Rung,
    playlist::{self, Variant},
    tracks::{AudioRendition, SubtitleTrack, Tracks},
};

/// What has been stored of one rung.
#[derive(Default)]
struct Stored {
    /// ffmpeg 5.1 names it `init_<variant>.mp4` whatever it is told; the playlist says which.
    init: Option<String>,
    segments: HashSet<String>,
    /// (bytes, seconds) of each stored segment, for the measured bandwidths.
    sizes: Vec<(u64, f64)>,
    /// Bytes of the init segment, once stored.
    init_bytes: u64,
}

pub(crate) struct Publisher {
    out_dir: PathBuf,
    prefix: String,
    rungs: Vec<Rung>,
    audio: Vec<AudioRendition>,
    /// Already stored (they are made before the ladder); named in the master.
    subtitles: Vec<SubtitleTrack>,
    frame_rate: f64,
    stored: HashMap<String, Stored>,
}

impl Publisher {
    /// Publishes the ladder's `rungs` and the audio renditions of `tracks`; the master also
    /// names the subtitle tracks of `tracks`.
    pub(crate) fn new(out_dir: PathBuf, prefix: String, rungs: Vec<Rung>, tracks: &Tracks, frame_rate: f64) -> Self {
        let (audio, subtitles) = (tracks.audio.clone(), tracks.subtitles.clone());
        Self { out_dir, prefix, rungs, audio, subtitles, frame_rate, stored: HashMap::new() }
    }

    /// Every folder ffmpeg writes a playlist in: the rungs, then the audio renditions.
    fn folders(&self) -> impl Iterator<Item = &str> {
        self.rungs.iter().map(|r| r.name.as_str()).chain(self.audio.iter().map(|a| a.name.as_str()))
    }

    /// The local files of one stored rendition, init segment first, for measuring it.
    pub(crate) fn local_files(&self, folder: &str) -> Vec<PathBuf> {
        let Some(stored) = self.stored.get(folder) else { return Vec::new() };
        let dir = self.out_dir.join(folder);
        let mut segments: Vec<&String> = stored.segments.iter().collect();
        segments.sort();
        stored.init.iter().chain(segments).map(|name| dir.join(name)).collect()
    }

    pub(crate) fn rungs(&self) -> &[Rung] {
        &self.rungs
    }

    /// Bytes stored of one rendition: its init segment and every media segment.
    fn stored_bytes(&self, folder: &str) -> Option<u64> {
        let stored = self.stored.get(folder)?;
        Some(stored.init_bytes + stored.sizes.iter().map(|(bytes, _)| bytes).sum::<u64>())
    }

    /// The rungs with what each took in storage, for the asset.
    pub(crate) fn measured_rungs(&self) -> Vec<Rung> {
        let measured = |rung: &Rung| Rung { bytes: self.stored_bytes(&rung.name), ..rung.clone() };
        self.rungs.iter().map(measured).collect()
    }

    /// Records on each audio rendition what it took in storage.
    pub(crate) fn measure_audio(&self, audio: &mut [AudioRendition]) {
        for rendition in audio {
            rendition.bytes = self.stored_bytes(&rendition.name);
        }
    }

    pub(crate) fn master_key(&self) -> String {
        format!("{}master.m3u8", self.prefix)
    }

    /// Segments stored per rung, in ladder order.
    pub(crate) fn counts(&self) -> Vec<(String, u32)> {
        self.rungs
            .iter()
            .map(|r| (r.name.clone(), self.stored.get(&r.name).map_or(0, |s| s.segments.len() as u32)))
            .collect()
    }

    /// Every rung and audio rendition has its init segment and a media segment stored.
    pub(crate) fn playable(&self) -> bool {
        self.folders().all(|f| self.stored.get(f).is_some_and(|s| s.init.is_some() && !s.segments.is_empty()))
    }

    /// Uploads what ffmpeg finished since the last call. With `finished`, playlists go up
    /// as VOD.
    pub(crate) async fn sync(&mut self, store: &ObjectStore, finished: bool) -> Result<(), StorageError> {
        let folders: Vec<String> = self.folders().map(str::to_owned).collect();
        for folder in &folders {
            let dir = self.out_dir.join(folder);
            let Ok(text) = tokio::fs::read_to_string(dir.join("index.m3u8")).await else {
                continue; // ffmpeg has not closed a segment of this rendition yet
            };
            let (init, segments) = playlist::segments(&text);
            let stored = self.stored.entry(folder.clone()).or_default();
            let key = |name: &str| format!("{}{folder}/{name}", self.prefix);
            if let (None, Some(init)) = (&stored.init, init) {
                stored.init_bytes = tokio::fs::metadata(dir.join(&init)).await?.len();
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
                let text = playlist::with_target_duration(&text, SEGMENT_SECS);
                let text = if finished { playlist::finalize(&text) } else { text };
                store.put_bytes(&key("index.m3u8"), text.into_bytes()).await?;
            }
        }
        Ok(())
    }

    /// The audio group's peak and average: a variant's BANDWIDTH must cover the largest
    /// rendition a player may pair with it.
    fn audio_bandwidths(&self, measured: bool) -> (u64, u64) {
        self.audio
            .iter()
            .map(|a| match self.stored.get(&a.name) {
                Some(stored) if measured && !stored.sizes.is_empty() => playlist::bandwidths(&stored.sizes),
                _ => (u64::from(a.kbps) * 1000, u64::from(a.kbps) * 1000),
            })
            .fold((0, 0), |(p, v), (peak, average)| (p.max(peak), v.max(average)))
    }

    /// The master playlist: nominal bandwidths while growing, measured ones when
    /// `codecs` (ffmpeg's, by variant URI) are given at the end.
    pub(crate) fn master(&self, measured: Option<&HashMap<String, String>>) -> String {
        let has_audio = !self.audio.is_empty();
        // The rungs are video only (ffmpeg's master says which H.264 level each is); the
        // audio group adds AAC-LC to what a player must decode for any variant.
        let audio_codec = if has_audio { ",mp4a.40.2" } else { "" };
        let (audio_peak, audio_average) = self.audio_bandwidths(measured.is_some());
        let variants: Vec<Variant> = self
            .rungs
            .iter()
            .map(|rung| {
                let uri = format!("{}/index.m3u8", rung.name);
                let nominal = (u64::from(rung.maxrate_kbps()) * 1000, u64::from(rung.video_kbps) * 1000);
                let (video_peak, video_average) = match (measured, self.stored.get(&rung.name)) {
                    (Some(_), Some(stored)) if !stored.sizes.is_empty() => playlist::bandwidths(&stored.sizes),
                    _ => nominal,
                };
                let (bandwidth, average_bandwidth) = (video_peak + audio_peak, video_average + audio_average);
                let video_codec = measured.and_then(|c| c.get(&uri)).map_or("avc1.640028", String::as_str);
                let codecs = format!("{video_codec}{audio_codec}");
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
        playlist::with_subtitles(&playlist::master(&variants, &self.audio), &self.subtitles)
    }

    /// Every key this attempt must have stored, for verification.
    pub(crate) fn expected_keys(&self) -> Vec<String> {
        let mut keys = vec![self.master_key()];
        for folder in self.folders() {
            keys.push(format!("{}{folder}/index.m3u8", self.prefix));
            if let Some(stored) = self.stored.get(folder) {
                keys.extend(stored.init.iter().map(|init| format!("{}{folder}/{init}", self.prefix)));
                keys.extend(stored.segments.iter().map(|s| format!("{}{folder}/{s}", self.prefix)));
            }
        }
        for track in &self.subtitles {
            keys.extend(crate::subtitles::keys(&self.prefix, &track.folder));
        }
        keys
    }
}
