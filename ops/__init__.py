"""What operators rely on: how every process connects to Temporal (payload codec, interceptors, metrics
runtime), the codec server, metrics, logs, traces and the `cvimprover ops` commands."""
