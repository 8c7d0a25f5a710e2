"""Container images: the FROMs of Dockerfiles and the images of compose files, pinned by digest."""
