"""eks-platform: ComponentResources and the pure functions they use."""
