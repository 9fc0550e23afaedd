//! Validation of container ids, network names and interface names, with libcni's codes and messages.

use crate::cni::error::{codes, CniError};

/// Linux interface names are at most 15 bytes (IFNAMSIZ - 1).
pub const MAX_INTERFACE_NAME_LEN: usize = 15;

/// `^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`: the spec's rule for container ids and network names.
fn is_cni_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphanumeric() => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

pub fn container_id(id: &str) -> Result<(), CniError> {
    if id.is_empty() {
        return Err(CniError::new(
            codes::UNKNOWN_CONTAINER,
            "missing containerID",
            "",
        ));
    }
    if !is_cni_identifier(id) {
        return Err(CniError::new(
            codes::INVALID_ENVIRONMENT,
            "invalid characters in containerID",
            id,
        ));
    }
    Ok(())
}

pub fn network_name(name: &str) -> Result<(), CniError> {
    if name.is_empty() {
        return Err(CniError::new(
            codes::INVALID_NETWORK_CONFIG,
            "missing network name:",
            "",
        ));
    }
    if !is_cni_identifier(name) {
        return Err(CniError::new(
            codes::INVALID_NETWORK_CONFIG,
            "invalid characters found in network name",
            name,
        ));
    }
    Ok(())
}

pub fn interface_name(name: &str) -> Result<(), CniError> {
    let invalid =
        |msg: &str, details: String| Err(CniError::new(codes::INVALID_ENVIRONMENT, msg, details));
    if name.is_empty() {
        return invalid("interface name is empty", String::new());
    }
    if name.len() > MAX_INTERFACE_NAME_LEN {
        return invalid(
            "interface name is too long",
            format!(
                "interface name should be less than {} characters",
                MAX_INTERFACE_NAME_LEN + 1
            ),
        );
    }
    if name == "." || name == ".." {
        return invalid("interface name is . or ..", String::new());
    }
    if name
        .chars()
        .any(|c| c == '/' || c == ':' || c.is_whitespace())
    {
        return invalid(
            "interface name contains / or : or whitespace characters",
            String::new(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_ids() {
        assert!(container_id("some-container-id").is_ok());
        assert_eq!(container_id("").unwrap_err().code, 3);
        let e = container_id("some-%%container-id").unwrap_err();
        assert_eq!(
            (e.code, e.msg.as_str(), e.details.as_str()),
            (
                4,
                "invalid characters in containerID",
                "some-%%container-id"
            )
        );
        assert!(container_id("-lead").is_err());
    }

    #[test]
    fn network_names() {
        assert!(network_name("my_net.1-a").is_ok());
        let e = network_name("invalid-%%-name").unwrap_err();
        assert_eq!(
            (e.code, e.msg.as_str()),
            (7, "invalid characters found in network name")
        );
        assert!(network_name("../etc").is_err());
        assert!(network_name("a/b").is_err());
    }

    #[test]
    fn interface_names() {
        assert!(interface_name("eth0").is_ok());
        assert!(interface_name("123456789012345").is_ok());
        let cases = [
            ("", "interface name is empty", ""),
            (
                "1234567890123456",
                "interface name is too long",
                "interface name should be less than 16 characters",
            ),
            (".", "interface name is . or ..", ""),
            ("..", "interface name is . or ..", ""),
            (
                "test/test",
                "interface name contains / or : or whitespace characters",
                "",
            ),
            (
                "test:test",
                "interface name contains / or : or whitespace characters",
                "",
            ),
            (
                "test test",
                "interface name contains / or : or whitespace characters",
                "",
            ),
        ];
        for (name, msg, details) in cases {
            let e = interface_name(name).unwrap_err();
            assert_eq!(
                (e.code, e.msg.as_str(), e.details.as_str()),
                (4, msg, details),
                "{name:?}"
            );
        }
    }
}
