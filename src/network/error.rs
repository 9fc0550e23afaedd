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
