"""The mock cloud shared by the tests and the offline plan.

* ``MockCloud`` answers every invoke the program uses with realistic fake values and
  gives each resource plausible computed outputs (ids, ARNs, endpoints), all derived
  from the logical name by hashing, so two runs give identical values.
* ``RecordingMonitor`` captures every registration: type, name, parent, dependencies,
  provider, protect, ignoreChanges and inputs.
* ``run_program`` runs a program function under both, in a fresh event loop, with the
  given config, and returns a ``Recording`` (resources in construction order + stack
  outputs). Construction order is exact and deterministic: Pulumi performs the
  registration RPCs on worker threads, so their arrival order is not.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import functools
import gc
import gzip
import hashlib
import importlib.util
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2

from components import names
from tools import remote_components

ACCOUNT_ID = "111122223333"
SECRET = "[secret]"
UNKNOWN = "[unknown]"

ZONES = {
    "us-east-1": ("us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"),
    "eu-west-1": ("eu-west-1a", "eu-west-1b", "eu-west-1c"),
    "eu-central-1": ("eu-central-1a", "eu-central-1b", "eu-central-1c"),
    "us-west-1": ("us-west-1a", "us-west-1c"),
}
ZONE_ID_PREFIX = {"us-east-1": "use1", "eu-west-1": "euw1", "eu-central-1": "euc1", "us-west-1": "usw1"}

# The mocked TLS chain of the OIDC issuer: root first, as pulumi-tls documents.
ROOT_CA_SHA1 = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
LEAF_SHA1 = "0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c"


class EngineError(Exception):
    """What the real engine would stop `pulumi preview` with (the plan exits 1 with this message)."""


class UnansweredInvoke(LookupError):
    """An invoke the mock cloud has no answer for: a gap in the offline plan (tools/mockcloud.py), not in the program
    (the provider would answer it). The plan exits 1 with this message, so a new data source cannot go unplanned."""


def h(*parts: str, n: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


@functools.cache
def _instance_types() -> dict[str, Any]:
    """DescribeInstanceTypes answers as moto records them (its ec2/resources/instance_types.json.gz: AWS's own
    data), read without importing moto's EC2 models."""
    spec = importlib.util.find_spec("moto")
    assert spec is not None and spec.submodule_search_locations, "moto is a test dependency (requirements-dev.txt)"
    path = Path(spec.submodule_search_locations[0]) / "ec2" / "resources" / "instance_types.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def instance_type(name: str) -> dict[str, Any]:
    """``aws.ec2.get_instance_type`` for ``name``: the fields the program reads, as the provider returns them."""
    info = _instance_types().get(name)
    if info is None:
        raise EngineError(f"aws:ec2/getInstanceType:getInstanceType: no EC2 instance type {name!r}")
    net = info["NetworkInfo"]
    return {
        "id": name,
        "instanceType": name,
        "defaultVcpus": info["VCpuInfo"]["DefaultVCpus"],
        "hypervisor": info.get("Hypervisor", ""),
        "maximumNetworkInterfaces": net["MaximumNetworkInterfaces"],
        "maximumIpv4AddressesPerInterface": net["Ipv4AddressesPerInterface"],
        "memorySize": info["MemoryInfo"]["SizeInMiB"],
    }


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def plain(value: Any) -> Any:
    """Deserialized RPC values -> plain JSON: secrets become "[secret]", references their URN."""
    if rpc.is_rpc_secret(value):
        return SECRET
    if isinstance(value, str) and value == rpc.UNKNOWN:
        return UNKNOWN
    if isinstance(value, pulumi.Resource):
        return f"[resource {type(value).__name__}]"
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_resource_sig:
            return value.get("urn")
        return {k: plain(value[k]) for k in sorted(value)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class MockCloud(pulumi_mocks.Mocks):
    """Fake AWS (and TLS/Kubernetes) answers, deterministic per logical name."""

    def __init__(self, region: str = "eu-west-1", account_id: str = ACCOUNT_ID) -> None:
        self.region = region
        self.account_id = account_id
        self.partition = partition_of(region)
        self.invokes: list[str] = []

    # -- invokes ----------------------------------------------------------------------
    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        self.invokes.append(args.token)
        answers = {
            "aws:index/getAvailabilityZones:getAvailabilityZones": self._zones,
            "aws:index/getCallerIdentity:getCallerIdentity": self._caller,
            "aws:index/getPartition:getPartition": self._partition,
            "aws:index/getRegion:getRegion": self._region,
            "aws:ssm/getParameter:getParameter": self._parameter,
            "aws:ec2/getVpc:getVpc": self._vpc,
            "aws:ec2/getSubnet:getSubnet": self._subnet,
            "aws:ec2/getInstanceType:getInstanceType": self._instance_type,
            "aws:iam/getPolicyDocument:getPolicyDocument": self._policy_document,
            "tls:index/getCertificate:getCertificate": self._certificate,
        }
        if args.token not in answers:
            raise UnansweredInvoke(
                f"the mock cloud has no answer for invoke {args.token}; add one in tools/mockcloud.py"
            )
        return answers[args.token](args.args), []

    def _zones(self, a: Mapping[str, Any]) -> dict[str, Any]:
        region = self.region
        names = ZONES.get(region, tuple(f"{region}{s}" for s in "abc"))
        prefix = ZONE_ID_PREFIX.get(region, region.replace("-", "")[:4])
        return {
            "names": list(names),
            "zoneIds": [f"{prefix}-az{i + 1}" for i in range(len(names))],
            "id": region,
            "state": "available",
        }

    def _caller(self, a: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "accountId": self.account_id,
            "arn": f"arn:{self.partition}:iam::{self.account_id}:user/plan",
            "userId": "AIDAPLAN",
            "id": self.account_id,
        }

    def _partition(self, a: Mapping[str, Any]) -> dict[str, Any]:
        suffix = "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"
        return {
            "partition": self.partition,
            "dnsSuffix": suffix,
            "id": self.partition,
            "reverseDnsPrefix": "com.amazonaws",
        }

    def _region(self, a: Mapping[str, Any]) -> dict[str, Any]:
        region = self.region
        return {"region": region, "name": region, "id": region, "endpoint": f"ec2.{region}.amazonaws.com"}

    def _parameter(self, a: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "name": a.get("name"),
            "value": f"ami-{h('ami', str(a.get('name')))}",
            "type": "String",
            "id": a.get("name"),
        }

    def _vpc(self, a: Mapping[str, Any]) -> dict[str, Any]:
        return {"id": a.get("id"), "cidrBlock": "10.20.0.0/16", "arn": self._arn("ec2", f"vpc/{a.get('id')}")}

    def _subnet(self, a: Mapping[str, Any]) -> dict[str, Any]:
        region = self.region
        zones = ZONES.get(region, tuple(f"{region}{s}" for s in "abc"))
        sid = str(a.get("id"))
        digest = int(hashlib.sha256(sid.encode()).hexdigest(), 16)
        zone = zones[digest % len(zones)]
        # a /24 of the carrier-grade NAT range, where brought pod subnets usually are (stable per subnet id)
        cidr = f"100.{64 + (digest >> 8) % 64}.{(digest >> 16) % 256}.0/24"
        return {
            "id": sid,
            "availabilityZone": zone,
            "vpcId": "vpc-0123456789abcdef0",
            "cidrBlock": cidr,
            "arn": self._arn("ec2", f"subnet/{sid}"),
        }

    def _instance_type(self, a: Mapping[str, Any]) -> dict[str, Any]:
        return instance_type(str(a.get("instanceType")))

    def _policy_document(self, a: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "json": json.dumps({"Version": "2012-10-17", "Statement": a.get("statements", [])}, sort_keys=True),
            "id": "policy",
        }

    def _certificate(self, a: Mapping[str, Any]) -> dict[str, Any]:
        region = self.region
        return {
            "url": a.get("url"),
            "id": a.get("url"),
            "certificates": [
                {
                    "isCa": True,
                    "sha1Fingerprint": ROOT_CA_SHA1,
                    "subject": "CN=Amazon Root CA 1,O=Amazon,C=US",
                    "issuer": "CN=Amazon Root CA 1,O=Amazon,C=US",
                    "serialNumber": "1",
                    "signatureAlgorithm": "SHA256-RSA",
                    "publicKeyAlgorithm": "RSA",
                    "version": 3,
                    "notBefore": "2015-05-26T00:00:00Z",
                    "notAfter": "2038-01-17T00:00:00Z",
                    "certPem": "-----BEGIN CERTIFICATE-----\nROOT\n-----END CERTIFICATE-----",
                },
                {
                    "isCa": False,
                    "sha1Fingerprint": LEAF_SHA1,
                    "subject": f"CN=oidc.eks.{region}.amazonaws.com",
                    "issuer": "CN=Amazon RSA 2048 M02,O=Amazon,C=US",
                    "serialNumber": "2",
                    "signatureAlgorithm": "SHA256-RSA",
                    "publicKeyAlgorithm": "RSA",
                    "version": 3,
                    "notBefore": "2026-01-01T00:00:00Z",
                    "notAfter": "2027-01-01T00:00:00Z",
                    "certPem": "-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----",
                },
            ],
        }

    def addon_version(self, addon: str, kubernetes_version: str) -> str:
        """What pulumi-eks' VpcCniAddon resolves itself (getAddonVersion, mostRecent) when given only a cluster
        version: the newest known version. The program never relies on it: it passes the catalog's version."""
        from components.config.eksaddons import known_versions

        versions = known_versions(addon, kubernetes_version)
        if not versions:
            raise EngineError(
                f"aws:eks/getAddonVersion:getAddonVersion: no {addon} version for Kubernetes {kubernetes_version}"
            )
        return versions[0]

    # -- resources --------------------------------------------------------------------
    def _arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return ":".join(
            (
                "arn",
                self.partition,
                service,
                self.region if region else "",
                self.account_id if account else "",
                resource,
            )
        )

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        ident = args.resource_id or self._id(typ, name)
        state = dict(inputs)
        state.update(self._computed(typ, name, ident, inputs))
        return ident, state

    def _id(self, typ: str, name: str) -> str:
        prefixes = {
            "aws:ec2/vpc:Vpc": "vpc-",
            "aws:ec2/subnet:Subnet": "subnet-",
            "aws:ec2/internetGateway:InternetGateway": "igw-",
            "aws:ec2/natGateway:NatGateway": "nat-",
            "aws:ec2/eip:Eip": "eipalloc-",
            "aws:ec2/routeTable:RouteTable": "rtb-",
            "aws:ec2/securityGroup:SecurityGroup": "sg-",
            "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg-",
            "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
            "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
            "aws:ec2/flowLog:FlowLog": "fl-",
            "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc-",
            "aws:ec2/securityGroupRule:SecurityGroupRule": "sgrule-",
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr-",
            "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr-",
        }
        if typ in prefixes:
            return prefixes[typ] + h(typ, name)
        if typ.startswith(("aws:iam/role:", "aws:iam/policy:", "aws:eks/cluster:")):
            return name
        return f"{name}-{h(typ, name, n=8)}"

    def _computed(self, typ: str, name: str, ident: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """What the provider would compute for a new resource: its name when autonamed, ARNs, ids, endpoints."""
        out: dict[str, Any] = {"id": ident}
        limit = names.LIMITS.get(typ)
        if limit is not None and limit.autonamed and inputs.get(limit.prop) is None:
            # What the provider does: <logical name>-<7 random characters> (deterministic here).
            out[limit.prop] = f"{name}-{h('autoname', typ, name, n=names.RANDOM_CHARS)}"
        elif "name" not in inputs and typ.startswith("aws:"):
            out["name"] = ident
        if not self._core(typ, name, ident, inputs, out):
            self._edge(typ, name, ident, inputs, out)
        return out

    def _core(self, typ: str, name: str, ident: str, inputs: Mapping[str, Any], out: dict[str, Any]) -> bool:
        """Network, cluster, IAM, keys, logs, node groups: whether ``typ`` was one of them."""
        r = self.region
        if typ == "aws:ec2/eip:Eip":
            n = int(h(typ, name, n=4), 16)
            out.update(publicIp=f"198.51.100.{n % 250 + 1}", allocationId=ident)
        elif typ == "aws:eks/cluster:Cluster":
            oidc = h("oidc", name, n=32).upper()
            out.update(
                arn=self._arn("eks", f"cluster/{inputs.get('name', name)}"),
                endpoint=f"https://{h('ep', name, n=32).upper()}.gr7.{r}.eks.amazonaws.com",
                certificateAuthority={"data": base64.b64encode(f"fake CA of {name}".encode()).decode()},
                identities=[{"oidcs": [{"issuer": f"https://oidc.eks.{r}.amazonaws.com/id/{oidc}"}]}],
                vpcConfig={
                    **(inputs.get("vpcConfig") or {}),
                    "clusterSecurityGroupId": "sg-" + h("csg", name),
                    "vpcId": "vpc-" + h("vpc", name),
                },
                status="ACTIVE",
                platformVersion="eks.1",
                kubernetesNetworkConfig={**(inputs.get("kubernetesNetworkConfig") or {}), "ipFamily": "ipv4"},
            )
        elif typ == "aws:iam/role:Role":
            role_name = inputs.get("name") or out["name"]
            out.update(
                arn=self._arn("iam", f"role/{role_name}", region=False),
                name=role_name,
                uniqueId="AROA" + h("role", name, n=16).upper(),
            )
        elif typ == "aws:iam/policy:Policy":
            out.update(arn=self._arn("iam", f"policy/{inputs.get('name') or out['name']}", region=False))
        elif typ == "aws:iam/instanceProfile:InstanceProfile":
            out.update(arn=self._arn("iam", f"instance-profile/{inputs.get('name') or out['name']}", region=False))
        elif typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            url = str(inputs.get("url", "")).removeprefix("https://")
            out.update(arn=self._arn("iam", f"oidc-provider/{url}", region=False))
        elif typ == "aws:kms/key:Key":
            key_id = "{}-{}-{}-{}-{}".format(*(h("kms", name, str(i), n=n) for i, n in enumerate((8, 4, 4, 4, 12))))
            out.update(arn=self._arn("kms", f"key/{key_id}"), keyId=key_id)
        elif typ == "aws:cloudwatch/logGroup:LogGroup":
            out.update(arn=self._arn("logs", f"log-group:{inputs.get('name') or ident}"))
        elif typ == "aws:eks/nodeGroup:NodeGroup":
            out.update(
                arn=self._arn("eks", f"nodegroup/{inputs.get('clusterName')}/{name}/{h('ng', name, n=8)}"),
                resources=[
                    {
                        "autoscalingGroups": [{"name": f"eks-{name}-{h('asg', name, n=8)}"}],
                        "remoteAccessSecurityGroupId": "",
                    }
                ],
                status="ACTIVE",
            )
        elif typ == "aws:ec2/launchTemplate:LaunchTemplate":
            out.update(arn=self._arn("ec2", f"launch-template/{ident}"), latestVersion=1, defaultVersion=1)
        else:
            return False
        return True

    def _edge(self, typ: str, name: str, ident: str, inputs: Mapping[str, Any], out: dict[str, Any]) -> None:
        """Queues, groups, rules, load balancers, any other AWS type; Helm releases."""
        r = self.region
        if self._observing(typ, name, ident, inputs, out):
            return
        if typ == "aws:sqs/queue:Queue":
            qname = inputs.get("name") or ident
            out.update(arn=self._arn("sqs", qname), url=f"https://sqs.{r}.amazonaws.com/{self.account_id}/{qname}")
        elif typ == "aws:autoscaling/group:Group":
            out.update(
                arn=self._arn(
                    "autoscaling",
                    f"autoScalingGroup:{h('asg', name)}:autoScalingGroupName/{inputs.get('name') or ident}",
                )
            )
        elif typ == "aws:cloudwatch/eventRule:EventRule":
            out.update(arn=self._arn("events", f"rule/{inputs.get('name') or ident}"))
        elif typ == "aws:lb/loadBalancer:LoadBalancer":
            lb_name = inputs.get("name") or out.get("name") or ident
            app = inputs.get("loadBalancerType", "application") == "application"
            suffix = f"{'app' if app else 'net'}/{lb_name}/{h('lb', name, n=16)}"
            host = f"{'internal-' if inputs.get('internal') else ''}{lb_name}-{h('dns', name, n=10)}"
            # ALB: <name>-<id>.<region>.elb.amazonaws.com, NLB: <name>-<id>.elb.<region>.amazonaws.com; the
            # canonical hosted zone ids are eu-west-1's (ELB endpoints table), used for every region here.
            out.update(
                arn=self._arn("elasticloadbalancing", f"loadbalancer/{suffix}"),
                arnSuffix=suffix,
                dnsName=f"{host}.{r}.elb.amazonaws.com" if app else f"{host}.elb.{r}.amazonaws.com",
                zoneId="Z32O12XQLNTSW2" if app else "Z2IFOLAFXWLO4F",
            )
        elif typ == "aws:lb/targetGroup:TargetGroup":
            tg_name = inputs.get("name") or out.get("name") or ident
            suffix = f"targetgroup/{tg_name}/{h('tg', name, n=16)}"
            out.update(arn=self._arn("elasticloadbalancing", suffix), arnSuffix=suffix)
        elif typ.startswith("aws:"):
            service = typ.split(":")[1].split("/")[0]
            out.setdefault("arn", self._arn(service, f"{typ.split(':')[-1].lower()}/{ident}"))
        elif typ.startswith("kubernetes:helm.sh/v3:Release"):
            out.update(
                status={
                    "status": "deployed",
                    "name": inputs.get("name"),
                    "namespace": inputs.get("namespace"),
                    "version": inputs.get("version"),
                    "revision": 1,
                }
            )

    def _observing(self, typ: str, name: str, ident: str, inputs: Mapping[str, Any], out: dict[str, Any]) -> bool:
        """The alarm topic, alarms, dashboards and Prometheus: whether ``typ`` was one of them."""
        r = self.region
        if typ == "aws:sns/topic:Topic":  # ARN and id: arn:<p>:sns:<region>:<account>:<name>
            out.update(arn=self._arn("sns", inputs.get("name") or out.get("name") or ident))
        elif typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
            out.update(arn=self._arn("cloudwatch", f"alarm:{inputs.get('name') or ident}"))
        elif typ == "aws:cloudwatch/dashboard:Dashboard":
            out.update(dashboardArn=self._arn("cloudwatch", f"dashboard/{inputs.get('dashboardName')}", region=False))
        elif typ == "aws:amp/workspace:Workspace":
            ws = "ws-{}-{}-{}-{}-{}".format(*(h("ws", name, str(i), n=n) for i, n in enumerate((8, 4, 4, 4, 12))))
            out.update(
                arn=self._arn("aps", f"workspace/{ws}"),
                prometheusEndpoint=f"https://aps-workspaces.{r}.amazonaws.com/workspaces/{ws}/",
            )
        elif typ == "aws:amp/scraper:Scraper":
            sid = "s-{}-{}-{}-{}-{}".format(*(h("scr", name, str(i), n=n) for i, n in enumerate((8, 4, 4, 4, 12))))
            out.update(
                arn=self._arn("aps", f"scraper/{sid}"),
                roleArn=self._arn(
                    "iam",
                    f"role/aws-service-role/scraper.aps.amazonaws.com/AWSServiceRoleForAmazonPrometheusScraper_"
                    f"{h('scr-role', name, n=15)}",
                    region=False,
                ),
            )
        else:
            return False
        return True


@dataclass
class Record:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    dependencies: list[str]
    provider: str | None
    protect: bool
    ignore_changes: list[str]
    inputs: dict[str, Any]
    delete_before_replace: bool = False
    retain_on_delete: bool = False
    replace_on_changes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "custom": self.custom,
            "parent": self.parent,
            "dependencies": self.dependencies,
            "provider": self.provider,
            "protect": self.protect,
            "ignoreChanges": self.ignore_changes,
            "inputs": self.inputs,
            **({"replaceOnChanges": self.replace_on_changes} if self.replace_on_changes else {}),
            **({"retainOnDelete": True} if self.retain_on_delete else {}),
        }


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that keeps what the engine would see for each registration."""

    mocks: MockCloud

    def __init__(self, mocks: MockCloud) -> None:
        super().__init__(mocks)
        self.records: dict[str, Record] = {}
        self.stack_urn: str | None = None
        # Children the emulated remote components registered: child URN -> component URN.
        self.emulated: dict[str, str] = {}
        self._claimed: set[str] = set()
        self._lock = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The URN the engine gives (sdk/go/common/resource/urn.go NewURN): the parent's whole qualified
        type chain, except for children of the root stack, whose type carries no parent."""
        from pulumi.runtime.settings import get_project, get_stack

        if parent and parent != self.stack_urn:
            type_ = parent.split("::")[2] + "$" + type_
        return f"urn:pulumi:{get_stack()}::{get_project()}::{type_}::{name}"

    def _reserve(self, urn: str) -> None:
        """Claim a URN once (registrations arrive on worker threads, so check and claim atomically)."""
        with self._lock:
            if urn in self._claimed:
                # pkg/resource/deploy/step_generator.go: the engine stops the deployment here.
                raise EngineError(f"Duplicate resource URN '{urn}'; try giving it a unique name")
            self._claimed.add(urn)

    def RegisterResource(self, request: Any) -> Any:
        """What MockMonitor.RegisterResource does, without deserializing twice or spinning an event loop per
        registration to serialize plain values (a fifth of an offline plan's time)."""
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = self.make_urn(request.parent, request.type, request.name)
            return resource_pb2.RegisterResourceResponse(urn=self.stack_urn)
        urn = self.make_urn(request.parent, request.type, request.name)
        self._reserve(urn)
        pulumi_mocks._ensure_event_loop()  # deserializing resource references needs one
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        if request.custom and (problem := names.engine_problem(request.type, request.name, inputs)):
            raise EngineError(problem)
        ident, state = self.mocks.new_resource(
            pulumi_mocks.MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=inputs,
                provider=request.provider,
                resource_id=request.importId,
                custom=request.custom or False,
                transforms=pulumi_mocks._resolve_callbacks(request.transforms),
            )
        )
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, ident, state)
        recorded = plain(inputs)
        parent = request.parent or None
        self.records[urn] = Record(
            urn=urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=None if parent == self.stack_urn else parent,
            dependencies=sorted(set(request.dependencies)),
            provider=(
                request.provider.split("::" + request.provider.rsplit("::", 1)[-1])[0] if request.provider else None
            ),
            protect=bool(request.protect),
            ignore_changes=sorted(request.ignoreChanges),
            inputs=recorded,
            delete_before_replace=bool(request.deleteBeforeReplace),
            retain_on_delete=bool(request.retainOnDelete),
            replace_on_changes=sorted(request.replaceOnChanges),
        )
        if request.remote:
            self._construct(request, urn, recorded)
        obj = struct_pb2.Struct()
        obj.update({k: _wire(v) for k, v in state.items()})
        return resource_pb2.RegisterResourceResponse(urn=urn, id=ident, object=obj)

    def _construct(self, request: Any, urn: str, inputs: dict[str, Any]) -> None:
        """Run a remote component's constructor as the provider plugin would: checks, then children."""
        try:
            children = remote_components.construct(request.type, request.name, inputs, self.mocks.addon_version)
        except remote_components.ComponentError as err:
            raise EngineError(f"{request.type} resource '{request.name}': {err}") from None
        transforms = pulumi_mocks._resolve_callbacks(request.transforms)
        for child in children:
            child_inputs = _apply_transforms(transforms, child, request)
            child_urn = self.make_urn(urn, child.type, child.name)
            self._reserve(child_urn)
            if problem := names.engine_problem(child.type, child.name, child_inputs):
                raise EngineError(problem)
            ident, state = self.mocks.new_resource(
                pulumi_mocks.MockResourceArgs(
                    typ=child.type,
                    name=child.name,
                    inputs=child_inputs,
                    provider="",
                    resource_id="",
                    custom=True,
                )
            )
            self.resources[child_urn] = pulumi_mocks.MockMonitor.ResourceRegistration(child_urn, ident, state)
            self.records[child_urn] = Record(
                urn=child_urn,
                type=child.type,
                name=child.name,
                custom=True,
                parent=urn,
                dependencies=[],
                provider=None,
                protect=bool(request.protect),
                ignore_changes=[],
                inputs=plain(child_inputs),
            )
            self.emulated[child_urn] = urn


