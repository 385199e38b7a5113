"""Admin request bodies: validated with pydantic inside ``translate`` (after authentication, so
each refusal is a clean, audited 400 naming the field), and documented from the same models."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ztai.core.errors import BadRequest

M = TypeVar("M", bound=BaseModel)
Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=2000)]
Names = Annotated[frozenset[Name], Field(max_length=100)]
MAX_LIFETIME_S = 10 * 366 * 86400


class Body(BaseModel):
    """A request body: unknown fields and type coercion ("5" for 5) are refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Reply(BaseModel):
    """An answer: documented from this model, built from core values."""

    model_config = ConfigDict(frozen=True)


def parse_body(model: type[M], body: bytes) -> M:
    """``body`` as ``model``; ``BadRequest`` naming the first field that is wrong."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(part) for part in first["loc"])
        if not field:
            raise BadRequest(f"request body: {first['msg']}") from None
        raise BadRequest(f"'{field}': {first['msg']}", param=field) from None


def request_body(model: type[BaseModel], required: bool = True) -> dict[str, Any]:
    """``openapi_extra`` documenting ``model`` as the JSON request body. Its ``$defs`` are
    inlined: a schema embedded in the OpenAPI document cannot refer to its own ``$defs``."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})
    return {"requestBody": {"required": required, "content": {
        "application/json": {"schema": _inline(schema, defs)}}}}


class ErrorDetail(Reply):
    message: str
    type: str
    param: str | None
    code: str


class ErrorReply(Reply):
    """Every refusal, in the OpenAI error format."""

    error: ErrorDetail


def answers(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """``responses`` documenting ``model`` as the 200 answer, and the refusals."""
    return {200: {"model": model},
            "4XX": {"model": ErrorReply, "description": "400 invalid body or parameter, "
                    "401 no valid credential or disabled, 403 denied by policy"},
            "5XX": {"model": ErrorReply, "description": "503: could not decide or audit; "
                    "nothing was done (fail closed)"}}


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    target = node.get("$ref")
    if isinstance(target, str) and target.startswith("#/$defs/"):
        return _inline(defs[target.removeprefix("#/$defs/")], defs)
    return {key: _inline(value, defs) for key, value in node.items()}
