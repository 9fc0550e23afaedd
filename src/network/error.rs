//! Errors of the network module: a message for the daemon's error channel and, for
//! `network create`, iSulad's error class (`cc`).

use std::fmt;

/// iSulad's `isulad_errno_t` values that the network API reports.
pub mod cc {
    pub const ERR_INPUT: u32 = 4;
    pub const ERR_EXEC: u32 = 5;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetError {
    pub msg: String,
    pub cc: u32,
}

impl NetError {
    /// Bad input from the caller (iSulad `ISULAD_ERR_INPUT`).
    pub fn input(msg: impl Into<String>) -> NetError {
        NetError {
            msg: msg.into(),
            cc: cc::ERR_INPUT,
        }
    }

    /// Anything else (iSulad `ISULAD_ERR_EXEC`).
    pub fn exec(msg: impl Into<String>) -> NetError {
        NetError {
            msg: msg.into(),
            cc: cc::ERR_EXEC,
        }
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for NetError {}

impl From<crate::cni::Error> for NetError {
    fn from(e: crate::cni::Error) -> NetError {
        NetError::exec(e.to_string())
    }
}

pub type NetResult<T> = Result<T, NetError>;

/// The failures of an operation that carries on past them (teardown, GC): every one is
/// reported, in order, with the first one's class.
#[derive(Debug, Default)]
pub struct NetErrors(Vec<NetError>);

impl NetErrors {
    pub fn push(&mut self, error: NetError) {
        self.0.push(error);
    }

    /// Keeps the failure of one step, if it failed.
    pub fn record(&mut self, result: NetResult<()>) {
        if let Err(e) = result {
            self.push(e);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Ok when nothing failed; else one error with every message, joined by "; ".
    pub fn into_result(self) -> NetResult<()> {
        let Some(first) = self.0.first() else {
            return Ok(());
        };
        let cc = first.cc;
        let msg = self
            .0
            .iter()
            .map(|e| e.msg.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        Err(NetError { msg, cc })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_reports_every_failure_with_the_first_class() {
        assert_eq!(NetErrors::default().into_result(), Ok(()));
        let mut errors = NetErrors::default();
        errors.record(Ok(()));
        errors.record(Err(NetError::input("first")));
        errors.push(NetError::exec("second"));
        assert!(!errors.is_empty());
        assert_eq!(
            errors.into_result(),
            Err(NetError {
                msg: "first; second".into(),
                cc: cc::ERR_INPUT
            })
        );
    }
}
