"""eks-platform: read the stack config once, build the platform, export its outputs.

EKS_PLATFORM_API_TUNNEL_PORT (optional): the Kubernetes provider reaches the API through an SSM
port forward on localhost:<port> (see docs/operations.md, "Private clusters"). Read here, once.
"""

import os

import pulumi

from components import config
from components.program import build

raw, region = config.raw_from_runtime(pulumi.get_project())
settings = config.load(raw, stack=pulumi.get_stack(), region=region, project=pulumi.get_project())
tunnel = config.tunnel_port(os.environ.get("EKS_PLATFORM_API_TUNNEL_PORT"))
for key, value in sorted(build(settings, tunnel_port=tunnel).items()):
    pulumi.export(key, value)
