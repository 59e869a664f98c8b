//! Amazon ECS. A task definition in JSON (what `aws ecs register-task-definition`
//! reads, or `describe-task-definition` prints under `taskDefinition`) names images in
//! `containerDefinitions[].image`: the generic rule finds them, reported as `ecs`. A
//! CloudFormation or SAM template (YAML or JSON) declares them in an
//! `AWS::ECS::TaskDefinition` resource's `Properties.ContainerDefinitions[].Image`: a
//! string, a `!Sub` string or `{"Fn::Sub": string}`. Any other function (`!Ref`,
//! `!GetAtt`, `!FindInMap`, `!Join`) computes the image elsewhere: not a reference.

use super::Candidate;
use crate::finding::Format;
use crate::yaml::tree::{Node, Pair, get, is_mapping, items, pairs, scalar_span, scalar_text};

pub fn cloudformation(root: Node<'_>, src: &str, out: &mut Vec<Candidate>) {
    let Some(resources) = get(root, src, "Resources") else {
        return;
    };
    for (_, _, resource) in pairs(resources, src) {
        let Some(resource) = resource else { continue };
        let kind = get(resource, src, "Type").and_then(|t| scalar_text(t, src));
        if kind != Some("AWS::ECS::TaskDefinition") {
            continue;
        }
        let definitions = get(resource, src, "Properties")
            .and_then(|p| get(p, src, "ContainerDefinitions"))
            .into_iter()
            .flat_map(items);
        for definition in definitions {
            if let Some((_, pair, Some(image))) =
                pairs(definition, src).find(|(k, _, _)| *k == "Image")
                && let Some(span) = image_text(pair, image, src)
            {
                out.push(Candidate::inline(span, Format::Cloudformation));
            }
        }
    }
}

/// The span of an `Image` value that is a string: untagged, `!Sub`, or `Fn::Sub`.
fn image_text(pair: Pair<'_>, image: Node<'_>, src: &str) -> Option<std::ops::Range<usize>> {
    if is_mapping(image) {
        let mut fields = pairs(image, src);
        return match (fields.next(), fields.next()) {
            (Some(("Fn::Sub", _, Some(value))), None) => scalar_span(value),
            _ => None,
        };
    }
    // A short-form function is a tag between the key and the value.
    let key_end = pair.key()?.end_byte();
    let between = &src[key_end..image.start_byte()];
    match between.find('!') {
        None => scalar_span(image),
        Some(i) if between[i..].starts_with("!Sub") => scalar_span(image),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Format;
    use crate::scan::testing::candidates;

    fn found<'s>(src: &'s str, path: &str) -> Vec<(&'s str, Format)> {
        let c = candidates(src, path);
        c.into_iter().map(|c| (&src[c.span], c.format)).collect()
    }

    #[test]
    fn task_definitions_in_json() {
        let src = "{\n  \"family\": \"web\",\n  \"containerDefinitions\": [\n    {\"name\": \"web\", \"image\": \"nginx:1.25\", \"environment\": [{\"name\": \"image\", \"value\": \"x:1\"}]},\n    {\"name\": \"log\", \"image\": \"public.ecr.aws/aws-observability/aws-for-fluent-bit:stable\"}\n  ]\n}\n";
        assert_eq!(
            found(src, "task-definition.json"),
            [
                ("nginx:1.25", Format::Ecs),
                (
                    "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
                    Format::Ecs
                )
            ]
        );
        let described =
            "{\"taskDefinition\": {\"containerDefinitions\": [{\"image\": \"redis:7\"}]}}";
        assert_eq!(found(described, "td.json"), [("redis:7", Format::Ecs)]);
    }

    #[test]
    fn cloudformation_yaml_with_functions() {
        let src = "AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  Image: {Type: String}\nResources:\n  Task:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      ContainerDefinitions:\n        - Name: web\n          Image: nginx:1.25\n        - Name: sub\n          Image: !Sub '${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/app:1'\n        - Name: ref\n          Image: !Ref Image\n        - Name: plain-sub\n          Image: !Sub ghcr.io/acme/api:v2\n        - Name: join\n          Image: !Join [':', [redis, '7']]\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties: {Image: not-an-image:1}\n";
        assert_eq!(
            found(src, "template.yaml"),
            [
                ("nginx:1.25", Format::Cloudformation),
                (
                    "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/app:1",
                    Format::Cloudformation
                ),
                ("ghcr.io/acme/api:v2", Format::Cloudformation),
            ]
        );
    }

    #[test]
    fn cloudformation_json_and_sam() {
        let src = "{\"Transform\": \"AWS::Serverless-2016-10-31\", \"Resources\": {\"T\": {\"Type\": \"AWS::ECS::TaskDefinition\", \"Properties\": {\"ContainerDefinitions\": [{\"Image\": \"busybox:1.36\"}, {\"Image\": {\"Fn::Sub\": \"alpine:3.19\"}}, {\"Image\": {\"Ref\": \"P\"}}]}}}}";
        assert_eq!(
            found(src, "template.json"),
            [
                ("busybox:1.36", Format::Cloudformation),
                ("alpine:3.19", Format::Cloudformation)
            ]
        );
    }
}
