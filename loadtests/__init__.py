"""Locust workloads for `fapi-lab load` (one module per workload; see common.py)."""
