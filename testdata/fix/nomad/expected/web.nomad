job "web" {
  group "g" {
    task "cache" {
      driver = "docker" # redis
      config {
        image = "redis:7@<<library/redis:7>>"
      }
    }
    task "app" {
      driver = "podman"
      config { image = "node:20@<<library/node:20>>" }
    }
    task "batch" {
      driver = "exec"
      config { image = "not-an-image:1" }
    }
    task "worker" {
      driver = "podman"
      config { image = "docker://ghcr.io/acme/tools:1@<<ghcr.io/acme/tools:1>>" }
    }
    task "archive" {
      driver = "podman"
      config { image = "oci-archive:/srv/app.tar" }
    }
    task "meta" {
      driver = "docker"
      config { image = "ghcr.io/acme/api:${NOMAD_META_version}" }
    }
  }
}
