//! SARIF validation for tests: the document must deserialize into `serde-sarif`'s
//! model, which is generated from the official SARIF 2.1.0 JSON schema (required
//! properties, types and enumerations), and hold together: every result names a rule
//! of the run and a location with a 1-based line and column, columns are declared in
//! UTF-16 code units, and every file is named as code scanning places it (see
//! [`assert_artifact_location`]).

use serde_json::Value;

pub fn assert_valid(doc: &Value) {
    let typed: Result<serde_sarif::sarif::Sarif, _> = serde_json::from_value(doc.clone());
    if let Err(e) = typed {
        panic!("not SARIF 2.1.0: {e}\n{doc:#}");
    }
    assert_eq!(doc["version"], "2.1.0");
    for run in doc["runs"].as_array().expect("runs") {
        assert_eq!(run["columnKind"], "utf16CodeUnits", "{run}");
        let bases = run["originalUriBaseIds"].as_object();
        for (id, base) in bases.into_iter().flatten() {
            let uri = base["uri"].as_str().expect("base uri");
            assert!(
                uri.starts_with("file://") && uri.ends_with('/') && base.get("uriBaseId").is_none(),
                "{id}: a base is an absolute file:// URI of a directory: {uri}"
            );
            assert_uri_characters(uri);
        }
        let notifications = run["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .into_iter()
            .flatten();
        for location in run["results"]
            .as_array()
            .expect("results")
            .iter()
            .chain(notifications)
            .flat_map(|r| r["locations"].as_array().into_iter().flatten())
        {
            assert_artifact_location(&location["physicalLocation"]["artifactLocation"], run);
        }
        // GitHub code scanning requires these of every rule.
        for rule in run["tool"]["driver"]["rules"].as_array().expect("rules") {
            for field in ["shortDescription", "fullDescription", "help"] {
                assert!(
                    rule[field]["text"].as_str().is_some_and(|t| !t.is_empty()),
                    "rule {} has no {field}.text",
                    rule["id"]
                );
            }
        }
        let rules: Vec<&str> = run["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .map(|r| r["id"].as_str().expect("rule id"))
            .collect();
        for result in run["results"].as_array().expect("results") {
            let id = result["ruleId"].as_str().expect("ruleId");
            let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
            assert_eq!(rules.get(index), Some(&id), "ruleIndex points at ruleId");
            assert!(matches!(
                result["level"].as_str(),
                Some("error" | "warning" | "note")
            ));
            assert!(!result["message"]["text"].as_str().unwrap_or("").is_empty());
            let region = &result["locations"][0]["physicalLocation"]["region"];
            assert!(
                region["startLine"].as_u64().is_some_and(|l| l >= 1),
                "{result}"
            );
            assert!(
                region["startColumn"].as_u64().is_some_and(|c| c >= 1),
                "{result}"
            );
        }
    }
}

/// A file is named either by a relative reference from a base the run defines (its
/// `uriBaseId`; `%SRCROOT%` may be left to the consumer), normalised — no `.` or `..`
/// segments, no leading `/`, no backslash — or by an absolute `file://` URI with no
/// base. Both are percent-encoded as RFC 3986 requires.
pub fn assert_artifact_location(location: &Value, run: &Value) {
    let uri = location["uri"].as_str().expect("uri");
    assert_uri_characters(uri);
    if uri.starts_with("file://") {
        assert!(
            location.get("uriBaseId").is_none(),
            "an absolute URI has no base: {location}"
        );
        return;
    }
    assert!(
        !uri.starts_with('/')
            && !uri.contains(':')
            && uri
                .split('/')
                .all(|s| !s.is_empty() && s != "." && s != ".."),
        "a normalised relative reference: {uri}"
    );
    let base = location["uriBaseId"].as_str().expect("uriBaseId");
    assert!(
        base == "%SRCROOT%" || run["originalUriBaseIds"].get(base).is_some(),
        "{base} is defined in originalUriBaseIds: {run}"
    );
}

/// Only unreserved characters, `/`, `%XX` escapes, and the `:` of a scheme or drive.
fn assert_uri_characters(uri: &str) {
    let bytes = uri.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            assert!(
                bytes
                    .get(i + 1..i + 3)
                    .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)),
                "a % escape: {uri}"
            );
            i += 3;
            continue;
        }
        assert!(
            b.is_ascii_alphanumeric() || b"-._~/:".contains(&b),
            "{:?} percent-encoded in {uri}",
            b as char
        );
        i += 1;
    }
}