def _wire(value: Any) -> Any:
    """A plain state value in its RPC form (what rpc.serialize_properties makes of plain data)."""
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    if isinstance(value, Unknown):
        return rpc.UNKNOWN
    if isinstance(value, pulumi.Resource):
        raise TypeError("the mock cloud returns no resource references in state")
    return value


def _apply_transforms(transforms: list, child: remote_components.Child, request: Any) -> dict[str, Any]:
    """The component's transforms run on each child the engine registers for it (engine property names)."""
    from pulumi.resource import ResourceOptions, ResourceTransformArgs

    props = dict(child.inputs)
    for transform in transforms:
        result = transform(ResourceTransformArgs(True, child.type, child.name, props, ResourceOptions()))
        if result is not None:
            props = dict(result.props)
    return props


@dataclass
class Recording:
    project: str
    stack: str
    resources: list[Record]
    outputs: dict[str, Any]
    invokes: list[str] = field(default_factory=list)

    # -- queries used by tests --------------------------------------------------------
    def by_type(self, typ: str) -> list[Record]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str, name: str) -> Record:
        found = [r for r in self.resources if r.type == typ and r.name == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources of type {typ} named {name}")
        return found[0]

    def children(self, parent: Record) -> list[Record]:
        return [r for r in self.resources if r.parent == parent.urn]

    def as_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [r.as_json() for r in self.resources],
            "outputs": self.outputs,
        }


