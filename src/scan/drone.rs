//! Drone (`.drone.yml`, or a document with `kind: pipeline` and `steps`): `steps[]`
//! and `services[]` name their images under `image:`, which the generic rule finds.
//! Drone's top-level `services:` once made these files look like docker-compose; they
//! are `drone`. `environment:` (and plugin `settings:`) values are variables, never
//! images.

#[cfg(test)]
mod tests {
    use crate::finding::Format;
    use crate::scan::testing::found;

    #[test]
    fn drone_pipelines_with_services_are_drone() {
        let src = "kind: pipeline\ntype: docker\nname: test\nsteps:\n- name: test\n  image: golang:1.22\n  environment:\n    image: not-an-image:1\n  settings: {image: not-an-image:2}\n  commands: [go test ./...]\nservices:\n- name: db\n  image: postgres:16\n---\nkind: secret\nname: token\n";
        let want = ["golang:1.22", "postgres:16"];
        assert_eq!(found(src, ".drone.yml", Format::Drone), want);
        // Found by shape under another name, too.
        assert_eq!(found(src, "ci/pipeline.yml", Format::Drone), want);
    }
}
