"""HonestBank's data, shared by its AS, its API, its pages and the protocol code.

Customers, the ledger, consent grants, access- and refresh-token records, revoking a
grant, and the registered clients' names. No Flask here: the web apps (lab/authserver,
lab/bank, lab/tpp) and lab/protocol stand on this package, never the other way round.
"""
