//! cnitool's commands (`add|check|del|gc|status NETWORK NETNS`), with its environment and its
//! container id rule, so scripts written for cnitool run unchanged.

use std::path::{Component, Path, PathBuf};

use clibcni::cni::conf::{conf_files, load_network_file, NetworkConfigList};
use clibcni::cni::runtime::RuntimeConf;
use serde_json::{Map, Value};
use sha2::{Digest, Sha512};

use crate::context::{Context, Env};
use crate::fail::Failure;
use crate::output;

const DEFAULT_IFNAME: &str = "eth0";

/// cnitool's commands, with the namespace of those that act on one.
#[derive(Clone, Copy, Debug)]
pub enum Op<'a> {
    /// `json`: the result on one line.
    Add {
        netns: &'a str,
        json: bool,
    },
    /// `json`: print the cached result.
    Check {
        netns: &'a str,
        json: bool,
    },
    Del {
        netns: &'a str,
    },
    Gc,
    Status,
}

impl Op<'_> {
    fn verb(&self) -> &'static str {
        match self {
            Op::Add { .. } => "ADD",
            Op::Check { .. } => "CHECK",
            Op::Del { .. } => "DEL",
            Op::Gc => "GC",
            Op::Status => "STATUS",
        }
    }
}

/// Runs one of cnitool's commands on the network `name`. The environment is checked before the
/// network is looked up: a malformed CNI_ARGS stays a usage error.
pub fn run(ctx: &Context, name: &str, op: Op<'_>, env: Env<'_>) -> Result<(), Failure> {
    let label = format!("{} {name:?}", op.verb());
    let failed = |e: clibcni::cni::Error| Failure::cni(&format!("{label} failed"), &e);
    let timed =
        |op: &dyn Fn() -> clibcni::cni::Result<()>| ctx.progress.run(&label, op).map_err(failed);
    let network = || find_network(&ctx.conf_dir, name);
    let cni = ctx.cni();
    match op {
        Op::Add { netns, json } => {
            let rt = runtime_conf(netns, env)?;
            let list = network()?;
            let result = ctx
                .progress
                .run(&label, || cni.add_network_list(&list, &rt))
                .map_err(failed)?;
            if let Some(result) = result {
                output::print_json(&result.to_value(), json);
            }
        }
        Op::Check { netns, json } => {
            let rt = runtime_conf(netns, env)?;
            let list = network()?;
            let cached = ctx
                .progress
                .run(&label, || cni.check_network_list(&list, &rt))
                .map_err(failed)?;
            if json {
                output::print_json(&cached.map_or(Value::Null, |r| r.to_value()), true);
            }
        }
        Op::Del { netns } => {
            let rt = runtime_conf(netns, env)?;
            let list = network()?;
            timed(&|| cni.del_network_list(&list, &rt))?;
        }
        Op::Gc => {
            let list = network()?;
            timed(&|| cni.gc_network_list(&list, None))?;
        }
        Op::Status => {
            let list = network()?;
            timed(&|| cni.status_network_list(&list))?;
        }
    }
    Ok(())
}

/// The attachment as cnitool builds it from NETNS and the environment.
fn runtime_conf(netns: &str, env: Env<'_>) -> Result<RuntimeConf, Failure> {
    let netns = absolute(netns)?;
    Ok(RuntimeConf {
        container_id: container_id(&netns),
        ifname: env("CNI_IFNAME").unwrap_or_else(|| DEFAULT_IFNAME.to_string()),
        args: parse_cni_args(&env("CNI_ARGS").unwrap_or_default())?,
        capability_args: parse_cap_args(&env("CAP_ARGS").unwrap_or_default())?,
        netns,
    })
}

/// cnitool's container id: "cnitool-" and the hex of the first 10 bytes of the SHA-512 of the
/// absolute netns path.
pub fn container_id(abs_netns: &str) -> String {
    let digest = Sha512::digest(abs_netns.as_bytes());
    let hex: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
    format!("cnitool-{hex}")
}

/// Go's `filepath.Abs`: joined to the working directory when relative, then cleaned lexically
/// (`.` and `..` resolved, no trailing '/'); symlinks are not followed.
pub fn absolute(path: &str) -> Result<String, Failure> {
    let joined = if Path::new(path).is_absolute() {
        PathBuf::from(path)
    } else {
        std::env::current_dir()
            .map_err(|e| Failure::error(format!("cannot resolve {path:?}: {e}")))?
            .join(path)
    };
    Ok(clean(&joined))
}

