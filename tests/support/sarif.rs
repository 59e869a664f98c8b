//! SARIF validation for tests: the document must deserialize into `serde-sarif`'s
//! model, which is generated from the official SARIF 2.1.0 JSON schema (required
//! properties, types and enumerations), and hold together: every result names a rule
//! of the run and a location with a 1-based line and column.

use serde_json::Value;

pub fn assert_valid(doc: &Value) {
    let typed: Result<serde_sarif::sarif::Sarif, _> = serde_json::from_value(doc.clone());
    if let Err(e) = typed {
        panic!("not SARIF 2.1.0: {e}\n{doc:#}");
    }
    assert_eq!(doc["version"], "2.1.0");
    for run in doc["runs"].as_array().expect("runs") {
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
            let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .expect("uri");
            assert!(
                !uri.starts_with('/') && !uri.contains(' '),
                "relative URI: {uri}"
            );
        }
    }
}
