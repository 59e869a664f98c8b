//! CircleCI (`.circleci/config.yml`): `docker: - image:` entries are container images
//! and the generic rule finds them; `machine: image:` names a VM image, so everything
//! under a `machine` key is left out (see `EXCLUDED_PARENTS`).

/// Keys under which an `image` key is never a container image in CircleCI files.
pub const EXCLUDED_PARENTS: [&str; 3] = ["annotations", "labels", "machine"];

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::finding::Format;
    use crate::scan::yaml::scan;

    #[test]
    fn docker_images_but_not_machine_images() {
        let src = "version: 2.1\njobs:\n  test:\n    docker:\n      - image: cimg/node:20.1\n      - image: cimg/postgres:16.0\n  vm:\n    machine:\n      image: ubuntu-2204:2023.07.2\nexecutors:\n  linux:\n    machine: {image: ubuntu-2004:current}\n";
        let c = scan(src, Path::new(".circleci/config.yml")).unwrap();
        let texts: Vec<&str> = c.iter().map(|c| &src[c.span.clone()]).collect();
        assert_eq!(texts, ["cimg/node:20.1", "cimg/postgres:16.0"]);
        assert!(c.iter().all(|c| c.format == Format::Circleci));
    }
}
