//! Google Cloud Build (`cloudbuild.yaml`): each `steps[*].name` is the image the step
//! runs. The top-level `images:` list names images the build pushes: not inputs.

use super::Candidate;
use crate::finding::Format;
use crate::yaml::tree::{Node, get, items, scalar_span};

pub fn scan(root: Option<Node<'_>>, src: &str, out: &mut Vec<Candidate>) {
    let Some(steps) = root.and_then(|r| get(r, src, "steps")) else {
        return;
    };
    for step in items(steps) {
        if let Some(span) = get(step, src, "name").and_then(scalar_span) {
            out.push(Candidate::inline(span, Format::CloudBuild));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::scan::yaml::scan;

    #[test]
    fn step_names_are_images_pushed_images_are_not() {
        let src = "steps:\n- name: gcr.io/cloud-builders/docker\n  args: [build, -t, gcr.io/p/app, .]\n- name: 'golang:1.22'\nimages: [gcr.io/p/app]\n";
        let c = scan(src, Path::new("cloudbuild.yaml")).unwrap();
        let texts: Vec<&str> = c.iter().map(|c| &src[c.span.clone()]).collect();
        assert_eq!(texts, ["gcr.io/cloud-builders/docker", "golang:1.22"]);
    }
}
