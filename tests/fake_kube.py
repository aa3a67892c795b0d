"""A fake Kubernetes API server (plain HTTP, in a thread) for the real kubernetes client.

It serves the few REST paths tools/teardown.py uses — list Services, Ingresses, TargetGroupBindings (across
namespaces) and Karpenter NodePools (cluster-scoped), delete one — and plays the controllers (``on_delete``), e.g.
the AWS Load Balancer Controller: deleting a Service or an
Ingress deletes, in the AWS mock (moto), the load balancer, target groups and security group tagged
with its stack (``service.k8s.aws/stack`` / ``ingress.k8s.aws/stack`` = ``<namespace>/<name>``), after
``controller_delay`` seconds, or never when the controller is "down".
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import kubernetes

ROUTES = {  # kind -> (list path, item path: namespace and name, or only a name for a cluster-scoped kind)
    "Service": ("/api/v1/services", r"/api/v1/namespaces/([^/]+)/services/([^/]+)"),
    "Ingress": (
        "/apis/networking.k8s.io/v1/ingresses",
        r"/apis/networking.k8s.io/v1/namespaces/([^/]+)/ingresses/([^/]+)",
    ),
    "TargetGroupBinding": (
        "/apis/elbv2.k8s.aws/v1beta1/targetgroupbindings",
        r"/apis/elbv2.k8s.aws/v1beta1/namespaces/([^/]+)/targetgroupbindings/([^/]+)",
    ),
    "NodePool": ("/apis/karpenter.sh/v1/nodepools", r"/apis/karpenter.sh/v1/nodepools/()([^/]+)"),
}
API_VERSIONS = {
    "Service": "v1",
    "Ingress": "networking.k8s.io/v1",
    "TargetGroupBinding": "elbv2.k8s.aws/v1beta1",
    "NodePool": "karpenter.sh/v1",
}
CRD_KINDS = ("TargetGroupBinding", "NodePool")  # 404 on list when their CRDs are not installed


class FakeKube:
    def __init__(
        self,
        on_delete: Callable[[str, str, str], None] | None = None,
        crd_installed: bool = True,
        controller_delay: float = 0.0,
    ) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.deleted: list[tuple[str, str, str]] = []
        self.on_delete = on_delete
        self.crd_installed = crd_installed
        self.controller_delay = controller_delay
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                for kind, (list_path, _) in ROUTES.items():
                    if path == list_path:
                        if kind in CRD_KINDS and not fake.crd_installed:
                            return self._send(
                                404,
                                {
                                    "kind": "Status",
                                    "apiVersion": "v1",
                                    "status": "Failure",
                                    "reason": "NotFound",
                                    "code": 404,
                                },
                            )
                        items = [o for (k, _, _), o in sorted(fake.objects.items()) if k == kind]
                        return self._send(
                            200,
                            {"kind": f"{kind}List", "apiVersion": API_VERSIONS[kind], "metadata": {}, "items": items},
                        )
                self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404})

            def do_DELETE(self) -> None:
                path = self.path.split("?")[0]
                for kind, (_, item) in ROUTES.items():
                    m = re.fullmatch(item, path)
                    if m:
                        key = (kind, m.group(1), m.group(2))
                        obj = fake.objects.pop(key, None)
                        if obj is None:
                            return self._send(
                                404,
                                {
                                    "kind": "Status",
                                    "apiVersion": "v1",
                                    "status": "Failure",
                                    "reason": "NotFound",
                                    "code": 404,
                                },
                            )
                        fake.deleted.append(key)
                        if fake.on_delete is not None:
                            timer = threading.Timer(fake.controller_delay, fake.on_delete, key)
                            timer.daemon = True
                            timer.start()
                        return self._send(200, obj)
                self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add(self, kind: str, namespace: str, name: str, **spec: Any) -> None:
        metadata = {
            "name": name,
            "uid": f"{kind}-{namespace}-{name}",
            **({"namespace": namespace} if namespace else {}),
        }
        self.objects[(kind, namespace, name)] = {
            "apiVersion": API_VERSIONS[kind],
            "kind": kind,
            "metadata": metadata,
            "spec": spec,
        }

    def client(self) -> kubernetes.client.ApiClient:
        configuration = kubernetes.client.Configuration()
        configuration.host = f"http://127.0.0.1:{self.server.server_address[1]}"
        return kubernetes.client.ApiClient(configuration)

    def __enter__(self) -> FakeKube:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
