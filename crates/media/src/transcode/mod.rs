//! Turning a source into the HLS ladder: which rungs (`ladder`), what the picture needs
//! first (`picture`), which audio and subtitle renditions (`tracks`) at what loudness
//! (`loudness`), the one ffmpeg command that decodes once and encodes them all
//! (`command`) at the rate control of `rate`, its progress (`progress`), the playlists (`playlist`), scrub previews
//! (`storyboard`), and the MP4 download remuxed from a rung (`download`).

pub mod command;
pub mod download;
pub mod ladder;
pub mod loudness;
pub mod picture;
pub mod playlist;
pub mod progress;
pub mod rate;
pub mod storyboard;
pub mod tracks;
