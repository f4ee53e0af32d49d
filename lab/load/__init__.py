"""`fapi-lab load`: Locust workloads against the running lab (prepare, run, report)."""
