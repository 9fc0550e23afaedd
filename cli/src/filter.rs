//! `network ls --filter`: iSulad matches `name` and `plugin` filters as exact strings or as
//! unanchored POSIX extended regular expressions (`regcomp(REG_EXTENDED)`, `regexec`). Here the
//! expressions are the `regex` crate's, which matches in linear time, so no pattern makes a
//! listing slow; its syntax covers the extended expressions people write (`^ $ . [ ] [^ ]
//! [[:alpha:]] ( | ) * + ? {n,m}` and `\` escapes), and a pattern it cannot compile is a usage
//! error rather than a filter that silently matches nothing.

use regex::{Regex, RegexBuilder};

use crate::fail::Failure;

/// One filter value.
#[derive(Debug)]
pub struct Pattern {
    text: String,
    regex: Regex,
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, Failure> {
        let regex = RegexBuilder::new(text)
            // As without REG_NEWLINE: '.' also matches a newline, '^' and '$' only the ends.
            .dot_matches_new_line(true)
            .build()
            .map_err(|e| {
                Failure::usage(format!("invalid filter pattern {text:?}: {}", reason(&e)))
            })?;
        Ok(Pattern {
            text: text.to_string(),
            regex,
        })
    }

    /// Equal to the pattern's text, or matched by it somewhere (anchors permitting).
    pub fn matches(&self, value: &str) -> bool {
        value == self.text || self.regex.is_match(value)
    }
}

/// The regex crate's message is several lines (the pattern, a caret, "error: why"); the last one
/// says why.
fn reason(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text.lines().last().unwrap_or_default().trim();
    last.strip_prefix("error: ").unwrap_or(last).to_string()
}

/// The `--filter` values of `network ls`: every key given must match (one of its values).
#[derive(Debug, Default)]
pub struct Filters {
    names: Vec<Pattern>,
    plugins: Vec<Pattern>,
}

impl Filters {
    pub fn parse<'a>(specs: impl Iterator<Item = &'a str>) -> Result<Filters, Failure> {
        let mut filters = Filters::default();
        for spec in specs {
            let (key, value) = spec.split_once('=').ok_or_else(|| {
                Failure::usage(format!("invalid filter {spec:?}: expected KEY=VALUE"))
            })?;
            let pattern = Pattern::parse(value)?;
            match key {
                "name" => filters.names.push(pattern),
                "plugin" => filters.plugins.push(pattern),
                _ => {
                    return Err(Failure::usage(format!(
                        "invalid filter {spec:?}: the keys are name and plugin"
                    )))
                }
            }
        }
        Ok(filters)
    }

    /// iSulad's rule: the name matches, and at least one plugin type does (a network without
    /// plugins never matches a plugin filter).
    pub fn accepts(&self, name: &str, plugins: &[String]) -> bool {
        let any = |patterns: &[Pattern], value: &str| patterns.iter().any(|p| p.matches(value));
        (self.names.is_empty() || any(&self.names, name))
            && (self.plugins.is_empty() || plugins.iter().any(|p| any(&self.plugins, p)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, value: &str) -> bool {
        Pattern::parse(pattern).unwrap().matches(value)
    }

    #[test]
    fn unanchored_extended_regular_expressions() {
        assert!(matches("net1", "net1"));
        assert!(matches("et", "net1"), "unanchored");
        assert!(matches("^net", "net1") && !matches("^et", "net1"));
        assert!(matches("1$", "net1") && !matches("t$", "net1"));
        assert!(matches("^n.t1$", "net1") && !matches("^n.t$", "net1"));
        assert!(matches("^n.*1$", "n1") && matches("^n.*1$", "nabc1"));
        assert!(matches("^ne*t", "nt") && matches("^ne*t", "neeet") && !matches("^ne*t", "nxt"));
        assert!(matches("a\\.b", "a.b") && !matches("a\\.b", "axb"));
        assert!(matches("^$", "") && !matches("^$", "x"));
        assert!(matches("", "anything"));
        assert!(matches("br.*", "bridge"));
        // What the old subset refused: bracket expressions, alternation, +, ?, bounds, groups.
        assert!(matches("^cli-[ab]", "cli-b1") && !matches("^cli-[ab]", "cli-c1"));
        assert!(
            matches("^(bridge|macvlan)$", "macvlan") && !matches("^(bridge|macvlan)$", "bridge2")
        );
        assert!(matches("^ne+t$", "neet") && !matches("^ne+t$", "nt"));
        assert!(matches("^net-?1$", "net1") && matches("^net-?1$", "net-1"));
        assert!(
            matches("^[[:alpha:]]{3}[0-9]$", "net1") && !matches("^[[:alpha:]]{3}[0-9]$", "ne1")
        );
        assert!(
            matches("a.b", "a\nb"),
            "'.' matches a newline, as in POSIX without REG_NEWLINE"
        );
    }

    #[test]
    fn exact_match_wins_over_syntax() {
        // As in iSulad, a value equal to the filter matches even if the regex would not.
        assert!(matches("^x$", "^x$"));
        assert!(!matches("^x$", "^y$"));
        assert!(matches("a+", "a+") && matches("a+", "aaa"));
    }

    /// The old hand-written matcher backtracked: six '.*' and an 'x' against a 60-character name
    /// that has no 'x' took 6 s in release (114 s in debug). Linear time: well under a second.
    #[test]
    fn pathological_patterns_answer_at_once() {
        let name = "a".repeat(60);
        let pattern = Pattern::parse(".*.*.*.*.*.*x").unwrap();
        let start = std::time::Instant::now();
        for _ in 0..10 {
            assert!(!pattern.matches(&name));
        }
        let took = start.elapsed();
        assert!(
            took < std::time::Duration::from_secs(1),
            "10 matches took {took:?}"
        );
        let nested = Pattern::parse("^(a*)*(a*)*(a*)*$b").unwrap();
        assert!(!nested.matches(&name));
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn malformed_patterns() {
        let err = |p: &str| match Pattern::parse(p) {
            Err(Failure::Usage(msg)) => msg,
            other => panic!("{p}: {other:?}"),
        };
        assert_eq!(
            err("br[0-9"),
            "invalid filter pattern \"br[0-9\": unclosed character class"
        );
        assert_eq!(
            err("(a|b"),
            "invalid filter pattern \"(a|b\": unclosed group"
        );
        assert_eq!(
            err("*a"),
            "invalid filter pattern \"*a\": repetition operator missing expression"
        );
        assert_eq!(
            err("a\\"),
            "invalid filter pattern \"a\\\\\": incomplete escape sequence, reached end of pattern prematurely"
        );
    }

    #[test]
    fn filters_combine_like_isulad() {
        let plugins: Vec<String> = ["bridge", "portmap"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let f = |specs: &[&str]| Filters::parse(specs.iter().copied()).unwrap();
        assert!(f(&[]).accepts("x", &[]));
        assert!(f(&["name=^net", "plugin=portmap"]).accepts("net1", &plugins));
        assert!(!f(&["name=^net", "plugin=firewall"]).accepts("net1", &plugins));
        assert!(
            f(&["name=zzz", "name=net"]).accepts("net1", &plugins),
            "same key: any value"
        );
        assert!(
            !f(&["plugin=.*"]).accepts("net1", &[]),
            "no plugins never match"
        );
        for (spec, msg) in [
            ("name", "invalid filter \"name\": expected KEY=VALUE"),
            (
                "driver=bridge",
                "invalid filter \"driver=bridge\": the keys are name and plugin",
            ),
        ] {
            assert_eq!(
                Filters::parse([spec].into_iter()).unwrap_err(),
                Failure::usage(msg)
            );
        }
    }
}
