"""The models this gateway serves and where each one is routed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ztai.core.errors import UnknownModel
from ztai.upstream.interface import Upstream


@dataclass(frozen=True, slots=True)
class ModelRoute:
    name: str
    upstream: Upstream
    upstream_model: str
    tier: str


class Catalog:
    def __init__(self, routes: Iterable[ModelRoute]) -> None:
        self._routes = {route.name: route for route in routes}

    def route(self, name: str) -> ModelRoute:
        try:
            return self._routes[name]
        except KeyError:
            raise UnknownModel(f"model {name!r} does not exist", param="model") from None

    def __iter__(self) -> Iterator[ModelRoute]:
        return iter(self._routes.values())
