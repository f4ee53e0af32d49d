"""JOSE and DPoP in one place: JWS verification, DPoP proofs and their replay defences."""
