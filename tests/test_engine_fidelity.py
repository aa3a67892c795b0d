"""The mock cloud is as strict as the engine where the program depends on it."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pytest

from tests.helpers import run_components
from tools import remote_components
from tools.mockcloud import EngineError

VERSION_ERROR = (
    "You need to specify either `addonVersion` or `clusterVersion` to determine the version of the "
    "vpc-cni addon to use."
)


def test_vpc_cni_addon_without_a_version_fails_like_the_real_constructor():
    def program():
        eks.VpcCniAddon("cni", cluster_name="c")

    with pytest.raises(EngineError, match="eks:index:VpcCniAddon resource 'cni': You need to specify either"):
        run_components(program)


def test_vpc_cni_addon_with_list_tags_fails():
    def program():
        eks.VpcCniAddon("cni", cluster_name="c", cluster_version="1.35", tags=[{"a": "b"}])

    with pytest.raises(EngineError, match="tags: aws:eks/addon:Addon expects a map"):
        run_components(program)


def test_vpc_cni_addon_without_cluster_name_fails():
    with pytest.raises(remote_components.ComponentError, match="Missing required option 'clusterName'"):
        remote_components.construct("eks:index:VpcCniAddon", "cni", {"clusterVersion": "1.35"}, lambda a, v: "x")


def test_conflicting_snat_options_fail():
    with pytest.raises(remote_components.ComponentError, match="one of `cniExternalSnat` or `externalSnat`"):
        remote_components.construct(
            "eks:index:VpcCniAddon",
            "cni",
            {"clusterName": "c", "addonVersion": "v1", "externalSnat": True, "cniExternalSnat": True},
            lambda a, v: "x",
        )


def test_cluster_version_alone_resolves_the_newest_addon_for_the_minor():
    (child,) = remote_components.construct(
        "eks:index:VpcCniAddon", "cni", {"clusterName": "c", "clusterVersion": "1.34"}, lambda a, v: f"{a}@{v}"
    )
    assert child.inputs["addonVersion"] == "vpc-cni@1.34"


def test_custom_network_config_alone_is_overwritten_by_the_later_default():
    # pulumi-eks 4.x: customNetworkConfig=true is pushed first, then cniCustomNetworkCfg's default "false".
    env, _ = remote_components.vpc_cni_env({"customNetworkConfig": True})
    assert env["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"] == "false"


def test_configuration_values_win_over_the_computed_env():
    env, init = remote_components.vpc_cni_env({})
    merged = remote_components.merge_configuration_values(env, init, True, {"env": {"ENABLE_POD_ENI": "true"}})
    assert merged["env"]["ENABLE_POD_ENI"] == "true"
    assert merged["enableNetworkPolicy"] == "true"
    assert merged["init"] == {"env": {"DISABLE_TCP_EARLY_DEMUX": "false"}}


def test_an_unemulated_remote_component_is_refused():
    with pytest.raises(remote_components.ComponentError, match="does not emulate remote component eks:index:Cluster"):
        remote_components.construct("eks:index:Cluster", "c", {}, lambda a, v: "x")


def test_duplicate_urn_fails_with_the_engines_message():
    def program():
        aws.sqs.Queue("q")
        aws.sqs.Queue("q")

    with pytest.raises(
        EngineError,
        match=r"Duplicate resource URN 'urn:pulumi:test::eks-platform::aws:sqs/queue:Queue::q'; "
        r"try giving it a unique name",
    ):
        run_components(program)


class Box(pulumi.ComponentResource):
    def __init__(self, name, child="q", type_="test:index:Box", parent=None):
        super().__init__(type_, name, None, pulumi.ResourceOptions(parent=parent))
        aws.sqs.Queue(child, opts=pulumi.ResourceOptions(parent=self))


def test_a_child_name_repeated_under_two_components_of_one_type_is_a_duplicate():
    # URNs carry the parent's type, not its name: this is why every child name starts with its component's.
    with pytest.raises(
        EngineError,
        match=r"Duplicate resource URN 'urn:pulumi:test::eks-platform::"
        r"test:index:Box\$aws:sqs/queue:Queue::q'",
    ):
        run_components(lambda: (Box("a"), Box("b")))


def test_urns_carry_the_whole_parent_type_chain():
    def program():
        outer = Box("outer", child="q1", type_="test:index:Outer")
        Box("inner", child="q2", parent=outer)

    rec = run_components(program)
    (q2,) = [r for r in rec.by_type("aws:sqs/queue:Queue") if r.name == "q2"]
    assert q2.urn == "urn:pulumi:test::eks-platform::test:index:Outer$test:index:Box$aws:sqs/queue:Queue::q2"


def test_the_plan_exits_1_with_the_components_message_when_the_program_omits_the_version(monkeypatch, capsys):
    import components.cluster
    from tests.helpers import ROOT
    from tools import plan

    real = eks.VpcCniAddon

    def old_call(name, **kwargs):  # the call as it was before: no cluster_version, no pinned version
        kwargs.pop("cluster_version")
        kwargs.pop("addon_version")
        return real(name, **kwargs)

    monkeypatch.setattr(components.cluster.eks, "VpcCniAddon", old_call)
    code = plan.main(["--config-file", str(ROOT / "Pulumi.dev.yaml"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: eks:index:VpcCniAddon resource 'eks-platform-dev-vpc-cni': You need to specify")
    assert "Traceback" not in err


def test_config_group_children_are_the_manifests_objects_named_as_the_provider_names_them():
    import pulumi_kubernetes as k8s

    from components.addons.base import take_over_crds

    def program():
        k8s.yaml.v2.ConfigGroup(
            "widgets",
            files=["tests/data/manifests/widgets-crd.yaml"],
            opts=pulumi.ResourceOptions(transforms=[take_over_crds]),
        )

    rec = run_components(program)
    crd = rec.one("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", "widgets:widgets.example.com")
    ns = rec.one("kubernetes:core/v1:Namespace", "widgets:widgets")
    group = rec.one("kubernetes:yaml/v2:ConfigGroup", "widgets")
    assert crd.parent == group.urn and ns.parent == group.urn
    # the registered transform ran on the child CRD only
    assert crd.inputs["metadata"]["annotations"] == {"pulumi.com/patchForce": "true"}
    assert "annotations" not in ns.inputs["metadata"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"files": "crds.yaml"}, "files: expected an array of strings"),
        ({"files": ["http://example.com/v1.0.0/crds.yaml"]}, "only https sources"),
        (
            {"files": ["tests/data/manifests/nope.yaml"]},
            "reading YAML file from disk: open tests/data/manifests/nope.yaml",
        ),
        ({"files": [], "skipAwait": "yes"}, "skipAwait: expected bool"),
    ],
)
def test_config_group_arguments_are_checked_like_the_provider(args, message):
    with pytest.raises(remote_components.ComponentError, match=message):
        remote_components.construct("kubernetes:yaml/v2:ConfigGroup", "g", args, lambda a, v: "x")


def test_config_group_urls_register_no_children_offline():
    assert (
        remote_components.construct(
            "kubernetes:yaml/v2:ConfigGroup", "g", {"files": ["https://example.com/v1.0.0/crds.yaml"]}, lambda a, v: "x"
        )
        == []
    )


def test_an_invoke_the_mock_cannot_answer_is_refused_by_name():
    from pulumi.runtime.mocks import MockCallArgs

    from tools.mockcloud import MockCloud, UnansweredInvoke

    with pytest.raises(UnansweredInvoke, match=r"no answer for invoke aws:ec2/getAmi:getAmi; add one in"):
        MockCloud().call(MockCallArgs(token="aws:ec2/getAmi:getAmi", args={}, provider=""))
