// Gives the shared object a versioned SONAME: the ABI is clibcni 2.x (libclibcni.so.2).
fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "2".into());
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libclibcni.so.{major}");
    println!("cargo:rerun-if-changed=build.rs");
}
