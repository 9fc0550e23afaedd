//! The environment a plugin runs with: the caller's (filtered) plus the six CNI variables of the call.

use std::ffi::{CStr, CString, OsString};
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;

/// Variable-name prefixes never passed to plugins (compared case-insensitively; iSulad filters the first three).
const PROXY_PREFIXES: [&[u8]; 5] = [
    b"no_proxy",
    b"http_proxy",
    b"https_proxy",
    b"all_proxy",
    b"ftp_proxy",
];

/// The caller's environment as plugins should inherit it: captured once (by `CniConfig::new`), without proxy variables
/// (names starting, case-insensitively, with no_proxy, http_proxy, https_proxy, all_proxy, ftp_proxy), without the
/// caller's own CNI_* variables (the library always sets the six itself), and well-formed (no NUL, no empty name or
/// name containing `=`, no duplicate name: the last value wins).
#[derive(Clone, Default)]
pub struct BaseEnv {
    /// Shared by every call's [`PluginEnv`], never copied.
    pub(super) entries: Arc<[CString]>,
}

impl BaseEnv {
    /// Reads the process environment; never writes it.
    pub fn capture() -> BaseEnv {
        BaseEnv::from_vars(std::env::vars_os())
    }

    pub fn from_vars<I: IntoIterator<Item = (OsString, OsString)>>(vars: I) -> BaseEnv {
        let named: Vec<(OsString, CString)> = vars
            .into_iter()
            .filter(|(name, _)| inheritable(name.as_bytes()))
            .filter_map(|(name, value)| {
                env_entry(name.as_bytes(), value.as_bytes()).map(|entry| (name, entry))
            })
            .collect();
        // A name given twice keeps its first place and takes its last value. Duplicates are rare; they are found
        // by sorting positions by name (equal names in position order), cheaper than hashing every name.
        let mut by_name: Vec<usize> = (0..named.len()).collect();
        by_name.sort_unstable_by(|&a, &b| named[a].0.cmp(&named[b].0).then(a.cmp(&b)));
        let mut value_of: Vec<Option<usize>> = (0..named.len()).map(Some).collect();
        for same in by_name.chunk_by(|&a, &b| named[a].0 == named[b].0) {
            if let [first, .., last] = *same {
                same[1..].iter().for_each(|&later| value_of[later] = None);
                value_of[first] = Some(last);
            }
        }
        let mut entries: Vec<Option<CString>> =
            named.into_iter().map(|(_, entry)| Some(entry)).collect();
        BaseEnv {
            entries: value_of
                .into_iter()
                .flatten()
                .filter_map(|at| entries[at].take())
                .collect::<Vec<_>>()
                .into(),
        }
    }
}

/// Values stay out of debug output: the environment may hold credentials.
impl fmt::Debug for BaseEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BaseEnv")
            .field("vars", &self.entries.len())
            .finish()
    }
}

fn inheritable(name: &[u8]) -> bool {
    let is_proxy = PROXY_PREFIXES.iter().any(|prefix| {
        name.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    });
    !name.is_empty() && !name.contains(&b'=') && !name.starts_with(b"CNI_") && !is_proxy
}

/// `name=value`, or None when it contains a NUL byte (it cannot be passed to exec).
fn env_entry(name: &[u8], value: &[u8]) -> Option<CString> {
    // Room for the '=' and the NUL that CString adds, so that it allocates once.
    let mut entry = Vec::with_capacity(name.len() + value.len() + 2);
    push_entry(&mut entry, name, value).then(|| CString::new(entry).ok())?
}

/// Appends `name=value` to `buf`; false, with nothing appended, when either holds a NUL byte.
fn push_entry(buf: &mut Vec<u8>, name: &[u8], value: &[u8]) -> bool {
    if name.contains(&0) || value.contains(&0) {
        return false;
    }
    buf.extend_from_slice(name);
    buf.push(b'=');
    buf.extend_from_slice(value);
    true
}

/// The six CNI variables of one plugin call (empty strings where unused, as libcni sets all six).
#[derive(Clone, Copy, Debug, Default)]
pub struct CniVars<'a> {
    pub command: &'a str,
    pub container_id: &'a str,
    pub netns: &'a str,
    pub ifname: &'a str,
    pub args: &'a str,
    pub path: &'a str,
}

