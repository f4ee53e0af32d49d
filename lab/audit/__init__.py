"""The tamper-evident audit trail (`audit_chain`): records, signed checkpoints, verifier.

No Flask: the AS, the bank, the registry and the events module write records through
`trail.append`; `fapi-lab audit verify|export` read them without a running lab.
"""
