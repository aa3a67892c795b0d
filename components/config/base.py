"""Building blocks of the config models: the strict model base, problems, and constrained types.

Every identifier is matched as a whole ASCII string with ``re.fullmatch`` and explicit
character classes: ``$`` does not match before a trailing newline and ``[0-9]`` is not
Unicode's ``\\d``. Each type carries its AWS or Kubernetes limit and the source of it; the
JSON Schema gets the same pattern/bounds so editors check what the program checks.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, GetCoreSchemaHandler, GetJsonSchemaHandler, WithJsonSchema
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

T = TypeVar("T")

# ARN partitions (pulumi-aws Region enum: commercial, China, GovCloud, ISO, EUSC).
PARTITION = r"aws(-cn|-us-gov|-iso|-iso-[bef]|-eusc)?"
ACCOUNT = r"[0-9]{12}"


class Model(BaseModel):
    """Frozen, camelCase keys only, unknown keys refused, no coercion (``"yes"`` is not ``true``)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        strict=True,
        validate_default=False,
        # Field docstrings become descriptions only where a schema is generated (schema.py documented()): reading
        # every model's source at import cost a fifth of an offline plan.
        regex_engine="python-re",
        use_attribute_docstrings=False,
    )


# ---------------------------------------------------------------------------------------
# problems
# ---------------------------------------------------------------------------------------
def show(value: Any, limit: int = 120) -> str:
    """A bad value as it appears in a message: JSON (control characters escaped), ASCII, bounded."""
    try:
        text = json.dumps(value, sort_keys=True, ensure_ascii=True)
    except (TypeError, ValueError):
        text = json.dumps(repr(value), ensure_ascii=True)
    if len(text) <= limit:
        return text
    return text[: limit - 4] + ('..."' if text.startswith('"') else "...")


def problem(message: str) -> PydanticCustomError:
    """A config problem at the location pydantic is validating (raise it from a validator)."""
    return PydanticCustomError("config", "{message}", {"message": message})


class Problems:
    """Problems a model validator finds, each at a location relative to the model (all raised at once)."""

    def __init__(self) -> None:
        self.items: list[tuple[tuple[str | int, ...], str]] = []

    def add(self, loc: str | int | Sequence[str | int], message: str) -> None:
        path = tuple(loc) if isinstance(loc, list | tuple) else ((loc,) if loc != "" else ())
        if (path, message) not in self.items:
            self.items.append((path, message))

    def check(self) -> None:
        if self.items:
            raise PydanticCustomError(
                "config_many", "{count} problems", {"count": len(self.items), "problems": tuple(self.items)}
            )


# ---------------------------------------------------------------------------------------
# constrained types
# ---------------------------------------------------------------------------------------
class Constraint:
    """``Annotated`` metadata: a check pydantic runs after the base type's own validation, and the JSON Schema
    editors get for it (the base type's own when ``schema`` is None).

    Written ``Annotated[int, integer(1, 65535)]``, so type checkers read the base type and pydantic the constraint;
    the check and the schema are pydantic's own ``AfterValidator`` and ``WithJsonSchema``.
    """

    __slots__ = ("check", "schema")

    def __init__(self, check: Callable[[Any], Any], schema: dict[str, Any] | None = None) -> None:
        self.check = check
        self.schema = schema

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return AfterValidator(self.check).__get_pydantic_core_schema__(source, handler)

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        if self.schema is None:
            return handler(schema)
        return WithJsonSchema(self.schema).__get_pydantic_json_schema__(schema, handler)


