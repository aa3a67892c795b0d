"""Typed config: defaults, collected problems, key paths, the region's zones."""

import pytest

from components import config as cfgmod
from components.config import ConfigError
from tests.helpers import ADMIN, minimal_config


def load(raw, region="eu-west-1", stack="dev"):
    return cfgmod.load(raw, stack=stack, region=region)


def test_defaults():
    cfg = load(minimal_config())
    assert cfg.cluster.name == "eks-platform-dev"
    assert cfg.cluster.version == "1.35"
    assert (cfg.cluster.endpoint.private_access, cfg.cluster.endpoint.public_access) == (True, False)
    assert cfg.cluster.endpoint.access_host.enabled is False
    assert cfg.cluster.logging.types == ("api", "audit", "authenticator")
    assert cfg.cluster.access.admin_role_arns == (ADMIN,)
    assert cfg.cluster.upgrade_policy == "STANDARD"
    assert cfg.cluster.protect is False
    assert cfg.network.cidr == "10.0.0.0/16"
    assert cfg.network.zone_count == 2
    assert cfg.network.max_azs == 4
    assert cfg.network.nat_gateways == "single"
    assert cfg.network.flow_logs.enabled is False
    assert cfg.network.existing is None


def test_config_objects_are_frozen():
    cfg = load(minimal_config())
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="frozen"):
        cfg.network.cidr = "10.1.0.0/16"


def test_every_problem_is_collected_not_just_the_first():
    with pytest.raises(ConfigError) as err:
        load({"network": {"cidr": "nope", "natGateways": "x"}, "cluster": {"version": "2.0"}})
    keys = [p.split(": ")[0] for p in err.value.problems]
    assert sorted(keys) == sorted(
        ["network.cidr", "network.natGateways", "cluster.version", "cluster.access.adminRoleArns", "nodeGroups"]
    )


def test_config_error_is_a_clean_pulumi_run_error():
    import pulumi

    assert issubclass(ConfigError, pulumi.RunError)
    message = str(ConfigError(["a.b: bad"]))
    assert "a.b: bad" in message and "Traceback" not in message


def test_unknown_keys_are_problems_with_suggestions():
    with pytest.raises(ConfigError) as err:
        load(minimal_config(network={"cidrr": "10.0.0.0/16"}))
    assert err.value.problems == ['network.cidrr: unknown key (did you mean "cidr"?)']


def test_zone_count_defaults_to_the_explicit_zone_list():
    cfg = load(minimal_config(network={"zoneNames": ["eu-west-1b", "eu-west-1c", "eu-west-1a"]}))
    assert cfg.network.zone_count == 3
    assert cfgmod.check_zones(cfg.network, ("eu-west-1a", "eu-west-1b", "eu-west-1c"), "eu-west-1") == (
        "eu-west-1b",
        "eu-west-1c",
        "eu-west-1a",
    )


def test_check_zones_takes_the_first_offered():
    cfg = load(minimal_config(network={"availabilityZones": 2}))
    assert cfgmod.check_zones(cfg.network, ("x1a", "x1b", "x1c"), "x1") == ("x1a", "x1b")
    with pytest.raises(ConfigError, match=r"network\.availabilityZones: 2 is more than the 1 zones x1 offers"):
        cfgmod.check_zones(cfg.network, ("x1a",), "x1")


