resource "aws_ecs_task_definition" "t" {
  family = "t"
  container_definitions = jsonencode([
    { name = "a", image = "alpine:3.19" },
    { name = "b", image = "redis:7@sha256:1111111111111111111111111111111111111111111111111111111111111111" },
  ])
}
