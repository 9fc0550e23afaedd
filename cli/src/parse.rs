//! From the clap definitions (args.rs) to a request: the finished command tree (help layout,
//! usage lines, notes), parsing, and clap's errors as the CLI's usage errors (exit status 2,
//! one line naming the command, then "Run 'clibcni help' for usage.").

use std::ffi::OsString;

use clap::builder::StyledStr;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{ArgAction, ColorChoice, Command, CommandFactory, FromArgMatches};

use crate::args::{notes, Cli};
use crate::fail::Failure;

/// `-h`, `--help` and `clibcni help` show the same page: clap's short help (one line per
/// option), with the paragraphs after a command's summary (which the man page shows in its
/// DESCRIPTION) before the options.
const TEMPLATE: &str =
    "{usage-heading} {usage}\n\n{about-with-newline}\n{before-help}{all-args}{after-help}";

/// What the command line asks for.
#[derive(Debug)]
pub enum Request {
    Run(Cli),
    /// Help or version text for stdout.
    Show(String),
}

/// The whole command tree, as parsed, shown in help, completed and documented.
pub fn command() -> Command {
    let mut cmd = finish(Cli::command().color(ColorChoice::Never), &[]);
    cmd.build();
    cmd
}

fn finish(mut cmd: Command, path: &[&str]) -> Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for name in &names {
        let sub_path: Vec<&str> = path.iter().copied().chain([name.as_str()]).collect();
        cmd = cmd.mut_subcommand(name, |sub| finish(sub, &sub_path));
    }
    let usage = usage_line(&cmd, path);
    let details = cmd.get_long_about().and_then(|text| {
        text.to_string()
            .split_once("\n\n")
            .map(|(_, rest)| rest.to_string())
    });
    let notes = notes(path);
    // Without arguments, a group is a usage error naming its subcommands, not its help page.
    let mut cmd = cmd
        .override_usage(usage)
        .help_template(TEMPLATE)
        .arg_required_else_help(false);
    if let Some(details) = details {
        cmd = cmd.before_help(format!("{details}\n"));
    }
    if !notes.is_empty() {
        cmd = cmd.after_help(notes);
    }
    cmd
}

/// `clibcni network create [OPTIONS] [NAME]`: `[OPTIONS]` when the command has options of its
/// own (global ones are always accepted), then its arguments.
fn usage_line(cmd: &Command, path: &[&str]) -> String {
    let mut line = std::iter::once("clibcni")
        .chain(path.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    if path.is_empty() {
        line.push_str(" [GLOBAL OPTIONS]");
    }
    if cmd.has_subcommands() {
        line.push_str(" COMMAND [OPTIONS] [ARGUMENTS]");
        return line;
    }
    let own_options = cmd.get_arguments().any(|a| {
        !a.is_positional() && !a.is_global_set() && !matches!(a.get_action(), ArgAction::HelpShort)
    });
    if own_options {
        line.push_str(" [OPTIONS]");
    }
    for arg in cmd.get_positionals() {
        let name = arg
            .get_value_names()
            .and_then(|names| names.first())
            .map_or_else(|| arg.get_id().as_str().to_uppercase(), |n| n.to_string());
        let many = if matches!(arg.get_action(), ArgAction::Append) {
            "..."
        } else {
            ""
        };
        if arg.is_required_set() {
            line.push_str(&format!(" {name}{many}"));
        } else {
            line.push_str(&format!(" [{name}{many}]"));
        }
    }
    line
}

/// Parses the arguments after the program name.
pub fn parse(args: &[OsString]) -> Result<Request, Failure> {
    let mut cmd = command();
    let argv = std::iter::once(OsString::from("clibcni")).chain(args.iter().cloned());
    let matches = match cmd.try_get_matches_from_mut(argv) {
        Ok(matches) => matches,
        Err(err) => return from_clap(&cmd, &err),
    };
    Cli::from_arg_matches(&matches)
        .map(Request::Run)
        .map_err(|err| Failure::usage(first_line(&err)))
}

/// The help page of the command named by `words` (empty: the overview).
pub fn help(words: &[String]) -> Result<String, Failure> {
    let mut cmd = command();
    let mut found = &mut cmd;
    for word in words {
        found = found
            .find_subcommand_mut(word)
            .ok_or_else(|| Failure::usage(format!("no command '{}'", words.join(" "))))?;
    }
    Ok(found.render_help().to_string())
}

fn from_clap(cmd: &Command, err: &clap::Error) -> Result<Request, Failure> {
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        return Ok(Request::Show(err.render().to_string()));
    }
    let usage = err
        .get(ContextKind::Usage)
        .map(value_text)
        .unwrap_or_default();
    let usage = usage.strip_prefix("Usage: ").unwrap_or(&usage);
    let path = command_path(cmd, usage).unwrap_or_default();
    let words = path.join(" ");
    let text = |kind| err.get(kind).map(value_text).unwrap_or_default();
    let invalid_arg = text(ContextKind::InvalidArg);
    // "--subnet <SUBNET>" → ("--subnet", "SUBNET"); an argument "<SHELL>" → "SHELL".
    let (option, value_name) = match invalid_arg.split_once(" <") {
        Some((option, rest)) => (option.to_string(), rest.trim_end_matches('>').to_string()),
        None => (
            invalid_arg.trim_matches(['<', '>']).to_string(),
            String::new(),
        ),
    };
    let msg = match err.kind() {
        ErrorKind::MissingSubcommand if path.is_empty() => "missing command".to_string(),
        ErrorKind::MissingSubcommand => format!(
            "'{words}' needs a subcommand: {}",
            text(ContextKind::ValidSubcommand)
        ),
        ErrorKind::InvalidSubcommand => {
            let full: Vec<String> = path
                .iter()
                .cloned()
                .chain([text(ContextKind::InvalidSubcommand)])
                .collect();
            format!("unknown command '{}'{}", full.join(" "), suggestion(err))
        }
        ErrorKind::UnknownArgument if !option.starts_with('-') || option == "-" => {
            format!("too many arguments; usage: {usage}")
        }
        ErrorKind::UnknownArgument if path.is_empty() => format!(
            "unknown option '{option}' (only global options may come before the command){}",
            suggestion(err)
        ),
        ErrorKind::UnknownArgument => {
            format!("unknown option '{option}' for '{words}'{}", suggestion(err))
        }
        ErrorKind::MissingRequiredArgument => format!("missing arguments; usage: {usage}"),
        ErrorKind::InvalidValue if text(ContextKind::InvalidValue).is_empty() => {
            format!("option {option} needs a value ({value_name})")
        }
        ErrorKind::InvalidValue => {
            let valid = text(ContextKind::ValidValue);
            let valid = if valid.is_empty() {
                valid
            } else {
                format!(" (one of: {valid})")
            };
            format!(
                "invalid value '{}' for {option}{valid}",
                text(ContextKind::InvalidValue)
            )
        }
        ErrorKind::TooManyValues | ErrorKind::NoEquals => {
            format!("option {option} takes no value")
        }
        ErrorKind::ArgumentConflict if invalid_arg == text(ContextKind::PriorArg) => {
            format!("option {option} given more than once")
        }
        _ => first_line(err),
    };
    Err(Failure::usage(msg))
}