/// envp of one plugin call: the six CNI_* first (in libcni's order), then the base env.
#[derive(Clone)]
pub struct PluginEnv {
    /// The CNI variables' `NAME=value` entries, each NUL-terminated, back to back: one allocation per call.
    cni: Vec<u8>,
    /// Where each of the first `count` entries of `cni` starts, and where the last one ends.
    bounds: [usize; CNI_VARS + 1],
    count: usize,
    base: Arc<[CString]>,
}

/// The CNI_* variables of a call.
const CNI_VARS: usize = 6;

impl PluginEnv {
    pub fn iter(&self) -> impl Iterator<Item = &CStr> + Clone {
        let entry = |at: usize| &self.cni[self.bounds[at]..self.bounds[at + 1]];
        // Every entry was built NUL-terminated without another NUL: the check cannot fail.
        let cni =
            (0..self.count).map(move |at| CStr::from_bytes_with_nul(entry(at)).unwrap_or_default());
        cni.chain(self.base.iter().map(CString::as_c_str))
    }
}

/// Values stay out of debug output, as for [`BaseEnv`].
impl fmt::Debug for PluginEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginEnv")
            .field("vars", &self.iter().count())
            .finish()
    }
}

/// The env of one call; entries containing NUL are skipped.
pub fn build_env(base: &BaseEnv, vars: &CniVars<'_>) -> PluginEnv {
    let cni: [(&str, &str); CNI_VARS] = [
        ("CNI_COMMAND", vars.command),
        ("CNI_CONTAINERID", vars.container_id),
        ("CNI_NETNS", vars.netns),
        ("CNI_ARGS", vars.args),
        ("CNI_IFNAME", vars.ifname),
        ("CNI_PATH", vars.path),
    ];
    let mut entries = Vec::with_capacity(cni.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    let (mut bounds, mut count) = ([0; CNI_VARS + 1], 0);
    for (name, value) in cni {
        if push_entry(&mut entries, name.as_bytes(), value.as_bytes()) {
            entries.push(0);
            count += 1;
            bounds[count] = entries.len();
        }
    }
    PluginEnv {
        cni: entries,
        bounds,
        count,
        base: base.entries.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(name, value)| (OsString::from(name), OsString::from(value)))
            .collect()
    }

    fn strings<'a>(env: impl IntoIterator<Item = &'a CStr>) -> Vec<String> {
        env.into_iter()
            .map(|entry| entry.to_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn base_env_filters_and_dedups() {
        let mut vars = os(&[
            ("PATH", "/bin"),
            ("HTTP_PROXY", "x"),
            ("https_proxy", "x"),
            ("No_Proxy_Extra", "x"),
            ("ALL_PROXY", "x"),
            ("ftp_proxy", "x"),
            ("CNI_PATH", "/evil"),
            ("CNI_NETNS_OVERRIDE", "1"),
            ("cni_lower", "kept"),
            ("A=B", "bad name"),
            ("", "empty name"),
            ("HOME", "/root"),
            ("PATH", "/usr/bin"),
            ("MY_HTTP_PROXY", "kept"),
        ]);
        vars.push((OsString::from("NUL"), OsString::from("a\0b")));
        let base = BaseEnv::from_vars(vars);
        assert_eq!(
            strings(base.entries.iter().map(CString::as_c_str)),
            [
                "PATH=/usr/bin",
                "cni_lower=kept",
                "HOME=/root",
                "MY_HTTP_PROXY=kept"
            ]
        );
        assert_eq!(format!("{base:?}"), "BaseEnv { vars: 4 }");
    }

    #[test]
    fn capture_reads_the_process_env() {
        assert_eq!(
            BaseEnv::capture().entries,
            BaseEnv::from_vars(std::env::vars_os()).entries
        );
    }

    #[test]
    fn build_env_puts_the_six_first() {
        let base = BaseEnv::from_vars(os(&[("PATH", "/bin"), ("CNI_ARGS", "old")]));
        let vars = CniVars {
            command: "DEL",
            container_id: "c",
            args: "K=V;A=B",
            ..CniVars::default()
        };
        assert_eq!(
            strings(build_env(&base, &vars).iter()),
            [
                "CNI_COMMAND=DEL",
                "CNI_CONTAINERID=c",
                "CNI_NETNS=",
                "CNI_ARGS=K=V;A=B",
                "CNI_IFNAME=",
                "CNI_PATH=",
                "PATH=/bin"
            ]
        );
        let bad = CniVars {
            command: "ADD",
            args: "a\0b",
            ..CniVars::default()
        };
        assert!(!strings(build_env(&base, &bad).iter())
            .iter()
            .any(|entry| entry.starts_with("CNI_ARGS")));
    }
}
