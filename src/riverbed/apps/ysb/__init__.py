"""The Yahoo Streaming Benchmark app: its event generator and its query as a pipeline."""
