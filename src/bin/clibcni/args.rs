//! The command table, the help texts and a small argument parser (no parsing crate).
//!
//! Grammar: `clibcni [GLOBAL OPTIONS] COMMAND [SUBCOMMAND] [OPTIONS AND ARGUMENTS]`. Options may be
//! written `--name value` or `--name=value`; `--` ends the options; a lone `-` is an argument.
//! Before the command only global options are allowed; after it, global and the command's own.

use crate::fail::Failure;

/// One option: its long name, an optional short letter, the name of its value (None for flags)
/// and whether it may be given more than once.
pub struct Opt {
    pub long: &'static str,
    pub short: Option<char>,
    pub value: Option<&'static str>,
    pub repeat: bool,
    pub help: &'static str,
}

/// One command: its words, usage of its arguments, how many it takes, options and help.
pub struct Command {
    pub words: &'static [&'static str],
    pub usage: &'static str,
    pub min_args: usize,
    /// None: no upper limit.
    pub max_args: Option<usize>,
    pub options: &'static [Opt],
    pub summary: &'static str,
    pub details: &'static str,
}

const fn flag(long: &'static str, short: Option<char>, help: &'static str) -> Opt {
    Opt {
        long,
        short,
        value: None,
        repeat: false,
        help,
    }
}

const fn valued(long: &'static str, value: &'static str, repeat: bool, help: &'static str) -> Opt {
    Opt {
        long,
        short: None,
        value: Some(value),
        repeat,
        help,
    }
}

const JSON: Opt = flag("json", None, "print machine-readable JSON");

pub const GLOBAL_OPTIONS: &[Opt] = &[
    flag("help", Some('h'), "show help for the command"),
    flag(
        "verbose",
        Some('v'),
        "print each CNI operation's duration to stderr (per list, not per plugin)",
    ),
    valued(
        "conf-dir",
        "DIR",
        false,
        "network configuration directory (default: $NETCONFPATH, else /etc/cni/net.d)",
    ),
    valued(
        "bin-dir",
        "DIRS",
        true,
        "plugin dirs, ':'-separated, repeatable (default: $CNI_PATH, else /opt/cni/bin)",
    ),
];

