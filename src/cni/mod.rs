//! The CNI runtime: versions, configuration, plugin execution, results and the result cache.
//! Pure Rust; nothing here knows about C.

pub mod abandoned;
pub mod cache;
pub mod conf;
pub mod error;
pub mod exec;
pub mod keyed_lock;
pub mod log;
pub mod request;
pub mod result;
pub mod runtime;
pub mod validate;
pub mod version;

pub use error::{CniError, Error, Result};
pub use version::Version;
