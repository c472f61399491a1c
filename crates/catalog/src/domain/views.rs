//! Viewing figures as an editor reads them: a range of UTC days ending today, every day
//! present (zeros where nobody watched), so a chart needs no gaps filled.

use time::{Date, Duration, OffsetDateTime};

use crate::CatalogError;

pub const DEFAULT_DAYS: i32 = 30;
pub const MAX_DAYS: i32 = 366;

/// The first and last day of the `days` (0: the default) ending `today`.
pub fn range(days: i32, today: Date) -> Result<(Date, Date), CatalogError> {
    let days = if days == 0 { DEFAULT_DAYS } else { days };
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(CatalogError::invalid("days", format!("must be between 1 and {MAX_DAYS}")));
    }
    Ok((today - Duration::days(i64::from(days - 1)), today))
}

/// Today in UTC: the day the figures are counted under.
pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// Every day from `from` to `to`, each with its entry in `found` (sorted by day, from the
/// store) or `empty(day)`.
pub fn every_day<T>(from: Date, to: Date, found: Vec<(Date, T)>, empty: impl Fn(Date) -> T) -> Vec<T> {
    let mut found = found.into_iter().peekable();
    let mut days = Vec::new();
    let mut day = from;
    while day <= to {
        match found.next_if(|(at, _)| *at == day) {
            Some((_, figures)) => days.push(figures),
            None => days.push(empty(day)),
        }
        let Some(next) = day.next_day() else { break };
        day = next;
    }
    days
}

#[cfg(test)]
mod tests {
    use time::Month;

    use super::*;

    fn date(month: Month, day: u8) -> Date {
        Date::from_calendar_date(2026, month, day).unwrap()
    }

    #[test]
    fn a_range_ends_today_and_refuses_what_is_out_of_bounds() {
        let today = date(Month::March, 1);
        assert_eq!(range(0, today).unwrap(), (date(Month::January, 31), today));
        assert_eq!(range(1, today).unwrap(), (today, today));
        assert_eq!(range(2, today).unwrap(), (date(Month::February, 28), today));
        assert!(range(-1, today).is_err());
        assert!(range(MAX_DAYS + 1, today).is_err());
    }

    #[test]
    fn missing_days_are_filled_and_found_ones_kept_in_order() {
        let found = vec![(date(Month::February, 27), 5), (date(Month::March, 1), 7)];
        let days = every_day(date(Month::February, 26), date(Month::March, 1), found, |_| 0);
        assert_eq!(days, vec![0, 5, 0, 7]);
    }
}
