"""Platform add-ons: one module per add-on (values and IAM policy side by side) on a shared HelmAddon."""