def _resolve(value: Any) -> Any:
    """Resolve an exported value (Outputs, nested) to plain JSON, secrets as "[secret]"."""

    async def go(v: Any) -> Any:
        if isinstance(v, pulumi.Output):
            if await v.is_secret():
                return SECRET
            if not await v.is_known():
                return UNKNOWN
            return await go(await v.future())
        if isinstance(v, dict):
            return {k: await go(v[k]) for k in sorted(v)}
        if isinstance(v, list | tuple):
            return [await go(x) for x in v]
        if isinstance(v, pulumi.Resource):
            return f"[resource {type(v).__name__}]"
        return plain(v)

    return go(value)


class _InlineExecutor(concurrent.futures.ThreadPoolExecutor):
    """Runs what the SDK hands to a worker thread (monitor RPCs) right away, on the loop's thread.

    The SDK sends every registration and invoke to a thread pool because the real monitor is a gRPC
    service; the mock monitor is an in-process object, and the thread hops (and the GIL contention
    they bring) cost more than the calls themselves.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:
            future.set_exception(err)
        return future


def _no_stack_trace() -> Any:
    from pulumi.runtime.proto import source_pb2

    return source_pb2.StackTrace()


# pulumi._types resolves a resource's (and each input type's) property types from its annotations with
# typing.get_type_hints on every registration and every input value (pulumi 3.272 _types.py
# _types_from_py_properties, _types_from_annotations): the answer depends on the class alone, so a run computes it
# once per class. The callers only read the dicts (runtime/rpc.py).
_TYPE_RESOLVERS = ("_types_from_py_properties", "_types_from_annotations")


def _cached_type_resolvers() -> dict[str, Callable[[type], Any]]:
    """Replace the SDK's per-class type resolvers with memoized ones; return the originals (to restore)."""
    from pulumi import _types

    originals = {name: getattr(_types, name) for name in _TYPE_RESOLVERS}
    for name, fn in originals.items():
        setattr(_types, name, functools.cache(fn))
    return originals


