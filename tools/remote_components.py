"""What the engine does with the remote (multi-language) components the program registers.

Under Pulumi mocks a remote component registers as one resource and its constructor never
runs, so a program that the real provider plugin would reject plans cleanly. This module
reproduces, for every pulumi-eks component the program uses, the constructor's own checks
(with the component's own messages) and the children it creates, read from the component's
source at the pinned version. The mock monitor (tools/mockcloud.py) calls ``construct`` for
every registration with ``remote=True``; an unknown remote type is itself an error, so a new
component cannot slip in unemulated.

Source: pulumi/pulumi-eks ``nodejs/eks/addons/cni-addon.ts`` and ``addons/addon.ts``
(commit 7bf0c1b, the code of the 4.4.0 Python SDK pinned in requirements.txt).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from components.config.datafiles import ROOT

UNKNOWN = "[unknown]"


class ComponentError(Exception):
    """A remote component's constructor rejected its arguments (the engine prints this message)."""


@dataclass(frozen=True)
class Child:
    type: str
    name: str
    inputs: dict[str, Any]


# ---------------------------------------------------------------------------------------
# eks:index:VpcCniAddon (cni-addon.ts)
# ---------------------------------------------------------------------------------------
def _bool(value: Any) -> str:
    return "true" if value else "false"


