"""The only code that reads or writes files: workload JSON, SCALE-Sim CSVs, ONNX."""
