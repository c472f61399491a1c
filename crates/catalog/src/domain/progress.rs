//! Playback progress rules: what counts as started, finished, and what comes next.

use uuid::Uuid;

use crate::CatalogError;

/// Below this fraction a play is a peek, not something to continue.
pub const STARTED: f64 = 0.05;
/// From this fraction on, the credits are rolling: the item counts as watched.
pub const FINISHED: f64 = 0.95;

/// A validated position report. Positions a little past the end (players overshoot)
/// are clamped to the duration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position {
    pub position_secs: f64,
    pub duration_secs: f64,
}

impl Position {
    pub fn new(position_secs: f64, duration_secs: f64) -> Result<Self, CatalogError> {
        if !duration_secs.is_finite() || duration_secs <= 0.0 || duration_secs > 48.0 * 3600.0 {
            return Err(CatalogError::invalid("duration_secs", "must be more than 0 and at most 48 hours"));
        }
        if !position_secs.is_finite() || position_secs < 0.0 || position_secs > duration_secs * 1.05 {
            return Err(CatalogError::invalid("position_secs", "must be between 0 and the duration"));
        }
        Ok(Self { position_secs: position_secs.min(duration_secs), duration_secs })
    }

    fn fraction(self) -> f64 {
        self.position_secs / self.duration_secs
    }

    pub fn finished(self) -> bool {
        self.fraction() >= FINISHED
    }

    /// Started and not finished: worth continuing.
    pub fn in_progress(self) -> bool {
        (STARTED..FINISHED).contains(&self.fraction())
    }
}

/// The episode after `finished` in play order (seasons, then episodes, ascending), if any.
pub fn next_episode(play_order: &[Uuid], finished: Uuid) -> Option<Uuid> {
    let at = play_order.iter().position(|&id| id == finished)?;
    play_order.get(at + 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn between_five_and_ninety_five_percent_is_in_progress() {
        let at = |p| Position::new(p, 100.0).unwrap();
        assert!(!at(4.9).in_progress() && !at(4.9).finished());
        assert!(at(5.0).in_progress());
        assert!(at(94.9).in_progress());
        assert!(!at(95.0).in_progress() && at(95.0).finished());
    }

    #[test]
    fn impossible_positions_are_refused_and_overshoot_is_clamped() {
        assert!(Position::new(-1.0, 100.0).is_err());
        assert!(Position::new(f64::NAN, 100.0).is_err());
        assert!(Position::new(10.0, 0.0).is_err());
        assert!(Position::new(200.0, 100.0).is_err());
        assert_eq!(Position::new(102.0, 100.0).unwrap().position_secs, 100.0);
    }

    #[test]
    fn the_next_episode_crosses_into_the_next_season_and_ends_after_the_last() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
        assert_eq!(next_episode(&ids, ids[0]), Some(ids[1]));
        assert_eq!(next_episode(&ids, ids[1]), Some(ids[2]));
        assert_eq!(next_episode(&ids, ids[2]), None);
        assert_eq!(next_episode(&ids, Uuid::new_v4()), None);
    }
}
