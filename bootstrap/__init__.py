"""The bootstrap program: the CI identities and Session Manager preferences of one AWS account (docs/operations.md,
"CI identities")."""