/// The words of the command whose usage line is `usage`.
fn command_path(cmd: &Command, usage: &str) -> Option<Vec<String>> {
    if cmd
        .get_overridden_usage()
        .is_some_and(|u| u.to_string() == usage)
    {
        return Some(Vec::new());
    }
    cmd.get_subcommands().find_map(|sub| {
        command_path(sub, usage).map(|mut rest| {
            rest.insert(0, sub.get_name().to_string());
            rest
        })
    })
}

/// " (did you mean 'network'?)" when clap has a suggestion.
fn suggestion(err: &clap::Error) -> String {
    [ContextKind::SuggestedSubcommand, ContextKind::SuggestedArg]
        .into_iter()
        .find_map(|kind| err.get(kind).map(value_text))
        .map_or_else(String::new, |s| format!(" (did you mean '{s}'?)"))
}

fn value_text(value: &ContextValue) -> String {
    match value {
        ContextValue::String(s) => s.clone(),
        ContextValue::Strings(list) => list.join(", "),
        ContextValue::StyledStr(s) => s.to_string(),
        ContextValue::StyledStrs(list) => list
            .iter()
            .map(StyledStr::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        ContextValue::Number(n) => n.to_string(),
        ContextValue::Bool(b) => b.to_string(),
        ContextValue::None => String::new(),
        _ => value.to_string(),
    }
}

/// clap's own message, without its "error: " prefix and hints.
fn first_line(err: &clap::Error) -> String {
    let rendered = err.render().to_string();
    let line = rendered.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{Cmd, NetworkCmd};

    fn parse_words(line: &str) -> Result<Request, Failure> {
        let args: Vec<OsString> = line.split_whitespace().map(Into::into).collect();
        parse(&args)
    }

    fn run(line: &str) -> Cli {
        match parse_words(line) {
            Ok(Request::Run(cli)) => cli,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn usage_error(line: &str) -> String {
        match parse_words(line) {
            Err(Failure::Usage(msg)) => msg,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn shown(line: &str) -> String {
        match parse_words(line) {
            Ok(Request::Show(text)) => text,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn options_anywhere_after_the_command() {
        let cli = run("-v network create --subnet 10.1.0.0/24 --gateway=10.1.0.1 net1 --internal");
        assert!(cli.globals.verbose);
        let Cmd::Network(NetworkCmd::Create(create)) = cli.command else {
            panic!("{:?}", cli.command)
        };
        assert_eq!(create.name.as_deref(), Some("net1"));
        assert_eq!(create.subnet.as_deref(), Some("10.1.0.0/24"));
        assert_eq!(create.gateway.as_deref(), Some("10.1.0.1"));
        assert!(create.internal);
        let cli = run("network ls -q --filter name=a --filter plugin=^br --bin-dir /a:/b");
        assert_eq!(cli.globals.bin_dir, ["/a:/b"]);
        let Cmd::Network(NetworkCmd::Ls(ls)) = cli.command else {
            panic!("{:?}", cli.command)
        };
        assert_eq!(ls.filter, ["name=a", "plugin=^br"]);
        assert!(ls.quiet && !ls.json);
        let Cmd::Add(dashed) = run("add net -- -weird").command else {
            panic!()
        };
        assert_eq!(
            (dashed.target.network.as_str(), dashed.target.netns.as_str()),
            ("net", "-weird")
        );
        let Cmd::Del(stdin_like) = run("del net -").command else {
            panic!()
        };
        assert_eq!(stdin_like.netns, "-");
        let Cmd::Gc(gc) = run("gc net").command else {
            panic!()
        };
        assert_eq!((gc.network.as_str(), gc.netns), ("net", None));
    }

    #[test]
    fn usage_errors() {
        for (line, msg) in [
            ("", "missing command"),
            ("-v", "missing command"),
            ("frobnicate", "unknown command 'frobnicate'"),
            (
                "netwrk ls",
                "unknown command 'netwrk' (did you mean 'network'?)",
            ),
            ("network frob", "unknown command 'network frob'"),
            (
                "network",
                "'network' needs a subcommand: create, ls, inspect, rm",
            ),
            (
                "add net",
                "missing arguments; usage: clibcni add [OPTIONS] NETWORK NETNS",
            ),
            (
                "del a b c",
                "too many arguments; usage: clibcni del NETWORK NETNS",
            ),
            (
                "network rm",
                "missing arguments; usage: clibcni network rm NAME...",
            ),
            (
                "network ls --frob",
                "unknown option '--frob' for 'network ls'",
            ),
            (
                "-q network ls",
                "unknown option '-q' (only global options may come before the command)",
            ),
            (
                "network create --subnet",
                "option --subnet needs a value (SUBNET)",
            ),
            (
                "network create --internal=yes",
                "option --internal takes no value",
            ),
            (
                "attach n /x --id a --id b",
                "option --id given more than once",
            ),
            ("-v -v cache ls", "option --verbose given more than once"),
            ("del n /x --json", "unknown option '--json' for 'del'"),
            (
                "completions tcsh",
                "invalid value 'tcsh' for SHELL (one of: bash, elvish, fish, powershell, zsh)",
            ),
        ] {
            assert_eq!(usage_error(line), msg, "{line:?}");
        }
    }

    #[test]
    fn help_requests() {
        let top = shown("--help");
        assert!(
            top.starts_with("Usage: clibcni [GLOBAL OPTIONS] COMMAND"),
            "{top}"
        );
        assert_eq!(help(&[]).unwrap(), top);
        let ls = help(&["network".into(), "ls".into()]).unwrap();
        assert_eq!(shown("network ls -h"), ls);
        assert_eq!(shown("-v network ls --help"), ls);
        // --help wins over missing arguments.
        assert!(shown("attach --help")
            .starts_with("Usage: clibcni attach [OPTIONS] NETWORK[,NETWORK...] NETNS\n"));
        assert!(shown("help --help").starts_with("Usage: clibcni help [COMMAND...]\n"));
        assert_eq!(shown("--version"), "clibcni 2.2.0\n");
        assert_eq!(
            help(&["nope".into()]).unwrap_err(),
            Failure::usage("no command 'nope'")
        );
        assert_eq!(
            help(&["network".into(), "nope".into()]).unwrap_err(),
            Failure::usage("no command 'network nope'")
        );
    }

    #[test]
    fn help_texts() {
        let top = help(&[]).unwrap();
        assert!(
            top.contains("\n  network      Manage native bridge networks\n")
                && top.contains("CNI_CACHE_DIR"),
            "{top}"
        );
        let verbose = "-v, --verbose         Print to stderr how long each plugin call and each CNI operation took";
        assert!(top.contains(verbose), "{top}");
        let group = help(&["network".into()]).unwrap();
        assert!(
            group.starts_with("Usage: clibcni network COMMAND [OPTIONS] [ARGUMENTS]\n")
                && group.contains("\n  rm       Remove native networks")
                && !group.contains("attach"),
            "{group}"
        );
        let ls = help(&["network".into(), "ls".into()]).unwrap();
        assert!(
            ls.starts_with(
                "Usage: clibcni network ls [OPTIONS]\n\nList native networks (NAME VERSION PLUGIN)\n\nA PATTERN matches"
            ),
            "{ls}"
        );
        assert!(
            ls.contains("  -q, --quiet ") && ls.contains("extended\nregular expression"),
            "{ls}"
        );
        let add = help(&["add".into()]).unwrap();
        assert!(
            add.contains("cnitool-") && !add.contains("isulacni-NAME"),
            "{add}"
        );
        let create = help(&["network".into(), "create".into()]).unwrap();
        assert!(
            create.contains("isulacni-NAME") && !create.contains("CNI_ARGS"),
            "{create}"
        );
    }

    #[test]
    fn definitions_are_consistent() {
        // clap's own checks of the whole tree (duplicate names, bad defaults, …).
        command().debug_assert();
    }
}