fn clean(path: &Path) -> String {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::ParentDir => {
                parts.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    let mut out = String::new();
    for part in parts {
        out.push('/');
        out.push_str(&part.to_string_lossy());
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// `CNI_ARGS` as cnitool reads it: `K=V;K=V`, each part exactly one '=' between a non-empty key
/// and a non-empty value.
fn parse_cni_args(text: &str) -> Result<Vec<(String, String)>, Failure> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(';')
        .map(
            |pair| match pair.split('=').collect::<Vec<_>>().as_slice() {
                [key, value] if !key.is_empty() && !value.is_empty() => {
                    Ok((key.to_string(), value.to_string()))
                }
                _ => Err(Failure::usage(format!(
                    "invalid CNI_ARGS pair {pair:?} (expected K=V;K=V)"
                ))),
            },
        )
        .collect()
}

/// `CAP_ARGS`: a JSON object (`null` is none, as in Go).
fn parse_cap_args(text: &str) -> Result<Map<String, Value>, Failure> {
    if text.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err(Failure::usage("invalid CAP_ARGS: expected a JSON object")),
        Err(e) => Err(Failure::usage(format!("invalid CAP_ARGS: {e}"))),
    }
}

/// libcni's `LoadConfList`: the first `.conflist` (in name order) whose network has this name,
/// else the first `.conf`/`.json` (up-converted to a list). Unlike libcni, a broken file does not
/// hide the others; it is only named when nothing matched.
pub fn find_network(dir: &Path, name: &str) -> Result<NetworkConfigList, Failure> {
    let mut skipped = Vec::new();
    for extensions in [&["conflist"][..], &["conf", "json"]] {
        let files = conf_files(dir, extensions)
            .map_err(|e| Failure::cni("cannot list configurations", &e))?;
        for file in files {
            match load_network_file(&file) {
                Ok(list) if list.name == name => return Ok(list),
                Ok(_) => {}
                Err(e) => skipped.push(format!("{}: {e}", file.display())),
            }
        }
    }
    let mut msg = format!(
        "no net configuration with name {name:?} in {}",
        dir.display()
    );
    if !skipped.is_empty() {
        msg.push_str(&format!(
            " (unreadable files skipped: {})",
            skipped.join("; ")
        ));
    }
    Err(Failure::error(msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_id_is_cnitools() {
        // printf %s /var/run/netns/test | sha512sum | cut -c1-20
        assert_eq!(
            container_id("/var/run/netns/test"),
            "cnitool-7b8a61d5d8e94d07cbe4"
        );
    }

    #[test]
    fn netns_paths_are_made_absolute_like_go() {
        assert_eq!(absolute("/run/netns/a").unwrap(), "/run/netns/a");
        assert_eq!(absolute("/run//netns/./b/../a/").unwrap(), "/run/netns/a");
        assert_eq!(absolute("/..").unwrap(), "/");
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(absolute("x/../y").unwrap(), format!("{}/y", cwd.display()));
    }

    #[test]
    fn cni_args_like_cnitool() {
        assert_eq!(parse_cni_args("").unwrap(), []);
        assert_eq!(
            parse_cni_args("IgnoreUnknown=1;K8S_POD_NAME=p").unwrap(),
            [
                ("IgnoreUnknown".to_string(), "1".to_string()),
                ("K8S_POD_NAME".into(), "p".into())
            ]
        );
        for bad in ["a=1;", ";a=1", "a", "=1", "a=", "a=b=c", "a=1;;b=2"] {
            let Err(Failure::Usage(msg)) = parse_cni_args(bad) else {
                panic!("{bad} accepted")
            };
            assert!(msg.starts_with("invalid CNI_ARGS pair \""), "{msg}");
        }
        assert_eq!(
            parse_cni_args("a=1;").unwrap_err(),
            Failure::usage("invalid CNI_ARGS pair \"\" (expected K=V;K=V)")
        );
    }

    #[test]
    fn cap_args_must_be_an_object() {
        assert!(parse_cap_args("").unwrap().is_empty());
        assert!(parse_cap_args("null").unwrap().is_empty());
        let caps = parse_cap_args(
            r#"{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]}"#,
        )
        .unwrap();
        assert!(caps["portMappings"].is_array());
        assert_eq!(
            parse_cap_args("[1]").unwrap_err(),
            Failure::usage("invalid CAP_ARGS: expected a JSON object")
        );
        assert!(
            matches!(parse_cap_args("{"), Err(Failure::Usage(m)) if m.starts_with("invalid CAP_ARGS: EOF"))
        );
    }

    #[test]
    fn runtime_conf_from_environment() {
        let vars = [
            ("CNI_ARGS", "A=b"),
            ("CAP_ARGS", r#"{"mac":"aa:bb:cc:dd:ee:ff"}"#),
            ("CNI_IFNAME", "net1"),
        ];
        let env = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        let rt = runtime_conf("/var/run/netns/test", &env).unwrap();
        assert_eq!(rt.container_id, "cnitool-7b8a61d5d8e94d07cbe4");
        assert_eq!(rt.netns, "/var/run/netns/test");
        assert_eq!(rt.ifname, "net1");
        assert_eq!(rt.args, [("A".to_string(), "b".to_string())]);
        assert_eq!(rt.capability_args["mac"], "aa:bb:cc:dd:ee:ff");
        let none = |_: &str| None;
        assert_eq!(runtime_conf("/n", &none).unwrap().ifname, "eth0");
    }

    #[test]
    fn lookup_prefers_conflists_and_skips_broken_files() {
        let dir = tempfile::tempdir().unwrap();
        let write = |file: &str, text: &str| std::fs::write(dir.path().join(file), text).unwrap();
        write("00-broken.conflist", "{");
        write(
            "10-net.json",
            r#"{"cniVersion":"0.4.0","name":"net","type":"from-json"}"#,
        );
        write(
            "20-net.conflist",
            r#"{"cniVersion":"1.0.0","name":"net","plugins":[{"type":"from-list"}]}"#,
        );
        write(
            "30-single.conf",
            r#"{"cniVersion":"0.4.0","name":"single","type":"bridge"}"#,
        );
        let net = find_network(dir.path(), "net").unwrap();
        assert_eq!(net.plugins[0].plugin_type, "from-list");
        let single = find_network(dir.path(), "single").unwrap();
        assert_eq!(
            (single.cni_version.as_str(), single.plugins.len()),
            ("0.4.0", 1)
        );
        let Err(Failure::Error { msg, code: None }) = find_network(dir.path(), "other") else {
            panic!()
        };
        let broken = dir.path().join("00-broken.conflist");
        assert!(
            msg.starts_with(&format!(
                "no net configuration with name \"other\" in {} (unreadable files skipped: {}: ",
                dir.path().display(),
                broken.display()
            )),
            "{msg}"
        );
        let missing = dir.path().join("missing");
        assert_eq!(
            find_network(&missing, "x").unwrap_err(),
            Failure::error(format!(
                "no net configuration with name \"x\" in {}",
                missing.display()
            ))
        );
    }
}
