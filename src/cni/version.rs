//! CNI specification versions: parsing, ordering and the result-format family of each version.

use std::fmt;
use std::str::FromStr;

use crate::cni::error::Error;

/// A CNI specification version (`major.minor.patch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

/// The three result encodings the spec has had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// 0.1.0 and 0.2.0: `ip4` / `ip6` objects.
    V020,
    /// 0.3.0, 0.3.1 and 0.4.0: `interfaces`, `ips` with a `version` field, `routes`.
    V040,
    /// 1.0.0 and 1.1.0: as 0.4.0 without `ips[].version`.
    V100,
}

impl Version {
    pub const V0_1_0: Version = Version::new(0, 1, 0);
    pub const V0_2_0: Version = Version::new(0, 2, 0);
    pub const V0_3_0: Version = Version::new(0, 3, 0);
    pub const V0_3_1: Version = Version::new(0, 3, 1);
    pub const V0_4_0: Version = Version::new(0, 4, 0);
    pub const V1_0_0: Version = Version::new(1, 0, 0);
    pub const V1_1_0: Version = Version::new(1, 1, 0);

    /// The newest version this library speaks.
    pub const CURRENT: Version = Version::V1_1_0;

    /// Every version this library understands, oldest first.
    pub const ALL: [Version; 7] = [
        Version::V0_1_0,
        Version::V0_2_0,
        Version::V0_3_0,
        Version::V0_3_1,
        Version::V0_4_0,
        Version::V1_0_0,
        Version::V1_1_0,
    ];

    /// How each of `ALL` is spelled.
    const SPELLINGS: [&'static str; 7] = [
        "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0",
    ];

    /// How this version is spelled, if it is one of `ALL`.
    pub fn spelling(self) -> Option<&'static str> {
        let at = Version::ALL.iter().position(|v| *v == self)?;
        Some(Version::SPELLINGS[at])
    }

    /// The known version spelled exactly `text` (libcni matches result versions as strings).
    pub fn from_spelling(text: &str) -> Option<Version> {
        let at = Version::SPELLINGS.iter().position(|s| *s == text)?;
        Some(Version::ALL[at])
    }

    pub const fn new(major: u32, minor: u32, patch: u32) -> Version {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// Parses a version string the way libcni does: `""` means 0.1.0, missing minor/patch parts
    /// are 0 (`"1.0"` is 1.0.0), more than three parts or a non-numeric part is an error.
    pub fn parse(text: &str) -> Result<Version, Error> {
        if text.is_empty() {
            return Ok(Version::V0_1_0);
        }
        if let Some(known) = Version::from_spelling(text) {
            return Ok(known);
        }
        let parts: Vec<&str> = text.split('.').collect();
        if parts.len() > 3 {
            return Err(Error::version(format!(
                "invalid version {text:?}: too many parts"
            )));
        }
        let names = ["major", "minor", "patch"];
        let mut nums = [0u32; 3];
        for (i, part) in parts.iter().enumerate() {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) || part.len() > 9 {
                return Err(Error::version(format!(
                    "failed to convert {} version part {part:?} of {text:?}",
                    names[i]
                )));
            }
            nums[i] = part.parse().map_err(|_| {
                Error::version(format!(
                    "failed to convert {} version part {part:?}",
                    names[i]
                ))
            })?;
        }
        Ok(Version::new(nums[0], nums[1], nums[2]))
    }

    /// True for the seven versions of the specification (0.1.0 … 1.1.0).
    pub fn is_known(self) -> bool {
        Version::ALL.contains(&self)
    }

    /// Parses and requires a version of the specification this library knows.
    pub fn parse_known(text: &str) -> Result<Version, Error> {
        let v = Version::parse(text)?;
        if v.is_known() {
            Ok(v)
        } else {
            Err(Error::version(format!("unsupported CNI version {text:?}")))
        }
    }

    /// The result encoding used by this version.
    pub fn family(self) -> Family {
        if self < Version::V0_3_0 {
            Family::V020
        } else if self < Version::V1_0_0 {
            Family::V040
        } else {
            Family::V100
        }
    }

    /// CHECK exists from 0.4.0 on; the result cache is kept from 0.4.0 on as well.
    pub fn supports_check(self) -> bool {
        self >= Version::V0_4_0
    }

    /// GC and STATUS exist from 1.1.0 on.
    pub fn supports_gc_and_status(self) -> bool {
        self >= Version::V1_1_0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for Version {
    type Err = Error;
    fn from_str(s: &str) -> Result<Version, Error> {
        Version::parse(s)
    }
}

/// The newest version present in both lists, if any.
pub fn newest_common(a: &[Version], b: &[Version]) -> Option<Version> {
    a.iter().filter(|v| b.contains(v)).max().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        assert_eq!(Version::parse("").unwrap(), Version::V0_1_0);
        assert_eq!(Version::parse("1.0").unwrap(), Version::V1_0_0);
        assert_eq!(Version::parse("0.3.1").unwrap(), Version::V0_3_1);
        assert!(Version::V0_3_1 < Version::V0_4_0);
        assert!(Version::V0_4_0 < Version::V1_0_0);
        assert_eq!(Version::parse("1.2.3").unwrap().to_string(), "1.2.3");
        for v in Version::ALL {
            assert_eq!(Version::from_spelling(&v.to_string()), Some(v));
        }
        assert_eq!(Version::from_spelling("1.0"), None);
        for bad in [
            "1.0.f",
            "1.2.3.4",
            "a",
            ".1",
            "1..0",
            "-1.0.0",
            "1. 0",
            "99999999999",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad} must be rejected");
        }
    }

    #[test]
    fn families_and_features() {
        assert_eq!(Version::V0_2_0.family(), Family::V020);
        assert_eq!(Version::V0_3_0.family(), Family::V040);
        assert_eq!(Version::V0_4_0.family(), Family::V040);
        assert_eq!(Version::V1_1_0.family(), Family::V100);
        assert!(!Version::V0_3_1.supports_check());
        assert!(Version::V0_4_0.supports_check());
        assert!(Version::V1_1_0.supports_gc_and_status());
        assert!(!Version::V1_0_0.supports_gc_and_status());
        assert!(Version::parse_known("1.2.3").is_err());
        assert_eq!(
            newest_common(&Version::ALL, &[Version::V0_3_1, Version::V1_0_0]),
            Some(Version::V1_0_0)
        );
    }
}
