"""eks-platform: read the stack config once, build the platform, export its outputs."""

import pulumi

from components import config
from components.program import build

raw, region = config.raw_from_runtime(pulumi.get_project())
settings = config.load(raw, stack=pulumi.get_stack(), region=region, project=pulumi.get_project())
for key, value in sorted(build(settings).items()):
    pulumi.export(key, value)
