//! `completions` and `man`: generated from the same clap definitions as parsing and help.

use std::io::Write;
use std::path::Path;

use clap::Command;
use clap_complete::Shell;
use clap_mangen::Man;

use crate::fail::Failure;
use crate::parse;

/// The completion script for `shell` on stdout.
pub fn completions(shell: Shell) -> Result<(), Failure> {
    let mut cmd = parse::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "clibcni", &mut out);
    write_stdout(&out)
}

/// clibcni(1) on stdout, or every page (clibcni.1, clibcni-add.1, clibcni-network-ls.1, …)
/// written into `dir`.
pub fn man(dir: Option<&Path>) -> Result<(), Failure> {
    let cmd = parse::command();
    match dir {
        None => {
            let mut out = Vec::new();
            page(&cmd)
                .render(&mut out)
                .map_err(|e| Failure::error(format!("cannot render the man page: {e}")))?;
            write_stdout(&out)
        }
        Some(dir) => std::fs::create_dir_all(dir)
            .and_then(|()| write_pages(&cmd, dir))
            .map_err(|e| {
                Failure::error(format!(
                    "cannot write the man pages to {}: {e}",
                    dir.display()
                ))
            }),
    }
}

/// Every page names the program and its version as its source (the footer).
fn page(cmd: &Command) -> Man {
    Man::new(cmd.clone()).source(format!("clibcni {}", env!("CARGO_PKG_VERSION")))
}

fn write_pages(cmd: &Command, dir: &Path) -> std::io::Result<()> {
    for sub in cmd.get_subcommands() {
        write_pages(sub, dir)?;
    }
    page(cmd).generate_to(dir).map(drop)
}

fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure::error(format!("cannot write to stdout: {e}")))
}
