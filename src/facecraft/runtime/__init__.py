"""Device choice (auto/cpu/cuda -> ONNX Runtime providers) and inference sessions."""
