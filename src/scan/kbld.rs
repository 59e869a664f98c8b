//! kbld configuration (`kbld.k14s.io`: `Config`, `Sources`, `ImageOverrides`,
//! `ImageDestinations`): `overrides[].image`, `newImage`, `searchRules[].valueMatcher
//! .image`, `sources[].image` and `destinations[].image` are rules for matching and
//! rewriting images elsewhere, or images kbld builds: nothing such a document says is
//! an image it pulls, so it reports nothing (see [`super::rules`]).

#[cfg(test)]
mod tests {
    use crate::finding::Format;
    use crate::scan::testing::found;

    #[test]
    fn kbld_configuration_is_not_images() {
        let src = "apiVersion: kbld.k14s.io/v1alpha1\nkind: Config\noverrides:\n- image: unknown\n  newImage: docker.io/library/nginx:1.25\n  preresolved: true\nsearchRules:\n- keyMatcher: {name: sidecarImage}\n- valueMatcher:\n    image: exact-image\n    imageRepo: gcr.io/some/repo\nsources:\n- image: app\n  path: src\ndestinations:\n- image: app\n  newImage: registry.example/app\n---\napiVersion: kbld.k14s.io/v1alpha1\nkind: ImageOverrides\noverrides:\n- {image: redis, newImage: 'redis:7'}\n---\napiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: nginx:1.25\n";
        assert_eq!(found(src, "kbld.yml", Format::Kubernetes), ["nginx:1.25"]);
    }
}