def text(pattern: str, what: str, *, max_len: int | None = None, min_len: int = 1) -> Constraint:
    """A string (``Annotated[str, text(...)]``) that must match ``pattern`` as a whole (ASCII), with a message naming
    what it should be."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not min_len <= len(value) <= (max_len or len(value)) or not compiled.fullmatch(value):
            raise problem(f"{show(value)} is not {what}")
        return value

    schema: dict[str, Any] = {"type": "string", "pattern": f"^(?:{pattern})$"}
    if max_len:
        schema["maxLength"] = max_len
    return Constraint(check, schema)


def integer(lo: int | None = None, hi: int | None = None) -> Constraint:
    """An integer (``Annotated[int, integer(lo, hi)]``) within bounds."""

    def check(value: int) -> int:
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            bounds = (
                f"between {lo} and {hi}"
                if lo is not None and hi is not None
                else f"at least {lo}"
                if lo is not None
                else f"at most {hi}"
            )
            raise problem(f"{show(value)} must be {bounds}")
        return value

    schema: dict[str, Any] = {"type": "integer"}
    if lo is not None:
        schema["minimum"] = lo
    if hi is not None:
        schema["maximum"] = hi
    return Constraint(check, schema)


def one_of(values: Sequence[Any], what: str = "") -> Constraint:
    """A value from a fixed set (used where the set is data, e.g. the SDK's enums)."""
    allowed = frozenset(values)

    def check(value: Any) -> Any:
        if value not in allowed:
            raise problem(f"{show(value)} is not {what or 'one of ' + ', '.join(map(str, values))}")
        return value

    return Constraint(check, {"enum": sorted(values)})


def items(
    check: Callable[[Any], str | None],
    what: str,
    *,
    schema: dict[str, Any] | None = None,
    min_items: int = 0,
    max_items: int | None = None,
    too_few: str | None = None,
) -> Constraint:
    """A list of strings (``Annotated[tuple[str, ...], items(...)]``) checked item by item *and* for repeats, every
    problem reported at once.

    ``check`` returns why an item is wrong (or None). Checking at the list level, rather than
    per item type, keeps the repeat check running when an item is also wrong.
    """

    def validate(values: tuple[str, ...]) -> tuple[str, ...]:
        found = Problems()
        for i, value in enumerate(values):
            message = check(value)
            if message:
                found.add(i, f"{show(value)} {message}")
        seen: set[str] = set()
        for value in values:
            if value in seen:
                found.add((), f"{show(list(values))} lists {show(value)} twice")
                break
            seen.add(value)
        if len(values) < min_items:
            found.add(
                (),
                too_few or f"needs at least {min_items} {what}s"
                if min_items > 1
                else too_few or f"needs at least one {what}",
            )
        if max_items is not None and len(values) > max_items:
            found.add((), f"has {len(values)} entries; at most {max_items}")
        found.check()
        return values

    array: dict[str, Any] = {"type": "array", "items": schema or {"type": "string"}, "uniqueItems": True}
    if min_items:
        array["minItems"] = min_items
    if max_items is not None:
        array["maxItems"] = max_items
    return Constraint(validate, array)


def matches(pattern: str, what: str) -> Callable[[str], str | None]:
    """An item check for ``items``: the whole string must match."""
    compiled = re.compile(pattern)
    return lambda value: None if compiled.fullmatch(value) else f"is not {what}"


def raising(check: Callable[[str], str | None]) -> Callable[[str], str]:
    """A validator for ``checked`` from a problem function (why the value is wrong, or None)."""

    def validate(value: str) -> str:
        if (message := check(value)) is not None:
            raise problem(f"{show(value)} {message}")
        return value

    return validate


def checked(check: Callable[[Any], Any], schema: dict[str, Any] | None = None) -> Constraint:
    """An extra check on a base type (``Annotated[str, checked(check)]``; ``check`` raises ``problem``) and,
    optionally, its own schema."""
    return Constraint(check, schema)


# -- networks --------------------------------------------------------------------------
_DOTTED_PREFIX = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}/(3[0-2]|[12]?[0-9])"


def cidr_problem(value: str) -> str | None:
    """Why ``value`` is not an IPv4 network in prefix notation (AWS refuses mask notation such as /255.255.0.0)."""
    if not re.fullmatch(_DOTTED_PREFIX, value):
        return "is not a valid IPv4 network in prefix notation (10.0.0.0/16)"
    net = ipaddress.IPv4Network(value, strict=False)
    if str(net) != value:
        return f"has host bits set (did you mean {show(str(net))}?)"
    return None


CIDR_SCHEMA = {"type": "string", "pattern": f"^{_DOTTED_PREFIX}$"}
Cidr = Annotated[str, checked(raising(cidr_problem), CIDR_SCHEMA)]


# Ranges that are not public unicast addresses (IANA IPv4 Special-Purpose Address Registry): what a client on the
# internet can never come from. Documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) are left
# alone: they are unicast, and stack files use them as placeholders.
NOT_PUBLIC = {
    "0.0.0.0/8": "'this network'",
    "10.0.0.0/8": "private (RFC 1918)",
    "100.64.0.0/10": "shared address space (RFC 6598, carrier-grade NAT)",
    "127.0.0.0/8": "loopback",
    "169.254.0.0/16": "link-local",
    "172.16.0.0/12": "private (RFC 1918)",
    "192.0.0.0/24": "IETF protocol assignments",
    "192.168.0.0/16": "private (RFC 1918)",
    "198.18.0.0/15": "benchmarking (RFC 2544)",
    "224.0.0.0/4": "multicast",
    "240.0.0.0/4": "reserved",
}


def public_unicast_problem(value: str) -> str | None:
    """Why ``value`` (a valid network) is not a range of public unicast addresses, or None: it lies inside a special
    range. A wider range that merely contains one (0.0.0.0/1) is left to the world check and the guardrails."""
    net = ipaddress.IPv4Network(value)
    for special, what in NOT_PUBLIC.items():
        if net.subnet_of(ipaddress.IPv4Network(special)):
            return f"is not a public range: it is inside {special}, {what}"
    return None


