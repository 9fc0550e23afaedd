//! `network create|ls|inspect|rm`: iSulad's native network management through the library's
//! network module, on the same conf dir.

use clibcni::network::native::plan::CreateRequest;
use clibcni::network::{NetworkModule, NetworkType};
use serde_json::json;

use crate::args::{CreateArgs, NetworkCmd};
use crate::context::{warn, Context};
use crate::fail::Failure;
use crate::filter::Filters;
use crate::output;

const NATIVE: NetworkType = NetworkType::Native;

pub fn run(ctx: &Context, cmd: &NetworkCmd) -> Result<(), Failure> {
    // Filters are checked before anything is loaded: a usage error stays a usage error.
    let filters = match cmd {
        NetworkCmd::Ls(ls) => Filters::parse(ls.filter.iter().map(String::as_str))?,
        _ => Filters::default(),
    };
    let module = ctx.module()?;
    match cmd {
        NetworkCmd::Create(args) => create(ctx, &module, args),
        NetworkCmd::Ls(ls) => {
            list(&module, &filters, ls.quiet, ls.json);
            Ok(())
        }
        NetworkCmd::Inspect { name, .. } => {
            print!("{}", module.inspect(NATIVE, name)?);
            Ok(())
        }
        NetworkCmd::Rm { names } => remove(ctx, &module, names),
    }
}

fn create(ctx: &Context, module: &NetworkModule, args: &CreateArgs) -> Result<(), Failure> {
    let req = CreateRequest {
        name: args.name.clone(),
        driver: None,
        gateway: args.gateway.clone(),
        internal: args.internal,
        subnet: args.subnet.clone(),
    };
    let created = ctx
        .progress
        .run("network create", || module.create(NATIVE, &req))?;
    if let Some(warning) = &created.warning {
        warn(warning);
    }
    println!("{}", created.name);
    Ok(())
}

fn list(module: &NetworkModule, filters: &Filters, quiet: bool, json: bool) {
    let accept = |name: &str, plugins: &[String]| filters.accepts(name, plugins);
    // The native type always supports listing.
    let networks = module.list(NATIVE, &accept).unwrap_or_default();
    if json {
        let items: Vec<_> = networks
            .iter()
            .map(|n| json!({"name": n.name, "version": n.version, "plugins": n.plugins}))
            .collect();
        output::print_json(&items.into(), true);
    } else if quiet {
        networks.iter().for_each(|n| println!("{}", n.name));
    } else {
        let rows: Vec<Vec<String>> = networks
            .iter()
            .map(|n| vec![n.name.clone(), n.version.clone(), n.plugins.join(",")])
            .collect();
        print!("{}", output::table(&["NAME", "VERSION", "PLUGIN"], &rows));
    }
}

/// The module only knows attachments made in this process, so the cached ones are recorded
/// first (as the daemon does on restore): a network in use is refused.
fn remove(ctx: &Context, module: &NetworkModule, names: &[String]) -> Result<(), Failure> {
    let attachments = ctx
        .cni()
        .cached_attachments(None)
        .map_err(|e| Failure::cni("cannot read the result cache", &e))?;
    for att in &attachments {
        // Attachments of other (non-native) networks have nothing to record.
        let _ = module.add_container(NATIVE, &att.network_name, &att.container_id);
    }
    let mut failed = 0;
    for name in names {
        match module.remove(NATIVE, name) {
            Ok(warnings) => {
                warnings.iter().for_each(|w| warn(w));
                println!("{name}");
            }
            Err(e) => {
                eprintln!("clibcni: {}", e.msg);
                failed += 1;
            }
        }
    }
    match failed {
        0 => Ok(()),
        n => Err(Failure::error(format!(
            "{n} of {} networks not removed",
            names.len()
        ))),
    }
}
