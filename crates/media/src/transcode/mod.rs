//! Turning a source into the HLS ladder: which rungs (`ladder`), the one ffmpeg command
//! that decodes once and encodes them all (`command`), its progress (`progress`), the
//! playlists (`playlist`), and scrub previews (`storyboard`).

pub mod command;
pub mod ladder;
pub mod playlist;
pub mod progress;
pub mod storyboard;