def cidrs(world: str | None = None, *, min_items: int = 0, public: bool = False) -> Constraint:
    """A list of networks; with ``world`` (what it would open), 0.0.0.0/0 is refused; with ``public``, ranges that
    are not public unicast addresses are refused (the AWS API would refuse them)."""

    def check(value: str) -> str | None:
        message = cidr_problem(value)
        if message is None and world and ipaddress.IPv4Network(value).prefixlen == 0:
            return f"opens {world} to the whole internet"
        if message is None and public:
            return public_unicast_problem(value)
        return message

    return items(check, "network", schema=CIDR_SCHEMA, min_items=min_items)


# EC2 security group rule descriptions: up to 255 characters of a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*
Description = Annotated[
    str,
    text(
        r"[A-Za-z0-9. _:/()#,@\[\]+=&;{}!$*-]{1,255}",
        "a valid rule description (1-255 letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*)",
        max_len=255,
    ),
]


# -- AWS identifiers (IAM/EC2/KMS/Route 53 API references) -------------------------------
# IAM names: [\w+=,.@-] ASCII, role name <= 64, path <= 512 (IAM User Guide, "IAM quotas").
_IAM_NAME = r"[A-Za-z0-9+=,.@_-]"
ROLE_ARN = rf"arn:{PARTITION}:iam::{ACCOUNT}:role/({_IAM_NAME}+/)*{_IAM_NAME}{{1,64}}"
PRINCIPAL_ARN = rf"arn:{PARTITION}:iam::{ACCOUNT}:(role|user)/({_IAM_NAME}+/)*{_IAM_NAME}{{1,64}}"
POLICY_ARN = rf"arn:{PARTITION}:iam::({ACCOUNT}|aws):policy/({_IAM_NAME}+/)*{_IAM_NAME}{{1,128}}"
KMS_KEY_ARN = (
    rf"arn:{PARTITION}:kms:[a-z]{{2}}(-[a-z]+)+-[0-9]:{ACCOUNT}:key/"
    r"([0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
)
ROLE_ARN_WHAT = "an IAM role ARN (arn:aws:iam::111122223333:role/name)"
KMS_KEY_ARN_WHAT = "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<uuid>)"
RoleArn = Annotated[str, text(ROLE_ARN, ROLE_ARN_WHAT, max_len=2048)]
KmsKeyArn = Annotated[str, text(KMS_KEY_ARN, KMS_KEY_ARN_WHAT)]
SUBNET_ID = r"subnet-([0-9a-f]{8}|[0-9a-f]{17})"
SUBNET_ID_WHAT = "a subnet id (subnet-0123456789abcdef0)"
VpcId = Annotated[str, text(r"vpc-([0-9a-f]{8}|[0-9a-f]{17})", "a VPC id (vpc-0123456789abcdef0)")]
AmiId = Annotated[str, text(r"ami-([0-9a-f]{8}|[0-9a-f]{17})", "an AMI id (ami-0123456789abcdef0)")]
Thumbprint = Annotated[str, text(r"[0-9a-fA-F]{40}", "a SHA-1 thumbprint (40 hex characters)")]
AddonVersion = Annotated[
    str, text(r"v[0-9]+\.[0-9]+\.[0-9]+-eksbuild\.[0-9]+", "an EKS add-on version (v1.19.0-eksbuild.1)")
]
# Tag keys 1-128, values 0-256, letters, digits, spaces and _.:/=+-@ (AWS tagging best practices; the
# EC2/ASG/EKS APIs accept this set). "aws:" is reserved for AWS.
_TAG_CHARS = r"[A-Za-z0-9 _.:/=+@-]"
TagKey = Annotated[
    str,
    text(
        rf"(?![aA][wW][sS]:){_TAG_CHARS}{{1,128}}",
        "a valid AWS tag key (1-128 letters, digits, spaces, _.:/=+-@; no aws: prefix)",
        max_len=128,
    ),
]
TagValue = Annotated[
    str, text(rf"{_TAG_CHARS}{{0,256}}", "a valid AWS tag value (0-256 characters)", max_len=256, min_len=0)
]
# Stack-wide tags go on every taggable resource, so a key that the platform, EKS or a controller reads or writes
# would override or shadow theirs everywhere: karpenter.sh/discovery on every subnet and security group makes
# Karpenter launch into public subnets with every group attached; kubernetes.io/role/elb on every subnet moves the
# load balancer controller's internet-facing load balancers; Karpenter refuses EC2NodeClass tags in kubernetes.io/
# cluster/, karpenter.sh/ and eks: (pkg/apis/v1 RestrictedTagPatterns, v1.14.1); Name is set per resource.
RESERVED_TAG_PREFIXES = {
    "eks-platform/": "the platform's own tags (project, stack, tier, node group, workload identity)",
    "kubernetes.io/": "read by the load balancer controller and Karpenter (cluster ownership, subnet roles)",
    "k8s.io/": "read by cluster-autoscaler (group discovery, node templates)",
    "karpenter.sh/": "read and written by Karpenter (discovery, ownership)",
    "karpenter.k8s.aws/": "written by Karpenter",
    "eks:": "written by EKS and Karpenter",
}
RESERVED_TAG_KEYS = {"Name": "set per resource by the platform", "managed-by": "the platform's own tag"}


