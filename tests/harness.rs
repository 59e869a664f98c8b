//! Self-test of the registry harness (`tests/support/registry.rs`): every method against
//! a real `docker-registry`, and several instances side by side, as parallel tests run.

mod support;

use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::{Value, json};
use support::registry::{
    ACCEPT_ALL, OCI_INDEX, Request, TestRegistry, base64_encode, parse_access_line,
};

const PLATFORMS: &[&str] = &["linux/amd64", "linux/arm64/v8"];

/// A client like the one under test: its own User-Agent, so the log shows its requests.
fn client() -> Client {
    Client::builder()
        .user_agent("client-under-test/1.0")
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

#[test]
fn pushes_every_kind_of_image_and_heads_it() {
    let started = Instant::now();
    let reg = TestRegistry::start();
    eprintln!("registry ready in {:?}", started.elapsed());
    assert!(reg.host().starts_with("127.0.0.1:"));
    assert_eq!(reg.url(), format!("http://{}", reg.host()));

    let oci = reg.push_image("library/nginx", "1.25", "a");
    let docker = reg.push_docker_image("library/postgres", "16", "b");
    let (index, kids) = reg.push_index("library/nginx", "latest", PLATFORMS, "c");
    let (list, list_kids) = reg.push_manifest_list("ghcr.io/acme/app", "1", PLATFORMS, "d");

    let mut all = vec![oci.clone(), docker.clone(), index.clone(), list.clone()];
    all.extend(kids.iter().chain(&list_kids).cloned());
    for digest in &all {
        assert!(
            digest.starts_with("sha256:") && digest.len() == 71,
            "{digest}"
        );
    }
    let distinct: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!(distinct.len(), 8, "every manifest is distinct: {all:?}");

    assert_eq!(reg.head_digest("library/nginx", "1.25"), Some(oci));
    assert_eq!(reg.head_digest("library/postgres", "16"), Some(docker));
    assert_eq!(
        reg.head_digest("library/nginx", "latest"),
        Some(index.clone())
    );
    assert_eq!(reg.head_digest("ghcr.io/acme/app", "1"), Some(list));
    for kid in &kids {
        assert_eq!(reg.head_digest("library/nginx", kid).as_ref(), Some(kid));
    }
    for kid in &list_kids {
        assert_eq!(reg.head_digest("ghcr.io/acme/app", kid).as_ref(), Some(kid));
    }
    assert_eq!(reg.head_digest("library/nginx", "nope"), None);
    assert_eq!(reg.head_digest("library/nope", "1"), None);

    // The index lists the children in order, with their platforms.
    let body = client()
        .get(format!("{}/v2/library/nginx/manifests/latest", reg.url()))
        .header("accept", ACCEPT_ALL)
        .send()
        .and_then(|r| r.bytes())
        .expect("GET index");
    let body: Value = serde_json::from_slice(&body).expect("index JSON");
    assert_eq!(body["mediaType"], OCI_INDEX);
    let entries = body["manifests"].as_array().expect("manifests");
    assert_eq!(entries[0]["digest"], kids[0].as_str());
    assert_eq!(entries[1]["digest"], kids[1].as_str());
    assert_eq!(
        entries[0]["platform"],
        json!({"os": "linux", "architecture": "amd64"})
    );
    assert_eq!(
        entries[1]["platform"],
        json!({"os": "linux", "architecture": "arm64", "variant": "v8"})
    );
}

#[test]
fn tags_move_with_a_new_salt_and_deleted_manifests_are_gone() {
    let reg = TestRegistry::start();
    let v1 = reg.push_image("acme/app", "stable", "v1");
    assert_eq!(
        reg.push_image("acme/app", "stable", "v1"),
        v1,
        "same salt, same digest"
    );
    let v2 = reg.push_image("acme/app", "stable", "v2");
    assert_ne!(v1, v2);
    assert_eq!(reg.head_digest("acme/app", "stable").as_ref(), Some(&v2));

    let (i1, _) = reg.push_index("acme/app", "latest", PLATFORMS, "m1");
    let (i2, _) = reg.push_manifest_list("acme/app", "latest", PLATFORMS, "m2");
    assert_ne!(i1, i2);
    assert_eq!(reg.head_digest("acme/app", "latest").as_ref(), Some(&i2));

    reg.delete_manifest("acme/app", &v2);
    assert_eq!(reg.head_digest("acme/app", "stable"), None);
    assert_eq!(reg.head_digest("acme/app", &v2), None);
    assert_eq!(
        reg.head_digest("acme/app", &v1).as_ref(),
        Some(&v1),
        "v1 still there by digest"
    );
}

#[test]
fn requests_since_lists_exactly_the_requests_a_client_made() {
    let reg = TestRegistry::start();
    let digest = reg.push_image("library/nginx", "1.25", "n");
    let mark = reg.mark();
    assert!(reg.requests_since(mark).is_empty());

    let client = client();
    let head = |path: &str| {
        client
            .head(format!("{}{path}", reg.url()))
            .header("accept", ACCEPT_ALL)
            .send()
            .expect("HEAD")
            .status()
            .as_u16()
    };
    let paths = [
        "/v2/library/nginx/manifests/1.25".to_string(),
        "/v2/library/nginx/manifests/missing".to_string(),
        format!("/v2/library/nginx/manifests/{digest}"),
    ];
    let statuses: Vec<u16> = paths.iter().map(|p| head(p)).collect();
    assert_eq!(statuses, [200, 404, 200]);
    // The harness's own requests are not listed.
    reg.head_digest("library/nginx", "1.25");
    reg.push_image("library/redis", "7", "r");

    let expected: Vec<Request> = paths
        .iter()
        .zip(statuses)
        .map(|(path, status)| Request {
            method: "HEAD".into(),
            path: path.clone(),
            status,
            user_agent: "client-under-test/1.0".into(),
        })
        .collect();
    assert_eq!(reg.requests_since(mark), expected);
    assert_eq!(reg.requests_since(0), expected, "nothing else since start");
    let later = reg.mark();
    assert!(reg.requests_since(later).is_empty());
}

#[test]
fn parallel_registries_are_independent_and_stop_on_drop() {
    let workers: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let reg = TestRegistry::start();
                let digest = reg.push_image("acme/app", "1", &format!("worker {i}"));
                assert_eq!(reg.head_digest("acme/app", "1").as_ref(), Some(&digest));
                let (host, pid) = (reg.host(), reg.pid());
                drop(reg);
                assert!(
                    !std::path::Path::new(&format!("/proc/{pid}")).exists(),
                    "registry process {pid} still exists after drop"
                );
                (host, digest)
            })
        })
        .collect();
    let results: Vec<(String, String)> = workers
        .into_iter()
        .map(|w| w.join().expect("worker"))
        .collect();
    let hosts: std::collections::HashSet<_> = results.iter().map(|r| &r.0).collect();
    let digests: std::collections::HashSet<_> = results.iter().map(|r| &r.1).collect();
    assert_eq!((hosts.len(), digests.len()), (4, 4));
}