def test_bring_your_own_vpc():
    existing = {
        "vpcId": "vpc-0123456789abcdef0",
        "privateSubnetIds": ["subnet-01234567", "subnet-89abcdef"],
        "intraSubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    }
    cfg = load(minimal_config(network={"existing": existing}))
    e = cfg.network.existing
    assert e.vpc_id == "vpc-0123456789abcdef0"
    assert e.private_subnet_ids == ("subnet-01234567", "subnet-89abcdef")
    assert e.intra_subnet_ids == ("subnet-0123456789abcdef0", "subnet-0123456789abcdef1")
    assert e.public_subnet_ids == ()
    assert cfgmod.check_zones(cfg.network, ("a",), "r") == ()


def test_a_subnet_in_two_tiers_is_refused():
    existing = {
        "vpcId": "vpc-0123456789abcdef0",
        "privateSubnetIds": ["subnet-01234567", "subnet-89abcdef"],
        "publicSubnetIds": ["subnet-01234567"],
    }
    with pytest.raises(ConfigError, match=r"also listed in network\.existing\.privateSubnetIds"):
        load(
            minimal_config(
                network={"existing": existing},
                cluster={"controlPlaneSubnets": "private", "access": {"adminRoleArns": [ADMIN]}},
            )
        )


def test_cluster_settings_are_read():
    cfg = load(
        minimal_config(
            cluster={
                "name": "blue",
                "version": "1.33",
                "endpoint": {"publicAccess": True, "publicAccessCidrs": ["198.51.100.0/24"]},
                "encryption": {
                    "kmsKeyArn": "arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
                },
                "logging": {"types": ["audit"], "retentionDays": 7},
                "access": {"adminRoleArns": [ADMIN], "readOnlyRoleArns": ["arn:aws:iam::111122223333:role/team/dev"]},
                "addons": {
                    "vpcCni": {"version": "v1.20.1-eksbuild.3", "prefixDelegation": False, "networkPolicy": True},
                    "podIdentityAgent": {"enabled": False},
                },
                "kubeconfig": {"roleArn": ADMIN, "profile": "platform"},
                "oidc": {"extraThumbprints": ["ABCDEF0123456789ABCDEF0123456789ABCDEF01"]},
                "protect": True,
            },
            addons={"identity": "irsa"},
        )
    )
    c = cfg.cluster
    assert (c.name, c.version, c.protect) == ("blue", "1.33", True)
    assert c.endpoint.public_access_cidrs == ("198.51.100.0/24",)
    assert c.addons.vpc_cni.version == "v1.20.1-eksbuild.3"
    assert (c.addons.vpc_cni.prefix_delegation, c.addons.vpc_cni.network_policy) == (False, True)
    assert c.addons.pod_identity_agent.enabled is False
    assert c.extra_thumbprints == ("abcdef0123456789abcdef0123456789abcdef01",)
    assert c.kubeconfig.profile == "platform"


def test_raw_from_runtime_reads_only_the_project_namespace():
    import pulumi

    pulumi.runtime.set_all_config(
        {"eks-platform:network": '{"cidr": "10.1.0.0/16"}', "aws:region": "us-east-1", "other:thing": "x"}
    )
    try:
        raw, region = cfgmod.raw_from_runtime("eks-platform")
    finally:
        pulumi.runtime.set_all_config({})
    assert raw == {"network": {"cidr": "10.1.0.0/16"}}
    assert region == "us-east-1"


def test_zones_eks_cannot_use_are_skipped_or_refused():
    cfg = load(minimal_config(network={"availabilityZones": 3}))
    names = ("us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d")
    ids = ("use1-az1", "use1-az2", "use1-az3", "use1-az4")
    assert cfgmod.check_zones(cfg.network, names, "us-east-1", ids) == ("us-east-1a", "us-east-1b", "us-east-1d")
    four = load(minimal_config(network={"availabilityZones": 4}))
    with pytest.raises(ConfigError, match=r"4 is more than the 3 zones us-east-1 offers \(EKS cannot use us-east-1c\)"):
        cfgmod.check_zones(four.network, names, "us-east-1", ids)
    named = load(minimal_config(network={"zoneNames": ["us-east-1a", "us-east-1c"]}))
    with pytest.raises(ConfigError, match=r"\(use1-az3\) cannot host EKS control planes"):
        cfgmod.check_zones(named.network, names, "us-east-1", ids)


def test_the_plan_never_picks_an_unsupported_zone():
    from tests.helpers import run_main

    rec = run_main(minimal_config(network={"availabilityZones": 3}), region="us-east-1")
    assert rec.outputs["availabilityZones"] == ["us-east-1a", "us-east-1b", "us-east-1d"]


def test_a_node_image_missing_from_the_catalog_names_the_file_and_key(monkeypatch):
    from components.config import nodeimages

    thin = {
        minor: {
            os_: {a: v for a, v in by_arch.items() if (minor, os_, a) != ("1.35", "al2023", "arm64")}
            for os_, by_arch in by_os.items()
        }
        for minor, by_os in nodeimages.catalog().items()
    }
    monkeypatch.setattr(nodeimages, "catalog", lambda: thin)
    raw = minimal_config(
        cluster={"version": "1.35", "access": {"adminRoleArns": [ADMIN]}},
        nodeGroups={
            "graviton": {"kind": "managed", "instanceTypes": ["m7g.large"], "architecture": "arm64"},
            "pinned": {
                "kind": "selfManaged",
                "instanceTypes": ["m7g.large"],
                "architecture": "arm64",
                "amiId": "ami-0123456789abcdef0",
            },
            "x86": {"kind": "managed", "instanceTypes": ["m7i.large"]},
        },
    )
    with pytest.raises(ConfigError) as err:
        load(raw)
    # one line, for the group that needs the catalog (a pinned amiId does not)
    assert err.value.problems == [
        "nodeGroups.graviton: platform/node-images.yaml has no al2023 arm64 image for Kubernetes 1.35 "
        '(key "1.35".al2023.arm64); add it or run `python -m tools.node_images --refresh`'
    ]


@pytest.mark.parametrize(
    "cidr,inside",
    [
        ("10.1.0.0/16", "10.0.0.0/8"),
        ("172.20.0.0/16", "172.16.0.0/12"),
        ("192.168.1.0/24", "192.168.0.0/16"),
        ("100.64.0.0/10", "100.64.0.0/10"),
        ("127.0.0.1/32", "127.0.0.0/8"),
        ("169.254.169.254/32", "169.254.0.0/16"),
        ("224.0.0.0/8", "224.0.0.0/4"),
        ("250.0.0.0/8", "240.0.0.0/4"),
    ],
)
def test_public_access_cidrs_inside_special_ranges_are_refused(cidr, inside):
    from components.config.base import public_unicast_problem

    assert public_unicast_problem(cidr).startswith(f"is not a public range: it is inside {inside}")


@pytest.mark.parametrize("cidr", ["203.0.113.0/24", "198.51.100.7/32", "52.95.0.0/16", "0.0.0.0/1", "8.8.8.8/32"])
def test_public_ranges_pass(cidr):
    from components.config.base import public_unicast_problem

    assert public_unicast_problem(cidr) is None


def test_the_instance_type_list_is_the_pinned_sdks_enum():
    """platform/ec2-instance-types.yaml is what the config checks types against: regenerate it after a pulumi-aws
    bump (python -m tools.instance_types)."""
    from tools import instance_types

    assert instance_types.PATH.read_text() == instance_types.render(), "python -m tools.instance_types"
