resource "kubernetes_deployment_v1" "web" {
  metadata {
    name   = "web"
    labels = { image = "not-an-image" }
  }
  spec {
    template {
      spec {
        init_container {
          name  = "init"
          image = "busybox:1.36"
        }
        container {
          name  = "web"
          image = var.image
        }
        container {
          name  = "side"
          image = "${local.registry}/side:1"
        }
      }
    }
  }
}

resource "docker_image" "tools" {
  name = "ghcr.io/acme/tools:1"
}
