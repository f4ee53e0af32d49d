"""One module per catalog attack (attacks.md §3); each defines ATTACK."""
