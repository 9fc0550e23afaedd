//! `cache ls`: every cached attachment, with the addresses of its cached result; `cache gc`:
//! releasing the attachments of containers that are gone.

use clibcni::cni::cache::CachedAttachment;
use clibcni::cni::Version;
use clibcni::network::attach::api_result;
use clibcni::network::NetworkType;
use serde_json::{json, Value};

use crate::args::CacheGcArgs;
use crate::context::Context;
use crate::fail::Failure;
use crate::output;

pub fn list(ctx: &Context, json: bool) -> Result<(), Failure> {
    let attachments = ctx
        .cni()
        .cached_attachments(None)
        .map_err(|e| Failure::cni("cannot read the result cache", &e))?;
    if json {
        let items: Vec<Value> = attachments
            .iter()
            .map(|a| {
                json!({"network": a.network_name, "containerId": a.container_id, "ifname": a.if_name,
                       "netns": a.netns, "ips": addresses(a), "result": a.result})
            })
            .collect();
        output::print_json(&items.into(), true);
        return Ok(());
    }
    print_table(&attachments);
    Ok(())
}

/// `cache gc`: the stale attachments as a table; with `--apply`, released.
pub fn gc(ctx: &Context, args: &CacheGcArgs) -> Result<(), Failure> {
    let module = ctx.module_with_cri()?;
    let types = match args.network_type.as_deref() {
        Some("native") => vec![NetworkType::Native],
        Some(_) => vec![NetworkType::Cri],
        None => vec![NetworkType::Native, NetworkType::Cri],
    };
    let mut stale = Vec::new();
    for ty in &types {
        stale.extend(module.gc_candidates(*ty, &args.keep)?);
    }
    print_table(&stale);
    if !args.apply {
        eprintln!(
            "clibcni: {} stale attachment(s) would be released; run with --apply to release them",
            stale.len()
        );
        return Ok(());
    }
    let mut released = 0;
    for ty in types {
        released += ctx
            .progress
            .run("releasing stale attachments", || module.gc(ty, &args.keep))?;
    }
    eprintln!("clibcni: released {released} stale attachment(s)");
    Ok(())
}

fn print_table(attachments: &[CachedAttachment]) {
    let rows: Vec<Vec<String>> = attachments
        .iter()
        .map(|a| {
            vec![
                a.network_name.clone(),
                a.container_id.clone(),
                a.if_name.clone(),
                a.netns.clone().unwrap_or_else(|| "-".into()),
                output::joined(&addresses(a)),
            ]
        })
        .collect();
    print!(
        "{}",
        output::table(
            &["NETWORK", "CONTAINER ID", "IFNAME", "NETNS", "IPS"],
            &rows
        )
    );
}

/// The interface's addresses in the cached result ("addr/prefix"); none when there is no
/// result or it cannot be read.
fn addresses(att: &CachedAttachment) -> Vec<String> {
    let result = att
        .result
        .as_ref()
        .and_then(|result| result.typed(Version::CURRENT).ok());
    api_result(&att.network_name, &att.if_name, result.as_deref()).ips
}

#[cfg(test)]
mod tests {
    use super::*;
    use clibcni::cni::cache::CachedResult;

    #[test]
    fn addresses_of_the_cached_interface() {
        let result = json!({"cniVersion": "1.0.0",
            "interfaces": [{"name": "br0"}, {"name": "eth0", "sandbox": "/run/netns/x"}],
            "ips": [{"interface": 1, "address": "10.1.0.2/24", "gateway": "10.1.0.1"}]});
        let att = CachedAttachment {
            if_name: "eth0".into(),
            result: Some(CachedResult::Json(result)),
            ..CachedAttachment::default()
        };
        assert_eq!(addresses(&att), ["10.1.0.2/24"]);
        let broken = CachedAttachment {
            result: Some(CachedResult::Json(json!("nope"))),
            ..att.clone()
        };
        assert!(addresses(&broken).is_empty());
        assert!(addresses(&CachedAttachment::default()).is_empty());
    }
}
