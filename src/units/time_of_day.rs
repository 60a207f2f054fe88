//! Times of day, as rclone's bandwidth timetable writes them: `08:00`, `Mon-23:59`.

use std::fmt;
use std::str::FromStr;

use super::invalid;
use crate::{Error, Result};

/// A day of the week, Sunday first (as rclone and Go count them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weekday {
    /// Sunday.
    Sunday,
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
}

const DAYS: [(Weekday, &str, &str); 7] = [
    (Weekday::Sunday, "Sun", "Sunday"),
    (Weekday::Monday, "Mon", "Monday"),
    (Weekday::Tuesday, "Tue", "Tuesday"),
    (Weekday::Wednesday, "Wed", "Wednesday"),
    (Weekday::Thursday, "Thu", "Thursday"),
    (Weekday::Friday, "Fri", "Friday"),
    (Weekday::Saturday, "Sat", "Saturday"),
];

impl Weekday {
    /// The day's three-letter name, as rclone writes it: `Sun`, `Mon`, ...
    pub fn short_name(self) -> &'static str {
        DAYS[self as usize].1
    }

    /// The day named `name`: its three-letter or full English name, in any case.
    fn from_name(name: &str) -> Option<Weekday> {
        DAYS.iter()
            .find(|(_, short, long)| {
                name.eq_ignore_ascii_case(short) || name.eq_ignore_ascii_case(long)
            })
            .map(|(day, _, _)| *day)
    }
}

/// A time of day (hours and minutes), on one weekday or on every day: the times of rclone's
/// bandwidth timetable (`--bwlimit "08:00,512k Mon-18:00,off"`).
///
/// It parses from `HH:MM` (two digits each, 00:00 to 23:59) or `DAY-HH:MM`, where `DAY` is
/// a weekday's three-letter or full English name in any case (`Mon`, `monday`), and prints
/// as `HH:MM` or `Mon-HH:MM`, which parses back to the same value. Anything else is
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), naming the text.
///
/// ```
/// use omnistorage::units::{TimeOfDay, Weekday};
///
/// let t: TimeOfDay = "friday-18:30".parse()?;
/// assert_eq!(t.weekday(), Some(Weekday::Friday));
/// assert_eq!((t.hour(), t.minute()), (18, 30));
/// assert_eq!(t.to_string(), "Fri-18:30");
/// assert_eq!("08:00".parse::<TimeOfDay>()?.weekday(), None);
/// assert!("24:00".parse::<TimeOfDay>().is_err());
/// # Ok::<(), omnistorage::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay {
    weekday: Option<Weekday>,
    minutes: u16,
}

impl TimeOfDay {
    /// The time `hour:minute` on `weekday` (every day if `None`); `None` if the hour is
    /// past 23 or the minute past 59.
    pub fn new(weekday: Option<Weekday>, hour: u8, minute: u8) -> Option<TimeOfDay> {
        (hour < 24 && minute < 60).then_some(TimeOfDay {
            weekday,
            minutes: u16::from(hour) * 60 + u16::from(minute),
        })
    }

    /// Parses `HH:MM` or `DAY-HH:MM` (see the type's documentation).
    pub fn parse(text: &str) -> Result<TimeOfDay> {
        let bad = |why: &str| invalid("time of day", text, why);
        let s = text.trim();
        let (weekday, hhmm) = match s.split_once('-') {
            Some((day, hhmm)) => (
                Some(Weekday::from_name(day).ok_or_else(|| {
                    bad("unknown weekday (Sun, Mon, ..., Sat, or the full name)")
                })?),
                hhmm,
            ),
            None => (None, s),
        };
        let b = hhmm.as_bytes();
        let two = |i: usize| -> Option<u8> {
            let (h, l) = (*b.get(i)?, *b.get(i + 1)?);
            (h.is_ascii_digit() && l.is_ascii_digit()).then(|| (h - b'0') * 10 + (l - b'0'))
        };
        let (Some(hour), Some(minute), 5, Some(b':')) =
            (two(0), two(3), b.len(), b.get(2).copied())
        else {
            return Err(bad("expected HH:MM"));
        };
        TimeOfDay::new(weekday, hour, minute)
            .ok_or_else(|| bad("hours are 00 to 23 and minutes 00 to 59"))
    }

    /// The weekday, or `None` for every day.
    pub fn weekday(&self) -> Option<Weekday> {
        self.weekday
    }

    /// The hour, 0 to 23.
    pub fn hour(&self) -> u8 {
        (self.minutes / 60) as u8
    }

    /// The minute, 0 to 59.
    pub fn minute(&self) -> u8 {
        (self.minutes % 60) as u8
    }

    /// Minutes since midnight, 0 to 1439.
    pub fn minutes_since_midnight(&self) -> u16 {
        self.minutes
    }
}

impl FromStr for TimeOfDay {
    type Err = Error;

    fn from_str(text: &str) -> Result<TimeOfDay> {
        TimeOfDay::parse(text)
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(day) = self.weekday {
            write!(f, "{}-", day.short_name())?;
        }
        write!(f, "{:02}:{:02}", self.hour(), self.minute())
    }
}
