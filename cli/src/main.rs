//! `clibcni`: the operator's CNI tool, built on the library's Rust API. cnitool's commands
//! (`add|check|del|gc|status NETWORK NETNS`, same environment, same container ids) and iSulad's
//! native network management (`network create|ls|inspect|rm`, `attach`, `detach`, `cache ls|gc`)
//! without the daemon. Exit status: 0 success, 1 error, 2 usage error.

mod args;
mod attach;
mod cache;
mod cnitool;
mod context;
mod docs;
mod fail;
mod filter;
mod network;
mod output;
mod parse;
mod progress;

use std::ffi::OsString;
use std::process::ExitCode;

use args::{Cli, Cmd};
use cnitool::Op;
use context::{Context, Env};
use fail::Failure;
use parse::Request;

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().skip(1).collect();
    let env = |name: &str| std::env::var(name).ok();
    match run(&argv, &env) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("clibcni: {failure}");
            ExitCode::from(failure.exit_status())
        }
    }
}

fn run(argv: &[OsString], env: Env<'_>) -> Result<(), Failure> {
    match parse::parse(argv)? {
        Request::Show(text) => {
            print!("{text}");
            Ok(())
        }
        Request::Run(cli) => dispatch(cli, env),
    }
}

fn dispatch(cli: Cli, env: Env<'_>) -> Result<(), Failure> {
    let ctx = Context::new(&cli.globals, env);
    match cli.command {
        Cmd::Add(a) => {
            let op = Op::Add {
                netns: &a.target.netns,
                json: a.json,
            };
            cnitool::run(&ctx, &a.target.network, op, env)
        }
        Cmd::Check(a) => {
            let op = Op::Check {
                netns: &a.target.netns,
                json: a.json,
            };
            cnitool::run(&ctx, &a.target.network, op, env)
        }
        Cmd::Del(a) => cnitool::run(&ctx, &a.network, Op::Del { netns: &a.netns }, env),
        Cmd::Gc(a) => cnitool::run(&ctx, &a.network, Op::Gc, env),
        Cmd::Status(a) => cnitool::run(&ctx, &a.network, Op::Status, env),
        Cmd::Network(cmd) => network::run(&ctx, &cmd),
        Cmd::Attach(a) => attach::attach(&ctx, &a),
        Cmd::Detach(a) => attach::detach(&ctx, &a),
        Cmd::Cache(args::CacheCmd::Ls { json }) => cache::list(&ctx, json),
        Cmd::Cache(args::CacheCmd::Gc(a)) => cache::gc(&ctx, &a),
        Cmd::Help { words } => {
            print!("{}", parse::help(&words)?);
            Ok(())
        }
        Cmd::Completions { shell } => docs::completions(shell),
        Cmd::Man { dir } => docs::man(dir.as_deref()),
    }
}
