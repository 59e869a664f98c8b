variable "image" {
  description = "the web image"
  default     = "nginx:1.25" # pinned here: every use is var.image
}
