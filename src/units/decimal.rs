//! Decimal numbers without a sign: `12`, `1.5`, `.5`, `5.`, and with an exponent `1e3`.

/// At most this many significant digits are kept; later ones are dropped (rounding down).
/// 20 digits hold every `u64`, and 10^20 times 2^60 still fits a `u128`.
const DIGITS: usize = 20;

/// A decimal number: `mantissa × 10^exponent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Decimal {
    mantissa: u128,
    exponent: i32,
}

impl Decimal {
    /// Parses `text`: digits with at most one `.` (at least one digit in all), then, if
    /// `exponent` allows it, `e` or `E`, an optional sign and digits.
    pub(super) fn parse(text: &str, exponent: bool) -> Option<Decimal> {
        let (number, exp) = match text.find(['e', 'E']) {
            Some(i) if exponent => (&text[..i], Some(&text[i + 1..])),
            Some(_) => return None,
            None => (text, None),
        };
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        if int.len() + frac.len() == 0
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let mut exponent: i64 = 0;
        if let Some(exp) = exp {
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Anything past 4 digits is out of every range; keep the sign's meaning.
            let value: i64 = digits.get(..digits.len().min(5))?.parse().ok()?;
            let value = if digits.len() > 5 { 99_999 } else { value };
            exponent = if exp.starts_with('-') { -value } else { value };
        }
        let mut mantissa: u128 = 0;
        let mut kept = 0;
        let mut dropped_int = 0i64;
        let mut kept_frac = 0i64;
        for (i, b) in int.bytes().chain(frac.bytes()).enumerate() {
            let in_frac = i >= int.len();
            if mantissa == 0 && b == b'0' {
                if in_frac {
                    kept_frac += 1;
                }
                continue;
            }
            if kept < DIGITS {
                mantissa = mantissa * 10 + u128::from(b - b'0');
                kept += 1;
                if in_frac {
                    kept_frac += 1;
                }
            } else if !in_frac {
                dropped_int += 1;
            }
        }
        let exponent = exponent + dropped_int - kept_frac;
        Some(Decimal {
            mantissa,
            exponent: i32::try_from(exponent.clamp(-100_000, 100_000)).ok()?,
        })
    }

    /// Whether the number is 0.
    pub(super) fn is_zero(self) -> bool {
        self.mantissa == 0
    }

    /// `self × unit`, rounded down, or `None` if it does not fit a `u128`.
    pub(super) fn times(self, unit: u128) -> Option<u128> {
        let product = self.mantissa.checked_mul(unit)?;
        if product == 0 {
            return Some(0);
        }
        match u32::try_from(self.exponent) {
            Ok(up) => product.checked_mul(10u128.checked_pow(up)?),
            Err(_) => match 10u128.checked_pow(self.exponent.unsigned_abs()) {
                Some(down) => Some(product / down),
                None => Some(0),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Decimal;

    fn value(text: &str, unit: u128) -> Option<u128> {
        Decimal::parse(text, true)?.times(unit)
    }

    #[test]
    fn reads_and_scales() {
        assert_eq!(value("12", 1), Some(12));
        assert_eq!(value("1.5", 1024), Some(1536));
        assert_eq!(value(".5", 2), Some(1));
        assert_eq!(value("5.", 1), Some(5));
        assert_eq!(value("0.1", 1), Some(0));
        assert_eq!(value("1e3", 1), Some(1000));
        assert_eq!(value("1E+3", 1), Some(1000));
        assert_eq!(value("15e-1", 1), Some(1));
        assert_eq!(value("1e-99999999", 1), Some(0));
        assert_eq!(value("1e99999999", 1), None);
        assert_eq!(value("0e99999999", 1), Some(0));
        assert_eq!(value("000000000000000000000000000001", 1), Some(1));
        assert_eq!(value("0.000000000000000000000000000001e30", 1), Some(1));
        assert_eq!(value("18446744073709551615", 1), Some(u128::from(u64::MAX)));
        // Digits past the 20th are dropped, rounding down.
        assert_eq!(
            value("123456789012345678901234", 1),
            Some(123_456_789_012_345_678_900_000)
        );
        for bad in [
            "", ".", "e3", "1e", "1e+", "1.2.3", "-1", "+1", "1_000", "0x10", "inf", "1 2",
        ] {
            assert_eq!(Decimal::parse(bad, true), None, "{bad:?}");
        }
        assert_eq!(Decimal::parse("1e3", false), None);
    }
}
