variable "BASE" {
  default = "golang:1.22"
}

target "app" {
  dockerfile = "Dockerfile"
  tags       = ["acme/app:1.0", "acme/app:latest"] // outputs, never findings
  contexts = {
    base  = "docker-image://${BASE}"
    tools = "docker-image://busybox:1.36"
    src   = "../src"
    other = "target:base"
  }
}
