//! CircleCI (`.circleci/config.yml`): `docker: - image:` entries are container images
//! and the generic rule finds them; `machine: image:` names a VM image and
//! `environment:` holds variables, so everything under those keys is left out (see
//! [`super::detect::Doc::excluded_parents`]).

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

    #[test]
    fn environment_variables_named_image_are_not_images() {
        let src = "version: 2.1\njobs:\n  test:\n    docker:\n      - image: cimg/node:20.1\n        environment:\n          image: busybox\n    environment:\n      image: alpine:3\n";
        let found = crate::scan::testing::found(src, ".circleci/config.yml", Format::Circleci);
        assert_eq!(found, ["cimg/node:20.1"]);
    }
}
