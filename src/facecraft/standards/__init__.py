"""ID-photo standards: the published rules of each document as data, and the checks that read them."""