const CNITOOL_ENV: &str = "Environment (as cnitool):
  NETCONFPATH    configuration directory (default /etc/cni/net.d); the network is looked up by
                 name in its .conflist files, then in its .conf and .json files (a single
                 configuration is turned into a one-plugin list)
  CNI_PATH       ':'-separated plugin directories (default /opt/cni/bin)
  CNI_ARGS       'K=V;K=V' arguments for the plugins (no empty part, key or value)
  CAP_ARGS       JSON object of capability arguments (e.g. {\"portMappings\":[…]})
  CNI_IFNAME     interface name in the container (default eth0)
  CNI_CACHE_DIR  result cache directory (default /var/lib/cni)
The container id is \"cnitool-\" followed by the hex of the first 10 bytes of the SHA-512 of
the absolute NETNS path, so scripts written for cnitool run unchanged.";

const MANAGE_ENV: &str =
    "Native networks are iSulad's isulacni-NAME.conflist files in the configuration
directory (--conf-dir, $NETCONFPATH, default /etc/cni/net.d); plugins come from --bin-dir,
$CNI_PATH or /opt/cni/bin (Debian: /usr/lib/cni); the result cache is $CNI_CACHE_DIR or
/var/lib/cni.";

pub const COMMANDS: &[Command] = &[
    Command {
        words: &["add"],
        usage: "NETWORK NETNS",
        min_args: 2,
        max_args: Some(2),
        options: &[JSON],
        summary: "ADD the network to a network namespace (cnitool add)",
        details: "Prints the CNI result (indented JSON; one line with --json).",
    },
    Command {
        words: &["check"],
        usage: "NETWORK NETNS",
        min_args: 2,
        max_args: Some(2),
        options: &[JSON],
        summary: "CHECK an attachment (cnitool check)",
        details: "Prints nothing on success; with --json, prints the cached result.",
    },
    Command {
        words: &["del"],
        usage: "NETWORK NETNS",
        min_args: 2,
        max_args: Some(2),
        options: &[],
        summary: "DEL the network from a network namespace (cnitool del)",
        details: "",
    },
    Command {
        words: &["gc"],
        usage: "NETWORK [NETNS]",
        min_args: 1,
        max_args: Some(2),
        options: &[],
        summary: "GC the network: every cached attachment of it is stale (cnitool gc)",
        details: "NETNS is accepted for cnitool compatibility and ignored.",
    },
    Command {
        words: &["status"],
        usage: "NETWORK [NETNS]",
        min_args: 1,
        max_args: Some(2),
        options: &[],
        summary: "STATUS of the network's plugins (cnitool status)",
        details: "NETNS is accepted for cnitool compatibility and ignored.",
    },
    Command {
        words: &["network", "create"],
        usage: "[NAME]",
        min_args: 0,
        max_args: Some(1),
        options: &[
            valued("subnet", "SUBNET", false, "subnet in CIDR form (default: the first free 192.168.x.0/24, 172.16-31.x.0/24, 10.x.y.0/24)"),
            valued("gateway", "IP", false, "gateway (needs --subnet; default: the subnet's first address)"),
            flag("internal", None, "no gateway or masquerading on the bridge"),
        ],
        summary: "create a native bridge network (iSulad's isulacni-NAME.conflist)",
        details: "Without NAME the network is named after its bridge (isula-brN). Prints the name.",
    },
    Command {
        words: &["network", "ls"],
        usage: "",
        min_args: 0,
        max_args: Some(0),
        options: &[
            flag("quiet", Some('q'), "print only the names"),
            valued("filter", "KEY=VALUE", true, "name=PATTERN or plugin=PATTERN; repeatable (same key: any, different keys: all)"),
            JSON,
        ],
        summary: "list native networks (NAME VERSION PLUGIN)",
        details: "A PATTERN matches a value equal to it or, like iSulad's regular expressions, any part\n\
                  of it. Supported pattern syntax: '^' and '$' anchors, '.' (any character), '*' (the\n\
                  previous item repeated, so '.*' is anything) and '\\' escapes; other regular\n\
                  expression operators ([ ] ( ) { } | + ?) are refused.",
    },
    Command {
        words: &["network", "inspect"],
        usage: "NAME",
        min_args: 1,
        max_args: Some(1),
        options: &[JSON],
        summary: "print a native network's configuration file",
        details: "The file is JSON already: --json prints the same text.",
    },
    Command {
        words: &["network", "rm"],
        usage: "NAME...",
        min_args: 1,
        max_args: None,
        options: &[],
        summary: "remove native networks (file, bridge, IPAM state)",
        details: "A network with cached attachments (see 'cache ls') is refused, as iSulad refuses one\n\
                  with connected containers. Prints each removed name.",
    },
    Command {
        words: &["attach"],
        usage: "NETWORK[,NETWORK...] NETNS",
        min_args: 2,
        max_args: Some(2),
        options: &[
            valued("id", "ID", false, "container id (default: cnitool's id for NETNS)"),
            valued("port", "HOST:CONTAINER[/PROTO]", true, "publish a port on the first network (tcp, udp or sctp; default tcp); repeatable"),
            JSON,
        ],
        summary: "attach a network namespace to native networks, as iSulad does",
        details: "Loopback is brought up first; the networks get the next free interfaces eth0, eth1, …\n\
                  in the order given. On failure the networks attached by this command are detached.",
    },
    Command {
        words: &["detach"],
        usage: "NETWORK[,NETWORK...] NETNS",
        min_args: 2,
        max_args: Some(2),
        options: &[valued("id", "ID", false, "container id (default: cnitool's id for NETNS)")],
        summary: "detach a network namespace from networks",
        details: "Each network is deleted with the configuration and arguments cached when it was\n\
                  attached; loopback goes with the container's last network. Prints each detached name.",
    },
    Command {
        words: &["cache", "ls"],
        usage: "",
        min_args: 0,
        max_args: Some(0),
        options: &[JSON],
        summary: "list cached attachments (network, container id, interface, netns, addresses)",
        details: "",
    },
    Command {
        words: &["help"],
        usage: "[COMMAND...]",
        min_args: 0,
        max_args: None,
        options: &[],
        summary: "show help",
        details: "",
    },
];

/// What the command line asks for.
#[derive(Debug)]
pub enum Request {
    /// Help for the commands starting with these words (empty: everything).
    Help(Vec<String>),
    Run(Invocation),
}

/// A parsed command line.
#[derive(Debug)]
pub struct Invocation {
    pub command: &'static Command,
    pub args: Vec<String>,
    /// Options in command-line order, by long name.
    options: Vec<(&'static str, Option<String>)>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.words.join(" "))
    }
}

impl Invocation {
    pub fn words(&self) -> &[&str] {
        self.command.words
    }

    pub fn flag(&self, long: &str) -> bool {
        self.options.iter().any(|(name, _)| *name == long)
    }

    pub fn value(&self, long: &str) -> Option<&str> {
        self.values(long).first().copied()
    }

    pub fn values(&self, long: &str) -> Vec<&str> {
        self.options
            .iter()
            .filter(|(name, _)| *name == long)
            .filter_map(|(_, v)| v.as_deref())
            .collect()
    }
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Request, Failure> {
    let mut tokens = args.iter();
    let mut options = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let globals: Vec<&Opt> = GLOBAL_OPTIONS.iter().collect();
    // The command's words: global options may come first.
    let command = loop {
        let Some(token) = tokens.next() else {
            return if wants_help(&options) {
                Ok(Request::Help(words))
            } else if words.is_empty() {
                Err(Failure::usage("missing command"))
            } else {
                Err(incomplete(&words))
            };
        };
        if is_option(token) {
            read_option(token, &mut tokens, &globals, &mut options, &words)?;
            if wants_help(&options) {
                return Ok(Request::Help(words));
            }
            continue;
        }
        words.push(token.clone());
        match find_command(&words) {
            Some(command) => break command,
            None if COMMANDS.iter().any(|c| starts_with(c.words, &words)) => {}
            None => {
                return Err(Failure::usage(format!(
                    "unknown command '{}'",
                    words.join(" ")
                )))
            }
        }
    };
    let accepted: Vec<&'static Opt> = command.options.iter().chain(GLOBAL_OPTIONS).collect();
    let mut positional = Vec::new();
    let mut only_args = false;
    while let Some(token) = tokens.next() {
        if only_args || !is_option(token) {
            positional.push(token.clone());
        } else if token == "--" {
            only_args = true;
        } else {
            read_option(token, &mut tokens, &accepted, &mut options, &words)?;
        }
    }
    // `help CMD` is CMD's help; `help --help` is help's own.
    if command.words == ["help"] && !(positional.is_empty() && wants_help(&options)) {
        return Ok(Request::Help(positional));
    }
    if wants_help(&options) {
        return Ok(Request::Help(words));
    }
    check_arity(command, positional.len())?;
    Ok(Request::Run(Invocation {
        command,
        args: positional,
        options,
    }))
}

fn is_option(token: &str) -> bool {
    token.starts_with('-') && token != "-"
}

fn wants_help(options: &[(&str, Option<String>)]) -> bool {
    options.iter().any(|(name, _)| *name == "help")
}

fn starts_with(words: &[&str], prefix: &[String]) -> bool {
    words.len() >= prefix.len() && words.iter().zip(prefix).all(|(w, p)| w == p)
}

fn find_command(words: &[String]) -> Option<&'static Command> {
    COMMANDS
        .iter()
        .find(|c| c.words.len() == words.len() && starts_with(c.words, words))
}

/// `clibcni network` alone: name what may follow.
fn incomplete(words: &[String]) -> Failure {
    let next: Vec<&str> = COMMANDS
        .iter()
        .filter(|c| starts_with(c.words, words))
        .filter_map(|c| c.words.get(words.len()).copied())
        .collect();
    Failure::usage(format!(
        "'{}' needs a subcommand: {}",
        words.join(" "),
        next.join(", ")
    ))
}

/// Reads one option token (and its value from the next token when needed).
fn read_option<'a>(
    token: &str,
    rest: &mut impl Iterator<Item = &'a String>,
    accepted: &[&Opt],
    out: &mut Vec<(&'static str, Option<String>)>,
    words: &[String],
) -> Result<(), Failure> {
    let (name, inline) = match token.strip_prefix("--") {
        Some(long) => match long.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (long, None),
        },
        None => (&token[1..], None),
    };
    let long_form = token.starts_with("--");
    let opt = accepted
        .iter()
        .find(|o| {
            if long_form {
                o.long == name
            } else {
                name.chars().eq(o.short)
            }
        })
        .ok_or_else(|| unknown_option(token, words))?;
    let value = match (opt.value, inline) {
        (None, Some(_)) => {
            return Err(Failure::usage(format!(
                "option --{} takes no value",
                opt.long
            )))
        }
        (None, None) => None,
        (Some(_), Some(value)) => Some(value),
        (Some(what), None) => Some(rest.next().cloned().ok_or_else(|| {
            Failure::usage(format!("option --{} needs a value ({what})", opt.long))
        })?),
    };
    if !opt.repeat && out.iter().any(|(name, _)| *name == opt.long) {
        return Err(Failure::usage(format!(
            "option --{} given more than once",
            opt.long
        )));
    }
    out.push((opt.long, value));
    Ok(())
}

fn unknown_option(token: &str, words: &[String]) -> Failure {
    if words.is_empty() {
        Failure::usage(format!(
            "unknown option '{token}' (only global options may come before the command)"
        ))
    } else {
        Failure::usage(format!(
            "unknown option '{token}' for '{}'",
            words.join(" ")
        ))
    }
}

fn check_arity(command: &Command, given: usize) -> Result<(), Failure> {
    let too_few = given < command.min_args;
    let too_many = command.max_args.is_some_and(|max| given > max);
    if !(too_few || too_many) {
        return Ok(());
    }
    let what = if too_few {
        "missing arguments"
    } else {
        "too many arguments"
    };
    Err(Failure::usage(format!(
        "{what}; usage: clibcni {}",
        usage_line(command)
    )))
}

fn usage_line(command: &Command) -> String {
    let mut line = command.words.join(" ");
    if !command.options.is_empty() {
        line.push_str(" [OPTIONS]");
    }
    if !command.usage.is_empty() {
        line.push(' ');
        line.push_str(command.usage);
    }
    line
}

/// Help for the commands starting with `words`; None when no command does.
pub fn help(words: &[String]) -> Option<String> {
    let matching: Vec<&Command> = COMMANDS
        .iter()
        .filter(|c| starts_with(c.words, words))
        .collect();
    match matching.as_slice() {
        [] => None,
        [one] if one.words.len() == words.len() => Some(command_help(one)),
        many => Some(overview(many, words.is_empty())),
    }
}

fn overview(commands: &[&Command], top: bool) -> String {
    let mut out = String::from("Usage: clibcni [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGUMENTS]\n");
    if top {
        out.push_str("\nA CNI tool built on the clibcni library: cnitool's commands, and iSulad's native\nnetwork management without the daemon.\n");
    }
    out.push_str("\nCommands:\n");
    let width = commands
        .iter()
        .map(|c| usage_line(c).len())
        .max()
        .unwrap_or(0);
    for command in commands {
        out.push_str(&format!(
            "  {:width$}  {}\n",
            usage_line(command),
            command.summary
        ));
    }
    out.push_str(&options_help("Global options", GLOBAL_OPTIONS));
    out.push_str("\nRun 'clibcni help COMMAND' for a command's options. Exit status: 0 success, 1 error,\n2 usage error.\n");
    out.push_str("-v prints the time of every plugin call and of each CNI list operation;\non a terminal, a spinner shows while an operation takes more than a second.\n");
    if top {
        out.push('\n');
        out.push_str(CNITOOL_ENV);
        out.push_str("\n\n");
        out.push_str(MANAGE_ENV);
        out.push('\n');
    }
    out
}

fn command_help(command: &Command) -> String {
    let mut out = format!(
        "Usage: clibcni {}\n\n{}.\n",
        usage_line(command),
        capitalized(command.summary)
    );
    if !command.details.is_empty() {
        out.push('\n');
        out.push_str(command.details);
        out.push('\n');
    }
    if !command.options.is_empty() {
        out.push_str(&options_help("Options", command.options));
    }
    out.push_str(&options_help("Global options", GLOBAL_OPTIONS));
    let env = match command.words {
        ["add" | "check" | "del" | "gc" | "status"] => CNITOOL_ENV,
        ["help"] => "",
        _ => MANAGE_ENV,
    };
    if !env.is_empty() {
        out.push('\n');
        out.push_str(env);
        out.push('\n');
    }
    out
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn options_help(title: &str, options: &[Opt]) -> String {
    let spelled: Vec<String> = options
        .iter()
        .map(|o| {
            let short = o
                .short
                .map_or_else(|| "    ".to_string(), |c| format!("-{c}, "));
            let value = o.value.map_or_else(String::new, |v| format!(" {v}"));
            format!("{short}--{}{value}", o.long)
        })
        .collect();
    let width = spelled.iter().map(String::len).max().unwrap_or(0);
    let mut out = format!("\n{title}:\n");
    for (text, opt) in spelled.iter().zip(options) {
        out.push_str(&format!("  {text:width$}  {}\n", opt.help));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(line: &str) -> Result<Request, Failure> {
        let args: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        parse(&args)
    }

    fn run(line: &str) -> Invocation {
        match parse_words(line) {
            Ok(Request::Run(inv)) => inv,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn usage_error(line: &str) -> String {
        match parse_words(line) {
            Err(Failure::Usage(msg)) => msg,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn help_words(line: &str) -> Vec<String> {
        match parse_words(line) {
            Ok(Request::Help(words)) => words,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn options_anywhere_after_the_command() {
        let inv = run("-v network create --subnet 10.1.0.0/24 --gateway=10.1.0.1 net1 --internal");
        assert_eq!(inv.words(), ["network", "create"]);
        assert_eq!(inv.args, ["net1"]);
        assert_eq!(inv.value("subnet"), Some("10.1.0.0/24"));
        assert_eq!(inv.value("gateway"), Some("10.1.0.1"));
        assert!(inv.flag("internal") && inv.flag("verbose") && !inv.flag("json"));
        let ls = run("network ls -q --filter name=a --filter plugin=^br --bin-dir /a:/b");
        assert_eq!(ls.values("filter"), ["name=a", "plugin=^br"]);
        assert!(ls.flag("quiet"));
        let dashed = run("add net -- -weird");
        assert_eq!(dashed.args, ["net", "-weird"]);
        assert_eq!(run("add net -").args, ["net", "-"]);
    }

    #[test]
    fn usage_errors() {
        assert_eq!(usage_error("frobnicate"), "unknown command 'frobnicate'");
        assert_eq!(
            usage_error("network frob"),
            "unknown command 'network frob'"
        );
        assert_eq!(
            usage_error("network"),
            "'network' needs a subcommand: create, ls, inspect, rm"
        );
        assert_eq!(
            usage_error("add net"),
            "missing arguments; usage: clibcni add [OPTIONS] NETWORK NETNS"
        );
        assert_eq!(
            usage_error("del a b c"),
            "too many arguments; usage: clibcni del NETWORK NETNS"
        );
        assert_eq!(
            usage_error("network ls --frob"),
            "unknown option '--frob' for 'network ls'"
        );
        assert_eq!(
            usage_error("-q network ls"),
            "unknown option '-q' (only global options may come before the command)"
        );
        assert_eq!(
            usage_error("network create --subnet"),
            "option --subnet needs a value (SUBNET)"
        );
        assert_eq!(
            usage_error("network create --internal=yes"),
            "option --internal takes no value"
        );
        assert_eq!(
            usage_error("attach n /x --id a --id b"),
            "option --id given more than once"
        );
        assert_eq!(
            usage_error("del n /x --json"),
            "unknown option '--json' for 'del'"
        );
    }

    #[test]
    fn help_requests() {
        assert_eq!(usage_error(""), "missing command");
        assert_eq!(usage_error("-v"), "missing command");
        assert!(help_words("--help").is_empty());
        assert_eq!(help_words("help network ls"), ["network", "ls"]);
        assert_eq!(help_words("network --help"), ["network"]);
        assert_eq!(help_words("help --help"), ["help"]);
        assert_eq!(help_words("help"), Vec::<String>::new());
        assert_eq!(help_words("network ls -h"), ["network", "ls"]);
        // --help wins over missing arguments.
        assert_eq!(help_words("attach --help"), ["attach"]);
    }

    #[test]
    fn help_texts() {
        let top = help(&[]).unwrap();
        assert!(
            top.contains("  network ls [OPTIONS]") && top.contains("CNI_CACHE_DIR"),
            "{top}"
        );
        let group = help(&["network".into()]).unwrap();
        assert!(
            group.contains("network rm NAME...") && !group.contains("attach"),
            "{group}"
        );
        let ls = help(&["network".into(), "ls".into()]).unwrap();
        assert!(
            ls.starts_with("Usage: clibcni network ls [OPTIONS]\n\nList native networks"),
            "{ls}"
        );
        assert!(
            ls.contains("  -q, --quiet ") && ls.contains("'^' and '$' anchors"),
            "{ls}"
        );
        assert!(help(&["add".into()]).unwrap().contains("cnitool-"));
        assert!(help(&["nope".into()]).is_none());
    }
}