def _stack_tag_key(key: str) -> str:
    reason = RESERVED_TAG_KEYS.get(key) or next(
        (f"{prefix} keys are {why}" for prefix, why in RESERVED_TAG_PREFIXES.items() if key.startswith(prefix)), None
    )
    if reason:
        raise problem(f"is reserved: {reason}; a stack-wide tag would set it on every resource")
    return key


# The same rule for editors (JSON Schema patterns are ECMA regexes: only "." needs escaping here)
_RESERVED = "|".join([*(p.replace(".", r"\.") for p in RESERVED_TAG_PREFIXES), *(f"{k}$" for k in RESERVED_TAG_KEYS)])
StackTagKey = Annotated[
    TagKey,
    checked(
        _stack_tag_key,
        {"type": "string", "maxLength": 128, "pattern": f"^(?!{_RESERVED})(?![aA][wW][sS]:){_TAG_CHARS}{{1,128}}$"},
    ),
]
_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"  # an RFC 1123 DNS label
DNS_LABEL = _LABEL
# A DNS name: labels, the last one starting with a letter; "*." allowed first where wildcards are.
DOMAIN = rf"(\*\.)?({_LABEL}\.)+[a-z][-a-z0-9]{{0,61}}[a-z0-9]"
# Route 53 hosted zone ids (Route 53 API reference, HostedZone.Id: up to 32 characters).
HOSTED_ZONE_ID = r"Z[A-Z0-9]{1,31}"
HOSTED_ZONE_ID_WHAT = "a Route 53 hosted zone id (Z0123456789ABC)"

# -- Kubernetes names (k8s.io/apimachinery/pkg/util/validation) --------------------------
_QUALIFIED = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
LABEL_KEY = rf"({_LABEL}(\.{_LABEL})*/)?{_QUALIFIED}"
LABEL_VALUE = rf"({_QUALIFIED})?"


def label_key_problem(key: str) -> str | None:
    """Why ``key`` is not a qualified Kubernetes name (label or taint key), or None."""
    prefix, _, name = key.rpartition("/")
    if not re.fullmatch(_QUALIFIED, name):
        return (
            "is not a valid Kubernetes label key (name part: 1-63 letters, digits, -, _, . starting and ending "
            "alphanumeric)"
        )
    if "/" in key and (len(prefix) > 253 or not re.fullmatch(rf"{_LABEL}(\.{_LABEL})*", prefix)):
        return "has a prefix that is not a DNS subdomain (lowercase, at most 253 characters)"
    return None


LABEL_KEY_SCHEMA = {"type": "string", "pattern": f"^{LABEL_KEY}$", "maxLength": 317}
LabelKey = Annotated[str, checked(raising(label_key_problem), LABEL_KEY_SCHEMA)]
LabelValue = Annotated[
    str,
    text(
        LABEL_VALUE,
        "a valid label value (0-63 letters, digits, -, _, . starting and ending alphanumeric)",
        max_len=63,
        min_len=0,
    ),
]

# CloudWatch Logs retentionInDays values (0, "never expire", refused on purpose).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
# S3 bucket names (S3 user guide, "Bucket naming rules"): 3-63 lowercase letters, digits, ., -.
BucketName = Annotated[str, text(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "an S3 bucket name", max_len=63)]
LogPrefix = Annotated[
    str,
    text(
        r"[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*", "an S3 key prefix without leading or trailing /", max_len=512
    ),
]
# CloudWatch Logs CreateLogGroup logGroupName: 1-512 of [.-_/#A-Za-z0-9].
SessionLogGroup = Annotated[str, text(r"[.\-_/#A-Za-z0-9]{1,512}", "a CloudWatch Logs group name", max_len=512)]
RetentionDays = Annotated[
    int, one_of(LOG_RETENTION_DAYS, f"a CloudWatch Logs retention ({', '.join(map(str, LOG_RETENTION_DAYS))})")
]
