//! `clibcni`: the operator's CNI tool, built on the library's Rust API. cnitool's commands
//! (`add|check|del|gc|status NETWORK NETNS`, same environment, same container ids) and iSulad's
//! native network management (`network create|ls|inspect|rm`, `attach`, `detach`, `cache ls`)
//! without the daemon. Exit status: 0 success, 1 error, 2 usage error.

mod args;
mod attach;
mod cache;
mod cnitool;
mod context;
mod fail;
mod filter;
mod network;
mod output;
mod progress;
mod sha512;

use std::process::ExitCode;

use args::{Invocation, Request};
use context::{Context, Env};
use fail::Failure;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let env = |name: &str| std::env::var(name).ok();
    match run(&argv, &env) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("clibcni: {failure}");
            ExitCode::from(failure.exit_status())
        }
    }
}

fn run(argv: &[String], env: Env<'_>) -> Result<(), Failure> {
    match args::parse(argv)? {
        Request::Help(words) => {
            let text = args::help(&words)
                .ok_or_else(|| Failure::usage(format!("no command '{}'", words.join(" "))))?;
            print!("{text}");
            Ok(())
        }
        Request::Run(inv) => dispatch(&inv, env),
    }
}

fn dispatch(inv: &Invocation, env: Env<'_>) -> Result<(), Failure> {
    let ctx = Context::new(inv, env);
    match inv.words() {
        ["network", _] => network::run(&ctx, inv),
        ["attach"] => attach::attach(&ctx, inv),
        ["detach"] => attach::detach(&ctx, inv),
        ["cache", _] => cache::list(&ctx, inv),
        _ => cnitool::run(&ctx, inv, env),
    }
}
