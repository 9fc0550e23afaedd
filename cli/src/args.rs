//! The command line, declared once for clap: parsing, `--help`, `clibcni help`, the shell
//! completions and the man pages all come from these definitions.
//!
//! Grammar: `clibcni [GLOBAL OPTIONS] COMMAND [SUBCOMMAND] [OPTIONS AND ARGUMENTS]`. Global options
//! may come before or after the command, a command's own options only after it.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};
use clap_complete::Shell;

const GLOBAL: &str = "Global options";

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

const TOP_NOTES: &str =
    "Run 'clibcni help COMMAND' for a command's options. Exit status: 0 success, 1 error,
2 usage error. -v prints the time of every plugin call and of each CNI operation; on a
terminal, a spinner shows while an operation takes more than a second.";

/// Help text after the options of each kind of command.
pub fn notes(path: &[&str]) -> String {
    match path {
        [] => format!("{TOP_NOTES}\n\n{CNITOOL_ENV}\n\n{MANAGE_ENV}"),
        ["add" | "check" | "del" | "gc" | "status"] => CNITOOL_ENV.to_string(),
        ["help" | "completions" | "man"] => String::new(),
        _ => MANAGE_ENV.to_string(),
    }
}

/// A CNI tool built on the clibcni library: cnitool's commands, and iSulad's native network
/// management without the daemon.
#[derive(Parser, Debug)]
#[command(
    name = "clibcni",
    version,
    disable_help_flag = true,
    disable_help_subcommand = true,
    subcommand_required = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub globals: Globals,
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Args, Debug, Default)]
pub struct Globals {
    /// Show help for the command
    #[arg(short, long, action = ArgAction::HelpShort, global = true, help_heading = GLOBAL)]
    help: Option<bool>,
    /// Print to stderr how long each plugin call and each CNI operation took
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub verbose: bool,
    /// Network configuration directory (default: $NETCONFPATH, else /etc/cni/net.d)
    #[arg(long, value_name = "DIR", global = true, help_heading = GLOBAL)]
    pub conf_dir: Option<String>,
    /// Plugin dirs, ':'-separated, repeatable (default: $CNI_PATH, else /opt/cni/bin)
    #[arg(long, value_name = "DIRS", global = true, help_heading = GLOBAL)]
    pub bin_dir: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// ADD the network to a network namespace (cnitool add)
    ///
    /// Prints the CNI result (indented JSON; one line with --json).
    Add(WithNetns),
    /// CHECK an attachment (cnitool check)
    ///
    /// Prints nothing on success; with --json, prints the cached result.
    Check(WithNetns),
    /// DEL the network from a network namespace (cnitool del)
    Del(Netns),
    /// GC the network: every cached attachment of it is stale (cnitool gc)
    ///
    /// NETNS is accepted for cnitool compatibility and ignored.
    Gc(NetworkOnly),
    /// STATUS of the network's plugins (cnitool status)
    ///
    /// NETNS is accepted for cnitool compatibility and ignored.
    Status(NetworkOnly),
    /// Manage native bridge networks
    #[command(subcommand, subcommand_required = true)]
    Network(NetworkCmd),
    /// Attach a network namespace to native networks, as iSulad does
    ///
    /// Loopback is brought up first; the networks get the next free interfaces eth0, eth1, …
    /// in the order given. On failure the networks attached by this command are detached.
    Attach(AttachArgs),
    /// Detach a network namespace from networks
    ///
    /// Each network is deleted with the configuration and arguments cached when it was
    /// attached; loopback goes with the container's last network. Prints each detached name.
    Detach(DetachArgs),
    /// The result cache
    #[command(subcommand, subcommand_required = true)]
    Cache(CacheCmd),
    /// Show help
    Help {
        /// The command (e.g. 'network ls'); none for the overview
        #[arg(value_name = "COMMAND")]
        words: Vec<String>,
    },
    /// Print a shell completion script
    ///
    /// cmake --install puts them where the shells look (bash-completion's completions/clibcni,
    /// zsh's site-functions/_clibcni, fish's vendor_completions.d/clibcni.fish). By hand, e.g.:
    /// clibcni completions bash > ~/.local/share/bash-completion/completions/clibcni
    Completions {
        /// The shell
        shell: Shell,
    },
    /// Print the man page, or write one per command into DIR
    ///
    /// Without DIR, clibcni(1) goes to stdout; with DIR, clibcni.1 and clibcni-COMMAND.1 for
    /// every command (clibcni-network-ls.1, …) are written there.
    Man {
        /// Directory for all the pages
        dir: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct Netns {
    /// The network's name in the configuration directory
    pub network: String,
    /// The network namespace (a path, e.g. /run/netns/NAME)
    pub netns: String,
}

#[derive(Args, Debug)]
pub struct WithNetns {
    #[command(flatten)]
    pub target: Netns,
    /// Print machine-readable JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct NetworkOnly {
    /// The network's name in the configuration directory
    pub network: String,
    /// Ignored (cnitool compatibility)
    pub netns: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum NetworkCmd {
    /// Create a native bridge network (iSulad's isulacni-NAME.conflist)
    ///
    /// Without NAME the network is named after its bridge (isula-brN). Prints the name.
    Create(CreateArgs),
    /// List native networks (NAME VERSION PLUGIN)
    ///
    /// A PATTERN matches a value equal to it or, as in iSulad, a value that the PATTERN as an
    /// extended regular expression matches somewhere (unanchored: '^net' for names starting
    /// with "net", '^net$' for exactly "net").
    Ls(LsArgs),
    /// Print a native network's configuration file
    ///
    /// The file is JSON already: --json prints the same text.
    Inspect {
        /// The network
        name: String,
        /// Print machine-readable JSON
        #[arg(long)]
        json: bool,
    },
    /// Remove native networks (file, bridge, IPAM state)
    ///
    /// A network with cached attachments (see 'cache ls') is refused, as iSulad refuses one
    /// with connected containers. Prints each removed name.
    Rm {
        /// The networks
        #[arg(value_name = "NAME", required = true)]
        names: Vec<String>,
    },
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// The network's name (default: its bridge's)
    pub name: Option<String>,
    /// Subnet in CIDR form (default: the first free 192.168.x.0/24, 172.16-31.x.0/24, 10.x.y.0/24)
    #[arg(long, value_name = "SUBNET")]
    pub subnet: Option<String>,
    /// Gateway (needs --subnet; default: the subnet's first address)
    #[arg(long, value_name = "IP")]
    pub gateway: Option<String>,
    /// No gateway or masquerading on the bridge
    #[arg(long)]
    pub internal: bool,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    /// Print only the names
    #[arg(short, long)]
    pub quiet: bool,
    /// name=PATTERN or plugin=PATTERN; repeatable (same key: any, different keys: all)
    #[arg(long, value_name = "KEY=PATTERN")]
    pub filter: Vec<String>,
    /// Print machine-readable JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct AttachArgs {
    /// Native networks, comma-separated
    #[arg(value_name = "NETWORK[,NETWORK...]")]
    pub networks: String,
    /// The network namespace (a path, e.g. /run/netns/NAME)
    pub netns: String,
    /// Container id (default: cnitool's id for NETNS)
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Publish a port on the first network (tcp, udp or sctp; default tcp); repeatable
    #[arg(long, value_name = "HOST:CONTAINER[/PROTO]")]
    pub port: Vec<String>,
    /// Print machine-readable JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct DetachArgs {
    /// Networks, comma-separated
    #[arg(value_name = "NETWORK[,NETWORK...]")]
    pub networks: String,
    /// The network namespace (a path, e.g. /run/netns/NAME)
    pub netns: String,
    /// Container id (default: cnitool's id for NETNS)
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum CacheCmd {
    /// List cached attachments (network, container id, interface, netns, addresses)
    Ls {
        /// Print machine-readable JSON
        #[arg(long)]
        json: bool,
    },
    /// Release the attachments of containers that are gone (after a daemon crash)
    ///
    /// Every cached attachment whose container is not given with --keep is stale: it is released
    /// as network_module_gc does (DEL with the configuration and arguments cached at ADD, then CNI
    /// GC for 1.1.0 lists) and its cache entry removed, with the container's loopback entry. Without
    /// --apply nothing changes: the table shows what would be released.
    Gc(CacheGcArgs),
}

#[derive(Args, Debug)]
pub struct CacheGcArgs {
    /// A live container, whose attachments are kept (repeatable)
    #[arg(long, value_name = "ID")]
    pub keep: Vec<String>,
    /// Only this type's networks: native (isulacni-* files) or cri (the others); default both
    #[arg(long = "type", value_name = "TYPE", value_parser = ["native", "cri"])]
    pub network_type: Option<String>,
    /// Release them (default: only show what would be released)
    #[arg(long)]
    pub apply: bool,
}
