"""Message contracts of the topics (DESIGN.md): validated when read, one error type when bad."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

RAW_PAGE_SCHEMA = "lznews.raw-page/1"
ARTICLE_SCHEMA = "lznews.article/1"
DEAD_LETTER_SCHEMA = "lznews.dead-letter/1"
ALERT_SCHEMA = "lznews.alert/1"
HEAD_BYTES = 4096  # of an original too large to copy into its dead letter


class MessageError(ValueError):
    """A message that cannot be read as its topic's schema. Services dead-letter it."""

    def __init__(self, schema: str, reason: str) -> None:
        super().__init__(f"invalid {schema} message: {reason}")
        self.schema = schema
        self.reason = reason


def utcnow() -> datetime:
    return datetime.now(UTC)


def rfc3339(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds").replace("+00:00", "Z")


def article_id(canonical_url: str) -> str:
    return hashlib.sha1(canonical_url.encode("utf-8")).hexdigest()


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=False).encode("utf-8")


M = TypeVar("M", bound=_Message)


def _parse(model: type[M], schema: str, data: bytes | str | dict[str, Any]) -> M:
    try:
        obj = json.loads(data) if isinstance(data, bytes | str) else data
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MessageError(schema, f"not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise MessageError(schema, f"expected a JSON object, got {type(obj).__name__}")
    if obj.get("schema", schema) != schema:
        raise MessageError(schema, f"schema is {obj.get('schema')!r}")
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "message"
        raise MessageError(
            schema, f"{where}: {first['msg']} ({exc.error_count()} error(s))"
        ) from exc


class RawHeaders(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    content_type: str | None = Field(None, alias="content-type")
    last_modified: str | None = Field(None, alias="last-modified")
    etag: str | None = None


class RawPage(_Message):
    """lznews.raw-page/1: one fetched page, body undecoded."""

    schema_: Literal["lznews.raw-page/1"] = Field(RAW_PAGE_SCHEMA, alias="schema")
    url: str = Field(min_length=1)
    final_url: str = Field(min_length=1)
    site: str = Field(min_length=1)
    fetched_at: datetime
    http_status: int = Field(ge=100, le=599)
    headers: RawHeaders = Field(default_factory=RawHeaders)
    body_b64: str
    crawl_id: str

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("fetched_at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("fetched_at needs a time zone")
        return v

    @field_validator("body_b64")
    @classmethod
    def _b64(cls, v: str) -> str:
        try:
            base64.b64decode(v, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"body_b64 is not base64: {exc}") from exc
        return v

    @property
    def body(self) -> bytes:
        return base64.b64decode(self.body_b64)

    @classmethod
    def build(
        cls,
        *,
        url: str,
        final_url: str,
        site: str,
        http_status: int,
        body: bytes,
        headers: dict[str, str | None],
        crawl_id: str,
        fetched_at: datetime | None = None,
    ) -> RawPage:
        return cls(
            url=url,
            final_url=final_url,
            site=site,
            http_status=http_status,
            fetched_at=fetched_at or utcnow(),
            crawl_id=crawl_id,
            headers=RawHeaders.model_validate(headers),
            body_b64=base64.b64encode(body).decode("ascii"),
        )

    def to_bytes(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode("utf-8")

    @classmethod
    def parse(cls, data: bytes | str | dict[str, Any]) -> RawPage:
        return _parse(cls, RAW_PAGE_SCHEMA, data)


class Amount(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    value_cny: int


class Entities(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organizations: list[str] = Field(default_factory=list)
    places: list[str] = Field(default_factory=list)
    people: list[str] = Field(default_factory=list)
    policy_documents: list[str] = Field(default_factory=list)
    amounts: list[Amount] = Field(default_factory=list)


class Article(_Message):
    """lznews.article/1: a clean, tagged article."""

    schema_: Literal["lznews.article/1"] = Field(ARTICLE_SCHEMA, alias="schema")
    id: str = Field(pattern=r"^[0-9a-f]{40}$")
    url: str
    canonical_url: str
    site: str
    title: str = Field(min_length=1)
    published_at: datetime | None = None
    source: str | None = None
    authors: list[str] = Field(default_factory=list)
    editors: list[str] = Field(default_factory=list)
    doc_number: str | None = None
    body: str = Field(min_length=1)
    original_script: Literal["hans", "hant"]
    fetched_at: datetime
    normalized_at: datetime
    pipeline_version: str
    entities: Entities = Field(default_factory=Entities)
    quality: dict[str, int] = Field(default_factory=dict)
    content_hash: str
    simhash: str

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("fetched_at", "normalized_at", "published_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("timestamps need a time zone")
        return v

    def to_bytes(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode("utf-8")

    def to_document(self) -> dict[str, Any]:
        """The search document: the message without its schema marker."""
        doc = self.model_dump(mode="json")
        doc.pop("schema_", None)
        return doc

    @classmethod
    def parse(cls, data: bytes | str | dict[str, Any]) -> Article:
        return _parse(cls, ARTICLE_SCHEMA, data)


class DeadLetter(_Message):
    """A message a stage could not process, with why and where it came from."""

    schema_: Literal["lznews.dead-letter/1"] = Field(DEAD_LETTER_SCHEMA, alias="schema")
    stage: str
    error_type: str
    error: str
    original_topic: str | None = None
    original_partition: int | None = None
    original_offset: int | None = None
    original_value_b64: str | None = None
    # Always set when there was an original: with topic/partition/offset they are the reference
    # that stands in for a value too large to copy (original_value_b64 then absent, the first
    # bytes in original_head_b64; the original stays on its topic until retention).
    original_size: int | None = None
    original_sha256: str | None = None
    original_head_b64: str | None = None
    failed_at: datetime = Field(default_factory=utcnow)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @classmethod
    def build(
        cls,
        *,
        stage: str,
        error: BaseException | str,
        value: bytes | None = None,
        topic: str | None = None,
        partition: int | None = None,
        offset: int | None = None,
        error_type: str | None = None,
        max_inline_bytes: int | None = None,
    ) -> DeadLetter:
        """`max_inline_bytes`: a larger value is referenced, not copied, so that the letter
        always fits under the producer's size limit."""
        inline = value is not None and (max_inline_bytes is None or len(value) <= max_inline_bytes)
        return cls(
            stage=stage,
            error_type=error_type
            or (type(error).__name__ if isinstance(error, BaseException) else "Error"),
            error=str(error)[:4000],
            original_topic=topic,
            original_partition=partition,
            original_offset=offset,
            original_value_b64=base64.b64encode(value).decode("ascii") if inline else None,
            original_size=None if value is None else len(value),
            original_sha256=None if value is None else hashlib.sha256(value).hexdigest(),
            original_head_b64=None if value is None or inline
            else base64.b64encode(value[:HEAD_BYTES]).decode("ascii"),
        )

    @property
    def referenced(self) -> bool:
        """True when the original was too large to copy: fetch it by topic/partition/offset."""
        return self.original_value_b64 is None and self.original_size is not None

    @property
    def original_value(self) -> bytes | None:
        return (
            None if self.original_value_b64 is None else base64.b64decode(self.original_value_b64)
        )

    def to_bytes(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode("utf-8")

    @classmethod
    def parse(cls, data: bytes | str | dict[str, Any]) -> DeadLetter:
        return _parse(cls, DEAD_LETTER_SCHEMA, data)


class Alert(_Message):
    """lznews.alert/1: one match of one watch, the value on the `alerts` topic (key: watch id)."""

    schema_: Literal["lznews.alert/1"] = Field(ALERT_SCHEMA, alias="schema")
    alert_id: str  # the watch's ledger id for this article: receivers can deduplicate on it
    watch: str
    watch_id: str
    article_id: str
    title: str
    url: str
    site: str
    published_at: datetime | None = None
    doc_number: str | None = None
    highlights: dict[str, list[str]] = Field(default_factory=dict)
    matched_at: datetime
    content_key: str
    on_change: bool = False

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_bytes(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode("utf-8")

    @classmethod
    def parse(cls, data: bytes | str | dict[str, Any]) -> Alert:
        return _parse(cls, ALERT_SCHEMA, data)