#[test]
fn seeds_fifty_images_quickly() {
    let reg = TestRegistry::start();
    let started = Instant::now();
    let digests: Vec<String> = (0..50)
        .map(|i| {
            reg.push_image(
                &format!("bulk/app{}", i % 10),
                &format!("v{i}"),
                &format!("s{i}"),
            )
        })
        .collect();
    let took = started.elapsed();
    eprintln!("seeded 50 images in {took:?}");
    for (i, digest) in digests.iter().enumerate() {
        let repo = format!("bulk/app{}", i % 10);
        assert_eq!(
            reg.head_digest(&repo, &format!("v{i}")).as_ref(),
            Some(digest)
        );
    }
    assert!(
        took < Duration::from_secs(20),
        "seeding 50 images took {took:?}"
    );
}

#[test]
fn parses_access_log_lines() {
    let line = r#"127.0.0.1 - - [27/Nov/2026:01:43:50 +0000] "HEAD /v2/foo/manifests/x?marker=1 HTTP/1.1" 404 91 "" "my agent \"q\"""#;
    assert_eq!(
        parse_access_line(line),
        Some(Request {
            method: "HEAD".into(),
            path: "/v2/foo/manifests/x?marker=1".into(),
            status: 404,
            user_agent: r#"my agent "q""#.into(),
        })
    );
    let app_log = r#"time="2026-11-27T01:43:50Z" level=error msg="response completed with error""#;
    assert_eq!(parse_access_line(app_log), None);
}

#[test]
fn basic_auth_registry_seeds_with_credentials_and_refuses_without() {
    let reg = TestRegistry::start_with_basic_auth("ci", "s3cret");
    let digest = reg.push_image("private/app", "1", "p");
    assert_eq!(reg.head_digest("private/app", "1"), Some(digest));
    let anonymous = client()
        .head(format!("{}/v2/private/app/manifests/1", reg.url()))
        .header("accept", ACCEPT_ALL)
        .send()
        .expect("HEAD");
    assert_eq!(anonymous.status().as_u16(), 401);
    assert_eq!(base64_encode(b"ci:s3cret"), "Y2k6czNjcmV0");
}

#[test]
fn tls_registry_serves_https_with_its_test_ca_and_logs_http2() {
    let reg = TestRegistry::start_tls();
    assert!(reg.url().starts_with("https://127.0.0.1:"));
    assert!(reg.ca_pem().contains("BEGIN CERTIFICATE"));
    let (index, _) = reg.push_index("team/app", "2.0", PLATFORMS, "t");
    assert_eq!(reg.head_digest("team/app", "2.0"), Some(index));
    assert!(
        reg.data_dir()
            .join("docker/registry/v2/repositories/team/app")
            .is_dir()
    );

    let mark = reg.mark();
    let ca = reqwest::Certificate::from_pem(reg.ca_pem().as_bytes()).expect("CA");
    let client = Client::builder()
        .user_agent("client-under-test/1.0")
        .tls_certs_only([ca])
        .no_proxy()
        .build()
        .expect("client");
    let status = client
        .head(format!("{}/v2/team/app/manifests/2.0", reg.url()))
        .header("accept", ACCEPT_ALL)
        .send()
        .expect("HEAD over TLS")
        .status();
    assert_eq!(status.as_u16(), 200);
    let requests = reg.requests_since(mark);
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(
        (requests[0].method.as_str(), requests[0].status),
        ("HEAD", 200)
    );
}