def vpc_cni_env(args: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """``computeEnv``: the env (and init env) the component always writes, before configurationValues.

    Only the options the component maps to variables are modelled; unset options get the
    component's defaults (note the defaults it forces, e.g. ``AWS_VPC_K8S_CNI_LOGLEVEL=DEBUG``
    and ``AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=false`` unless ``cniCustomNetworkCfg`` is set).
    """
    env: dict[str, str] = {}
    if args.get("nodePortSupport"):
        env["AWS_VPC_CNI_NODE_PORT_SUPPORT"] = _bool(args["nodePortSupport"])
    if args.get("customNetworkConfig"):
        env["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"] = _bool(args["customNetworkConfig"])
    env["WARM_ENI_TARGET"] = str(args.get("warmEniTarget") or 1)
    if args.get("warmIpTarget"):
        env["WARM_IP_TARGET"] = str(args["warmIpTarget"])
    if args.get("warmPrefixTarget"):
        env["WARM_PREFIX_TARGET"] = str(args["warmPrefixTarget"])
    if args.get("enablePrefixDelegation"):
        env["ENABLE_PREFIX_DELEGATION"] = _bool(args["enablePrefixDelegation"])
    env["AWS_VPC_K8S_CNI_LOGLEVEL"] = args.get("logLevel") or "DEBUG"
    env["AWS_VPC_K8S_CNI_LOG_FILE"] = args.get("logFile") or "/host/var/log/aws-routed-eni/ipamd.log"
    env["AWS_VPC_K8S_CNI_VETHPREFIX"] = args.get("vethPrefix") or "eni"
    env["AWS_VPC_ENI_MTU"] = str(args.get("eniMtu") or 9001)
    if args.get("eniConfigLabelDef"):
        env["ENI_CONFIG_LABEL_DEF"] = args["eniConfigLabelDef"]
    env["AWS_VPC_K8S_PLUGIN_LOG_LEVEL"] = args.get("pluginLogLevel") or "DEBUG"
    env["AWS_VPC_K8S_PLUGIN_LOG_FILE"] = args.get("pluginLogFile") or "/var/log/aws-routed-eni/plugin.log"
    env["ENABLE_POD_ENI"] = _bool(args.get("enablePodEni"))
    init_env = {"DISABLE_TCP_EARLY_DEMUX": _bool(args.get("disableTcpEarlyDemux"))}
    if args.get("cniConfigureRpfilter"):
        env["AWS_VPC_K8S_CNI_CONFIGURE_RPFILTER"] = _bool(args["cniConfigureRpfilter"])
    # A later push of the same name wins (Object.assign in reduce): customNetworkConfig=true alone
    # ends as "false" here — the 4.x bug the platform avoids by using configurationValues.env.
    env["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"] = _bool(args.get("cniCustomNetworkCfg"))
    env["AWS_VPC_K8S_CNI_EXTERNALSNAT"] = _bool(args.get("externalSnat") or args.get("cniExternalSnat"))
    return env, init_env


def merge_configuration_values(
    env: Mapping[str, str], init_env: Mapping[str, str], enable_network_policy: Any, values: Mapping[str, Any]
) -> dict[str, Any]:
    """``mergeConfigurationValues``: the user's configurationValues win over the computed env."""
    config = dict(values)
    if "enableNetworkPolicy" not in config and enable_network_policy is not None:
        config["enableNetworkPolicy"] = _bool(enable_network_policy)
    if isinstance(config.get("env"), dict):
        config["env"] = {**env, **config["env"]}
    else:
        config["env"] = dict(env)
    init = config.get("init")
    if isinstance(init, dict) and isinstance(init.get("env"), dict):
        config["init"] = {**init, "env": {**init_env, **init["env"]}}
    elif isinstance(init, dict):
        config["init"] = {"env": dict(init_env), **init}
    else:
        config["init"] = {"env": dict(init_env)}
    return config


def vpc_cni_addon(name: str, args: Mapping[str, Any], resolve_version: Callable[[str, str], str]) -> list[Child]:
    """The constructor of ``eks:index:VpcCniAddon``: its checks, then its one child ``aws.eks.Addon``."""
    if args.get("clusterName") is None:
        raise ComponentError("Missing required option 'clusterName'")
    if args.get("cniExternalSnat") and args.get("externalSnat"):
        raise ComponentError("Please specify one of `cniExternalSnat` or `externalSnat` in your VpcCniOptions")
    tags = args.get("tags")
    if tags is not None and tags != UNKNOWN and not isinstance(tags, dict):
        # The Python SDK's schema types tags as a list of maps; the component forwards the value to
        # aws.eks.Addon, whose tags are a map, and the AWS provider rejects anything else.
        raise ComponentError(
            f"tags: aws:eks/addon:Addon expects a map of strings, got {type(tags).__name__} {json.dumps(tags)}"
        )
    if args.get("addonVersion"):
        version = args["addonVersion"]
    elif args.get("clusterVersion"):
        version = resolve_version("vpc-cni", args["clusterVersion"])
    else:
        raise ComponentError(
            "You need to specify either `addonVersion` or `clusterVersion` to determine the version of the "
            "vpc-cni addon to use."
        )
    env, init_env = vpc_cni_env(args)
    values = args.get("configurationValues") or {}
    config = merge_configuration_values(env, init_env, args.get("enableNetworkPolicy"), values)
    inputs: dict[str, Any] = {
        "clusterName": args["clusterName"],
        "addonVersion": version,
        "addonName": "vpc-cni",
        "resolveConflictsOnCreate": args.get("resolveConflictsOnCreate") or "OVERWRITE",
        "resolveConflictsOnUpdate": args.get("resolveConflictsOnUpdate") or "OVERWRITE",
        "preserve": True,
        "configurationValues": json.dumps(config, sort_keys=True),
    }
    if args.get("serviceAccountRoleArn") is not None:
        inputs["serviceAccountRoleArn"] = args["serviceAccountRoleArn"]
    if tags is not None:
        inputs["tags"] = tags
    children = [Child("aws:eks/addon:Addon", name, inputs)]
    if args.get("securityContextPrivileged"):
        children.append(Child("kubernetes:apps/v1:DaemonSetPatch", name, {"metadata": {"name": "aws-node"}}))
    return children


# ---------------------------------------------------------------------------------------
# kubernetes:yaml/v2:ConfigGroup (pulumi-kubernetes provider/pkg/provider/yaml/v2/configgroup.go, yaml.go)
# ---------------------------------------------------------------------------------------
def config_group(name: str, args: Mapping[str, Any], resolve_version: Callable[[str, str], str]) -> list[Child]:
    """The constructor of ``kubernetes:yaml/v2:ConfigGroup``: argument types, then the manifests' objects.

    The provider fetches every absolute URL in ``files`` (``http.Get``) and reads anything else from
    disk, relative to the program. Offline, URLs cannot be fetched: they must be absolute https URLs
    pinned to a tag (the guardrail ``crd-sources-pinned`` says why), and their objects are not
    emulated; local files are parsed as the provider would and their objects become children named
    ``<resourcePrefix or name>:<[namespace/]name>``.
    """
    files = args.get("files")
    if (
        files is not None
        and files != UNKNOWN
        and (not isinstance(files, list) or not all(isinstance(f, str) for f in files))
    ):
        raise ComponentError(f"setting args: files: expected an array of strings, got {json.dumps(files)}")
    for key, want in (("yaml", str), ("resourcePrefix", str), ("skipAwait", bool), ("objs", list)):
        value = args.get(key)
        if value is not None and value != UNKNOWN and not isinstance(value, want):
            raise ComponentError(f"setting args: {key}: expected {want.__name__}, got {json.dumps(value)}")
    children: list[Child] = []
    prefix = args.get("resourcePrefix") or name
    for file in files or []:
        if "://" in file:
            if not file.startswith("https://"):
                raise ComponentError(f"fetching YAML over network: {file}: only https sources are allowed here")
            continue
        import yaml  # a local manifest: parse it as the provider would

        path = ROOT / file
        if not path.is_file():
            raise ComponentError(f"reading YAML file from disk: open {file}: no such file or directory")
        for obj in yaml.safe_load_all(path.read_text()):
            if not obj:
                continue
            if not obj.get("kind") or not obj.get("apiVersion"):
                raise ComponentError(f"Kubernetes resources require a kind and apiVersion: `{json.dumps(obj)}`")
            meta = obj.get("metadata") or {}
            if not meta.get("name"):
                raise ComponentError(f"Kubernetes resources require a .metadata.name: `{json.dumps(obj)}`")
            resource = f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]
            group, _, version = obj["apiVersion"].rpartition("/")
            children.append(Child(f"kubernetes:{group or 'core'}/{version}:{obj['kind']}", f"{prefix}:{resource}", obj))
    return children


# Every remote component type the program may register, and its emulation.
COMPONENTS: dict[str, Callable[[str, Mapping[str, Any], Callable[[str, str], str]], list[Child]]] = {
    "eks:index:VpcCniAddon": vpc_cni_addon,
    "kubernetes:yaml/v2:ConfigGroup": config_group,
}


def construct(
    type_: str, name: str, args: Mapping[str, Any], resolve_version: Callable[[str, str], str]
) -> list[Child]:
    """Run the emulated constructor of a remote component; ComponentError when the real one would throw."""
    emulate = COMPONENTS.get(type_)
    if emulate is None:
        raise ComponentError(
            f"the mock cloud does not emulate remote component {type_}: read its constructor at the pinned "
            "version and add its checks and children to tools/remote_components.py"
        )
    return emulate(name, args, resolve_version)
