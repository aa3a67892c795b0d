"""The eks-platform CrossGuard policy pack; the policies themselves are in guardrails.py."""
