"""Inference side of Foley-Flow: model packages, ONNX Runtime, sampler, streaming.

Imports numpy and onnxruntime only; never torch, never other foleyflow packages.
"""
