//! HTTPS registries with a private CA: trusted per host through `.imagepin.yaml`
//! `registries: {HOST: {ca: FILE}}`; without it the TLS failure is said plainly.

mod support;

use std::fs;

use support::golden::{imagepin, stderr};
use support::registry::TestRegistry;

#[test]
fn a_registry_with_a_private_ca_is_trusted_per_host() {
    let reg = TestRegistry::start_tls();
    let digest = reg.push_image("team/app", "2.0", "app");
    let tree = tempfile::tempdir().expect("tempdir");
    fs::write(tree.path().join("ca.pem"), reg.ca_pem()).expect("write ca");
    fs::write(
        tree.path().join(".imagepin.yaml"),
        format!("registries:\n  \"{}\":\n    ca: ca.pem\n", reg.host()),
    )
    .expect("write config");
    let reference = format!("{}/team/app:2.0", reg.host());
    fs::write(
        tree.path().join("Dockerfile"),
        format!("FROM {reference}\n"),
    )
    .expect("write");
    let o = imagepin(tree.path(), &["fix"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(tree.path().join("Dockerfile")).expect("read"),
        format!("FROM {reference}@{digest}\n")
    );
}

#[test]
fn an_untrusted_certificate_is_a_clear_error_and_changes_nothing() {
    let reg = TestRegistry::start_tls();
    reg.push_image("library/nginx", "1.25", "n");
    let tree = tempfile::tempdir().expect("tempdir");
    fs::write(tree.path().join("Dockerfile"), "FROM nginx:1.25\n").expect("write");
    let mirror = format!("docker.io={}", reg.url());
    let o = imagepin(tree.path(), &["fix", "--mirror", &mirror]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("TLS") || err.contains("certificate"), "{err}");
    assert!(err.contains("in .imagepin.yaml names it"), "{err}");
    assert_eq!(
        fs::read_to_string(tree.path().join("Dockerfile")).expect("read"),
        "FROM nginx:1.25\n"
    );

    // The same mirror with its CA configured works.
    fs::write(tree.path().join("ca.pem"), reg.ca_pem()).expect("write ca");
    fs::write(
        tree.path().join(".imagepin.yaml"),
        format!("registries:\n  \"{}\": {{ca: ca.pem}}\n", reg.host()),
    )
    .expect("write config");
    let o = imagepin(tree.path(), &["fix", "--mirror", &mirror]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_ca_file_that_is_not_pem_is_a_configuration_error() {
    let tree = tempfile::tempdir().expect("tempdir");
    fs::write(tree.path().join("ca.pem"), "not a certificate").expect("write");
    fs::write(
        tree.path().join(".imagepin.yaml"),
        "registries:\n  reg.example: {ca: ca.pem}\n",
    )
    .expect("write");
    fs::write(tree.path().join("Dockerfile"), "FROM reg.example/x:1\n").expect("write");
    let o = imagepin(tree.path(), &["fix"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("registries.reg.example.ca"),
        "{}",
        stderr(&o)
    );
}
