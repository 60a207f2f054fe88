//! rclone's `--bwlimit` value: one rate, separate upload and download rates (`UP:DOWN`), or
//! a timetable of either (`08:00,512k 12:00,10M 23:00,off`, `Mon-10:00,1M Sat-00:00,off`).

use std::time::{SystemTime, UNIX_EPOCH};

use super::{TimeOfDay, Weekday, invalid, parse_rate};
use crate::Result;

/// An upload and a download rate, in bytes per second; `None` is no limit. rclone's
/// `UP:DOWN` (`10M:1M`, `off:512k`); a single rate is both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rates {
    /// The limit of the bytes sent (written to a store that is not local).
    pub up: Option<u64>,
    /// The limit of the bytes received (read from a store that is not local).
    pub down: Option<u64>,
}

impl Rates {
    /// Parses `RATE` or `UP:DOWN`, each as [`parse_rate`] reads it.
    ///
    /// ```
    /// use omnistorage::units::Rates;
    ///
    /// let r = Rates::parse("10M:off")?;
    /// assert_eq!((r.up, r.down), (Some(10 << 20), None));
    /// assert_eq!(Rates::parse("512")?.down, Some(512 << 10));
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<Rates> {
        match text.split_once(':') {
            Some((up, down)) => Ok(Rates {
                up: parse_rate(up)?,
                down: parse_rate(down)?,
            }),
            None => {
                let rate = parse_rate(text)?;
                Ok(Rates {
                    up: rate,
                    down: rate,
                })
            }
        }
    }
}

/// A bandwidth timetable: from each time of day (on one weekday, or every day) the rates
/// in force until the next entry; the week wraps around, so before the week's first entry
/// the last one holds. A single rate is a timetable of one entry that always holds.
///
/// ```
/// use omnistorage::units::{Timetable, Weekday};
///
/// let t = Timetable::parse("08:00,512k 12:00,10M 23:00,off")?;
/// assert_eq!(t.at(Weekday::Monday, 9 * 60).up, Some(512 << 10));
/// assert_eq!(t.at(Weekday::Monday, 12 * 60).up, Some(10 << 20));
/// // Before 08:00 the previous day's last entry (23:00, off) holds.
/// assert_eq!(t.at(Weekday::Tuesday, 7 * 60).up, None);
/// let w = Timetable::parse("Mon-10:00,1M:2M Sat-00:00,off")?;
/// assert_eq!(w.at(Weekday::Wednesday, 0).down, Some(2 << 20));
/// assert_eq!(w.at(Weekday::Sunday, 600).down, None);
/// # Ok::<(), omnistorage::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timetable {
    /// The entries, in the order given.
    entries: Vec<(TimeOfDay, Rates)>,
    /// The entries as minutes of the week (Sunday 00:00 is 0), sorted: an every-day entry
    /// is there once for each day.
    week: Vec<(u32, Rates)>,
}

const DAY: u32 = 24 * 60;

impl Timetable {
    /// The timetable of one entry that always holds.
    pub fn constant(rates: Rates) -> Timetable {
        let start = TimeOfDay::new(None, 0, 0).unwrap_or_else(|| unreachable!());
        Timetable::from_entries(vec![(start, rates)])
    }

    fn from_entries(entries: Vec<(TimeOfDay, Rates)>) -> Timetable {
        let mut week = Vec::new();
        for (t, rates) in &entries {
            let minute = u32::from(t.minutes_since_midnight());
            match t.weekday() {
                Some(day) => week.push((day as u32 * DAY + minute, *rates)),
                None => week.extend((0..7).map(|d| (d * DAY + minute, *rates))),
            }
        }
        // Stable: at one minute, the entry given last wins (it comes last).
        week.sort_by_key(|(m, _)| *m);
        Timetable { entries, week }
    }

    /// Parses rclone's `--bwlimit`: one `RATE` or `UP:DOWN` (see [`Rates::parse`]), or
    /// space-separated `TIME,RATES` entries with `TIME` a [`TimeOfDay`] (`HH:MM` or
    /// `DAY-HH:MM`). An entry without its comma, or an empty text, is
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput).
    pub fn parse(text: &str) -> Result<Timetable> {
        let tokens: Vec<&str> = text.split_whitespace().collect();
        match tokens.as_slice() {
            [] => Err(invalid("bandwidth limit", text, "empty")),
            [one] if !one.contains(',') => Ok(Timetable::constant(Rates::parse(one)?)),
            _ => {
                let mut entries = Vec::with_capacity(tokens.len());
                for token in tokens {
                    let Some((time, rates)) = token.split_once(',') else {
                        return Err(invalid(
                            "bandwidth timetable entry",
                            token,
                            "expected TIME,RATE (08:00,512k or Mon-08:00,1M:off)",
                        ));
                    };
                    entries.push((TimeOfDay::parse(time)?, Rates::parse(rates)?));
                }
                Ok(Timetable::from_entries(entries))
            }
        }
    }

    /// The entries, as given.
    pub fn entries(&self) -> &[(TimeOfDay, Rates)] {
        &self.entries
    }

    /// Whether one entry always holds (a plain rate, not a timetable).
    pub fn is_constant(&self) -> bool {
        self.entries.len() == 1 && self.entries[0].0.weekday().is_none()
    }

    /// The rates in force on `weekday` at `minute` past midnight (0 to 1439).
    pub fn at(&self, weekday: Weekday, minute: u16) -> Rates {
        let now = weekday as u32 * DAY + u32::from(minute);
        let i = self.week.partition_point(|(m, _)| *m <= now);
        let slot = if i == 0 {
            self.week.last()
        } else {
            self.week.get(i - 1)
        };
        slot.map_or(
            Rates {
                up: None,
                down: None,
            },
            |(_, r)| *r,
        )
    }

    /// The rates in force at `time`, in UTC (the crate carries no time zone database).
    pub fn at_time(&self, time: SystemTime) -> Rates {
        let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        // 1970-01-01 was a Thursday.
        let day = (secs / 86_400 + 4) % 7;
        let weekday = [
            Weekday::Sunday,
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
            Weekday::Saturday,
        ][day as usize];
        let minute = u16::try_from(secs % 86_400 / 60).unwrap_or(0);
        self.at(weekday, minute)
    }
}