def _quiet_engine_errors(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """An engine error fails every future of the resource; run_program raises it once, the rest stay quiet."""
    if isinstance(context.get("exception"), EngineError):
        return
    loop.default_exception_handler(context)


def _reset_root() -> None:
    """No root stack resource: what a new run starts from (the SDK's own reset passes None; its annotation says a
    Resource)."""
    from pulumi.runtime import settings as pulumi_settings

    pulumi_settings.set_root_resource(None)  # type: ignore[arg-type]


def _mocked_runtime(
    config: Mapping[str, str], secret_keys: list[str], *, stack: str, project: str, region: str
) -> tuple[asyncio.AbstractEventLoop, MockCloud, RecordingMonitor]:
    """A fresh event loop and the SDK's runtime pointed at a new mock cloud and recording monitor."""
    from pulumi.runtime import settings as pulumi_settings

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.set_exception_handler(_quiet_engine_errors)
    loop.set_default_executor(_InlineExecutor(max_workers=1))
    cloud = MockCloud(region=region)
    monitor = RecordingMonitor(cloud)
    pulumi.runtime.set_all_config(dict(config), secret_keys)
    _reset_root()
    pulumi.runtime.set_mocks(cloud, project=project, stack=stack, preview=False, monitor=monitor)
    # set_mocks renews the RPC manager but not the pending output tasks: a run that failed (an
    # engine error) leaves tasks of its closed loop there, which the next run would wait on.
    pulumi_settings.SETTINGS.outputs = set()
    return loop, cloud, monitor


@contextlib.contextmanager
def _fast_registrations(constructed: list[pulumi.Resource]) -> Iterator[None]:
    """While the program runs: every registered resource appended to ``constructed`` (for the order), and the SDK's
    work that only the real engine needs skipped; everything restored afterwards."""
    import pulumi.resource as pulumi_resource
    from pulumi import _types
    from pulumi.runtime import resource as runtime_resource

    original = pulumi_resource.register_resource

    def recording_register(res: pulumi.Resource, ty: str, name: str, *args: Any, **kwargs: Any) -> Any:
        constructed.append(res)
        return original(res, ty, name, *args, **kwargs)

    pulumi_resource.register_resource = recording_register
    # Source positions of registrations only serve the real engine's diagnostics; the SDK computes them
    # with traceback.extract_stack on every registration (a sixth of an offline plan's time).
    original_trace = runtime_resource._get_stack_trace
    runtime_resource._get_stack_trace = _no_stack_trace
    resolvers = _cached_type_resolvers()
    # The run allocates many short-lived objects (Outputs, futures) and frees them at the end: the cyclic
    # collector would scan them over and over (about a tenth of a plan), so it waits until the run is over.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc_was_enabled:
            gc.enable()
        pulumi_resource.register_resource = original
        runtime_resource._get_stack_trace = original_trace
        for name, fn in resolvers.items():
            setattr(_types, name, fn)


def run_program(
    program: Callable[[], Any],
    *,
    config: Mapping[str, str],
    stack: str = "dev",
    project: str = "eks-platform",
    region: str | None = None,
    secret_keys: list[str] | None = None,
) -> Recording:
    """Run ``program`` under the mock cloud and return what it registered and exported.

    ``config`` is the flat Pulumi config (``"eks-platform:network": json string``). An
    exception raised by the program propagates after the runtime has settled.
    """
    from pulumi.runtime.stack import run_pulumi_func

    region = region or config.get("aws:region") or "eu-west-1"
    loop, cloud, monitor = _mocked_runtime(config, secret_keys or [], stack=stack, project=project, region=region)
    constructed: list[pulumi.Resource] = []
    try:
        with _fast_registrations(constructed):
            stack_resource = pulumi.runtime.get_root_resource()
            loop.run_until_complete(run_pulumi_func(program))
            outputs = loop.run_until_complete(_resolve(dict(getattr(stack_resource, "outputs", {}) or {})))
            urns = loop.run_until_complete(asyncio.gather(*(res.urn.future() for res in constructed)))
    finally:
        _reset_root()
        pulumi.runtime.set_all_config({}, [])
        loop.close()
        asyncio.set_event_loop(None)
    order: dict[str, int] = {}
    for index, urn in enumerate(urns):
        if urn is not None:
            order.setdefault(urn, index)

    def position(r: Record) -> tuple[int, int, str]:
        # A remote component's emulated children come right after the component itself.
        owner = monitor.emulated.get(r.urn)
        return (order.get(owner or r.urn, len(order)), 1 if owner else 0, r.urn)

    records = sorted(monitor.records.values(), key=position)
    return Recording(project=project, stack=stack, resources=records, outputs=outputs, invokes=cloud.invokes)
