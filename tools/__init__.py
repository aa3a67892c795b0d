"""Offline tools: the mock cloud, the plan and the benchmark."""
