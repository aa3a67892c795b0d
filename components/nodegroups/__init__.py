"""Node groups: managed and self-managed groups, node IAM, node security and termination handling."""

from components.nodegroups.groups import (
    ClusterRef,
    ManagedNodeGroup,
    ManagedNodeGroupArgs,
    SelfManagedNodeGroup,
    SelfManagedNodeGroupArgs,
    asg_name,
)
from components.nodegroups.iam import NodeRole, NodeRoleArgs
from components.nodegroups.security import NodeSecurityGroup, NodeSecurityGroupArgs
from components.nodegroups.termination import TerminationQueue, TerminationQueueArgs

__all__ = [
    "ClusterRef",
    "ManagedNodeGroup",
    "ManagedNodeGroupArgs",
    "NodeRole",
    "NodeRoleArgs",
    "NodeSecurityGroup",
    "NodeSecurityGroupArgs",
    "SelfManagedNodeGroup",
    "SelfManagedNodeGroupArgs",
    "TerminationQueue",
    "TerminationQueueArgs",
    "asg_name",
]
