//! Exact decimal text for cty numbers.
//!
//! cty numbers are arbitrary-precision; on the wire they travel as int64, float64 or decimal text. This module
//! parses decimal text into an exact normalized form, prints it the way cty does (plain `f` notation, no exponent),
//! and tells whether a decimal is exactly an int64 or a float64. It must not know about msgpack or JSON.

/// Longest plain rendering we produce; beyond it the text switches to exponent form so that a tiny input like
/// `1e100000` cannot turn into a huge string.
const MAX_PLAIN_LEN: usize = 4096;

/// Largest decimal exponent accepted. cty (big.Float) cannot hold numbers far beyond this either.
const MAX_EXPONENT: i64 = 1_000_000_000;

/// A finite decimal: `(-1)^negative * digits * 10^scale`, with `digits` free of leading and trailing zeros.
/// Zero is the empty digit string, never negative.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Decimal {
    negative: bool,
    digits: String,
    scale: i64,
}

/// Decimal text parsed: a finite decimal or an infinity (cty has both infinities, and no NaN).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Parsed {
    Finite(Decimal),
    Infinite { negative: bool },
}

/// Parses decimal text as cty accepts it: optional sign, digits with an optional point, optional exponent,
/// or `inf`/`Inf`. Returns `None` for anything else (including an empty string and NaN).
pub(super) fn parse(text: &str) -> Option<Parsed> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "inf" || rest == "Inf" {
        return Some(Parsed::Infinite { negative });
    }
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], parse_exponent(&rest[at + 1..])?),
        None => (rest, 0),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
        None => (mantissa, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int_part.len() + frac_part.len() == 0 || !all_digits(int_part) || !all_digits(frac_part) {
        return None;
    }
    let mut digits = String::with_capacity(int_part.len() + frac_part.len());
    digits.push_str(int_part);
    digits.push_str(frac_part);
    let scale = exponent - frac_part.len() as i64;
    Some(Parsed::Finite(Decimal::normalized(negative, digits, scale)))
}

fn parse_exponent(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Leading zeros are harmless; the value is what must stay in range.
    let trimmed = digits.trim_start_matches('0');
    if trimmed.len() > 10 {
        return None;
    }
    let magnitude: i64 = if trimmed.is_empty() { 0 } else { trimmed.parse().ok()? };
    if magnitude > MAX_EXPONENT {
        return None;
    }
    Some(if text.starts_with('-') { -magnitude } else { magnitude })
}

impl Decimal {
    fn normalized(negative: bool, digits: String, mut scale: i64) -> Self {
        let leading = digits.bytes().take_while(|b| *b == b'0').count();
        let digits = &digits[leading..];
        let kept = digits.trim_end_matches('0');
        scale += (digits.len() - kept.len()) as i64;
        if kept.is_empty() {
            return Decimal { negative: false, digits: String::new(), scale: 0 };
        }
        Decimal { negative, digits: kept.to_string(), scale }
    }

    /// The exact decimal value of a finite float.
    pub(super) fn from_f64(f: f64) -> Option<Decimal> {
        if !f.is_finite() {
            return None;
        }
        // Rust prints floats exactly when given enough fraction digits; 1074 is the most an f64 needs.
        match parse(&format!("{f:.1074}"))? {
            Parsed::Finite(d) => Some(d),
            Parsed::Infinite { .. } => None,
        }
    }

    pub(super) fn is_integer(&self) -> bool {
        self.scale >= 0
    }

    /// The value as an i64 when it is exactly one.
    pub(super) fn to_i64(&self) -> Option<i64> {
        if self.digits.is_empty() {
            return Some(0);
        }
        if !self.is_integer() || self.digits.len() as i64 + self.scale > 19 {
            return None;
        }
        self.plain().parse().ok()
    }

    /// The value as an f64 when the float is exactly this decimal (no rounding).
    pub(super) fn to_f64_exact(&self) -> Option<f64> {
        let f: f64 = self.plain().parse().ok()?;
        (Decimal::from_f64(f).as_ref() == Some(self)).then_some(f)
    }

    /// cty's text for a number: plain notation without an exponent, no trailing fraction zeros
    /// (`"100"`, `"0.001"`, `"-12.5"`). Extremely large or small magnitudes use exponent notation instead.
    pub(super) fn plain(&self) -> String {
        if self.digits.is_empty() {
            return "0".to_string();
        }
        let n = self.digits.len() as i64;
        let plain_len = if self.scale >= 0 { n + self.scale } else { n.max(-self.scale) + 2 };
        let mut out = String::new();
        if self.negative {
            out.push('-');
        }
        if plain_len as u64 > MAX_PLAIN_LEN as u64 {
            out.push_str(&self.digits[..1]);
            if n > 1 {
                out.push('.');
                out.push_str(&self.digits[1..]);
            }
            out.push('e');
            out.push_str(&(self.scale + n - 1).to_string());
            return out;
        }
        if self.scale >= 0 {
            out.push_str(&self.digits);
            out.extend(std::iter::repeat_n('0', self.scale as usize));
        } else {
            let point = n + self.scale;
            if point > 0 {
                out.push_str(&self.digits[..point as usize]);
                out.push('.');
                out.push_str(&self.digits[point as usize..]);
            } else {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', (-point) as usize));
                out.push_str(&self.digits);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> String {
        match parse(text).unwrap() {
            Parsed::Finite(d) => d.plain(),
            Parsed::Infinite { .. } => panic!("infinite"),
        }
    }

    #[test]
    fn normalizes_to_plain_notation() {
        assert_eq!(plain("1e3"), "1000");
        assert_eq!(plain("001.2300"), "1.23");
        assert_eq!(plain("-0.0"), "0");
        assert_eq!(plain(".5"), "0.5");
        assert_eq!(plain("5."), "5");
        assert_eq!(plain("+12.5e-3"), "0.0125");
        assert_eq!(plain("123e-1"), "12.3");
        assert_eq!(plain("1E2"), "100");
    }

    #[test]
    fn huge_exponents_stay_short() {
        assert_eq!(plain("1.5e100000"), "1.5e100000");
        assert_eq!(plain("-7e-100000"), "-7e-100000");
        assert!(parse("1e99999999999").is_none());
    }

    #[test]
    fn rejects_what_cty_rejects() {
        for bad in ["", "-", ".", "e5", "1e", "1e+", "abc", "1.2.3", "0x10", "nan", "NaN", "1_000", " 1"] {
            assert!(parse(bad).is_none(), "{bad:?} should not parse");
        }
        assert_eq!(parse("-Inf"), Some(Parsed::Infinite { negative: true }));
        assert_eq!(parse("inf"), Some(Parsed::Infinite { negative: false }));
    }

    #[test]
    fn exact_int_and_float_detection() {
        let d = |t| match parse(t).unwrap() {
            Parsed::Finite(d) => d,
            _ => unreachable!(),
        };
        assert_eq!(d("9223372036854775807").to_i64(), Some(i64::MAX));
        assert_eq!(d("-9223372036854775808").to_i64(), Some(i64::MIN));
        assert_eq!(d("9223372036854775808").to_i64(), None);
        assert_eq!(d("1.5").to_i64(), None);
        assert_eq!(d("0.5").to_f64_exact(), Some(0.5));
        // 0.1 has no exact binary form, so it must stay decimal text.
        assert_eq!(d("0.1").to_f64_exact(), None);
        assert_eq!(
            Decimal::from_f64(0.1).unwrap().plain(),
            "0.1000000000000000055511151231257827021181583404541015625"
        );
    }
}
