//! `network ls --filter`: iSulad matches `name` and `plugin` filters as exact strings or as
//! unanchored regular expressions. Without a regex crate, a documented subset is supported:
//! `^`/`$` anchors, `.` (any character), `*` (the previous item, any number of times) and `\`
//! escapes. Other regex operators are refused rather than silently taken literally.

use crate::fail::Failure;

/// Operators of full regular expressions that this subset does not implement.
const UNSUPPORTED: &[char] = &['[', ']', '(', ')', '{', '}', '|', '+', '?'];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Atom {
    Any,
    Char(char),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Item {
    atom: Atom,
    repeat: bool,
}

/// One filter value.
#[derive(Debug, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    items: Vec<Item>,
    at_start: bool,
    at_end: bool,
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, Failure> {
        let invalid = |why: &str| Failure::usage(format!("invalid filter pattern {text:?}: {why}"));
        let mut chars = text.chars().peekable();
        let at_start = chars.next_if_eq(&'^').is_some();
        let mut items: Vec<Item> = Vec::new();
        let mut at_end = false;
        while let Some(c) = chars.next() {
            let atom = match c {
                '$' if chars.peek().is_none() => {
                    at_end = true;
                    break;
                }
                '\\' => Atom::Char(chars.next().ok_or_else(|| invalid("trailing '\\'"))?),
                '.' => Atom::Any,
                '*' => match items.last_mut() {
                    Some(last) if !last.repeat => {
                        last.repeat = true;
                        continue;
                    }
                    _ => return Err(invalid("'*' must follow a character or '.'")),
                },
                c if c == '^' || c == '$' || UNSUPPORTED.contains(&c) => {
                    return Err(invalid(&format!(
                        "'{c}' is not supported (only ^ and $ anchors, '.', '*' and '\\' escapes)"
                    )))
                }
                c => Atom::Char(c),
            };
            items.push(Item {
                atom,
                repeat: false,
            });
        }
        Ok(Pattern {
            text: text.to_string(),
            items,
            at_start,
            at_end,
        })
    }

    /// Equal to the pattern's text, or matched by it somewhere (anchors permitting).
    pub fn matches(&self, value: &str) -> bool {
        if value == self.text {
            return true;
        }
        let chars: Vec<char> = value.chars().collect();
        let last_start = if self.at_start { 0 } else { chars.len() };
        (0..=last_start).any(|start| match_here(&self.items, &chars[start..], self.at_end))
    }
}

fn match_here(items: &[Item], text: &[char], at_end: bool) -> bool {
    let Some((item, rest)) = items.split_first() else {
        return !at_end || text.is_empty();
    };
    let fits = |c: &char| item.atom == Atom::Any || item.atom == Atom::Char(*c);
    if !item.repeat {
        return text.first().is_some_and(fits) && match_here(rest, &text[1..], at_end);
    }
    let longest = text.iter().take_while(|c| fits(c)).count();
    (0..=longest)
        .rev()
        .any(|n| match_here(rest, &text[n..], at_end))
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
    fn subset_of_regular_expressions() {
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
    }

    #[test]
    fn exact_match_wins_over_syntax() {
        // As in iSulad, a value equal to the filter matches even if the regex would not.
        assert!(matches("^x$", "^x$"));
        assert!(!matches("^x$", "^y$"));
    }

    #[test]
    fn malformed_patterns() {
        let err = |p: &str| match Pattern::parse(p) {
            Err(Failure::Usage(msg)) => msg,
            other => panic!("{p}: {other:?}"),
        };
        assert_eq!(err("br[0-9]"), "invalid filter pattern \"br[0-9]\": '[' is not supported (only ^ and $ anchors, '.', '*' and '\\' escapes)");
        assert_eq!(err("a|b"), "invalid filter pattern \"a|b\": '|' is not supported (only ^ and $ anchors, '.', '*' and '\\' escapes)");
        assert_eq!(
            err("*a"),
            "invalid filter pattern \"*a\": '*' must follow a character or '.'"
        );
        assert_eq!(
            err("a**"),
            "invalid filter pattern \"a**\": '*' must follow a character or '.'"
        );
        assert_eq!(
            err("a\\"),
            "invalid filter pattern \"a\\\\\": trailing '\\'"
        );
        assert!(Pattern::parse("a$b").is_err(), "'$' only at the end");
        assert!(Pattern::parse("a^").is_err(), "'^' only at the start");
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
