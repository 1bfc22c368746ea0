"""Approved outbound reminder templates: loaded from data, validated, rendered per channel.

The templates live in ``agent/data/outreach/templates.yaml`` and are reviewed by compliance.
Loading checks what a reviewer cannot check by eye: every family has its stages, texts and
subjects; templates use only the allowed placeholders (read from the Jinja AST), and only
``web_extra`` may show an amount; every SMS fits one 160-character GSM-7 message with the
longest realistic values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final, Literal

import yaml
from jinja2 import Environment, StrictUndefined, Template, TemplateSyntaxError, UndefinedError, meta
from pydantic import BaseModel, ConfigDict, ValidationError

from agent.outreach.channels.base import CHANNEL_NAMES

DEFAULT_TEMPLATES_PATH = Path(__file__).parent.parent / "data" / "outreach" / "templates.yaml"

PLACEHOLDERS: Final = frozenset({"nama", "produk", "last4", "tanggal", "tautan"})
AMOUNT_PLACEHOLDER: Final = "jumlah"
REMINDER_STAGES: Final = ("before_due", "due_today", "after_due", "promise_reminder")
# Stages each family must have, and the ones it may add.
REQUIRED_STAGES: Final[Mapping[str, tuple[str, ...]]] = {
    "ramah": REMINDER_STAGES,
    "lugas": REMINDER_STAGES,
    "empati": REMINDER_STAGES,
    "informatif": ("dispute_update",),
}
OPTIONAL_STAGES: Final[Mapping[str, tuple[str, ...]]] = {"informatif": ("after_due",)}
LongChannel = Literal["web", "email", "whatsapp"]
LONG_CHANNELS: Final[tuple[LongChannel, ...]] = ("web", "email", "whatsapp")

SMS_LIMIT: Final = 160
# The longest values an SMS must hold: a 20-character name, the longest month, a chat link.
SMS_WORST_CASE: Final[Mapping[str, str]] = {
    "nama": "Bambang Sutrisno Adi",
    "produk": "pinjaman KTA",
    "last4": "4821",
    "tanggal": "30 September 2026",
    "tautan": "https://santun.example/c/Ab3dE9",
}
# GSM 03.38 basic alphabet: any other character makes the SMS UCS-2 (70 characters).
GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


class TemplateError(ValueError):
    """A template file is missing or invalid, or a rendering is impossible (English message)."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StageTexts(_Model):
    """One stage's texts: ``long`` for web, e-mail and WhatsApp, ``sms`` for SMS."""

    long: str
    sms: str


class Family(_Model):
    """A tone of voice: its stages, e-mail subjects and the optional web-only amount line."""

    description: str = ""
    web_extra: str | None = None
    subjects: dict[str, str]
    stages: dict[str, StageTexts]


class _BookFile(_Model):
    version: str
    closings: dict[LongChannel, str]
    human_offer: str = ""  # offered before the closing when the strategy says to offer a person
    families: dict[str, Family]


@dataclass(frozen=True)
class RenderedMessage:
    """A filled template, ready for the guardrail and then the channel.

    Attributes:
        template_id: ``family.stage.channel``, e.g. ``lugas.after_due.sms``.
        text: The message body.
        subject: The e-mail subject; None on other channels.
    """

    template_id: str
    text: str
    subject: str | None


class TemplateBook:
    """The validated templates of one file version; renders a message for a channel."""

    def __init__(self, data: _BookFile) -> None:
        """Check the families and compile every text.

        Raises:
            TemplateError: a family, stage, subject or closing is missing or unknown, a
                template uses a placeholder it may not, or an SMS is too long.
        """
        _check_structure(data)
        env = Environment(undefined=StrictUndefined, autoescape=False)
        self.version = data.version
        self.human_offer = " ".join(data.human_offer.split())
        self._families = data.families
        self._compiled = {
            template_id: _compile(env, template_id, source, allowed)
            for template_id, source, allowed in _sources(data)
        }
        for template_id, template in self._compiled.items():
            if template_id.endswith(".sms"):
                _check_sms(template_id, template)

    @property
    def families(self) -> Mapping[str, Family]:
        """The families by name (read-only)."""
        return MappingProxyType(self._families)

    def render(
        self,
        family: str,
        stage: str,
        channel: str,
        values: Mapping[str, str],
        offer_human: bool = False,
    ) -> RenderedMessage:
        """Fill one template for a channel (one of ``CHANNEL_NAMES``, checked at run time).

        SMS uses the ``sms`` text; web, e-mail and WhatsApp use ``long`` plus the channel's
        closing. The web inbox adds ``web_extra`` when ``values`` has ``jumlah``; e-mail gets
        the stage's subject. ``offer_human`` adds the offer of a person before the closing
        (not on SMS, which has no room for it).

        Raises:
            TemplateError: unknown family, stage or channel, or a placeholder has no value.
        """
        texts = self._family(family).stages.get(stage)
        if texts is None:
            known = ", ".join(self._families[family].stages)
            raise TemplateError(f"family {family!r} has no stage {stage!r}; it has: {known}")
        if channel not in CHANNEL_NAMES:
            raise TemplateError(f"unknown channel {channel!r}; known: {', '.join(CHANNEL_NAMES)}")
        if channel == "sms":
            parts = [self._fill(f"{family}.{stage}.sms", values)]
        else:
            parts = [self._fill(f"{family}.{stage}.long", values)]
            extra_id = f"{family}.web_extra"
            if channel == "web" and values.get(AMOUNT_PLACEHOLDER) and extra_id in self._compiled:
                parts.append(self._fill(extra_id, values))
            if offer_human:
                parts.append(self.human_offer)
            parts.append(self._fill(f"closings.{channel}", values))
        subject = self._fill(f"{family}.subjects.{stage}", values) if channel == "email" else None
        return RenderedMessage(f"{family}.{stage}.{channel}", "\n\n".join(parts), subject)

    def _family(self, name: str) -> Family:
        family = self._families.get(name)
        if family is None:
            known = ", ".join(self._families)
            raise TemplateError(f"unknown template family {name!r}; known: {known}")
        return family

    def _fill(self, template_id: str, values: Mapping[str, str]) -> str:
        try:
            text = self._compiled[template_id].render(**values)
        except UndefinedError as exc:
            raise TemplateError(f"{template_id}: no value for {exc.message}") from exc
        return " ".join(text.split())


def load_templates(path: Path | None = None) -> TemplateBook:
    """Read and validate a templates file (the packaged one by default).

    Raises:
        TemplateError: the file cannot be read or parsed, or it is invalid.
    """
    path = path or DEFAULT_TEMPLATES_PATH
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"cannot read templates {path}: {exc}") from exc
    try:
        data = _BookFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'file'}: {error['msg']}"
            for error in exc.errors()
        )
        raise TemplateError(f"{path.name}: {problems}") from exc
    try:
        return TemplateBook(data)
    except TemplateError as exc:
        raise TemplateError(f"{path.name}: {exc}") from exc


def _check_structure(data: _BookFile) -> None:
    missing_closings = [c for c in LONG_CHANNELS if c not in data.closings]
    if missing_closings:
        raise TemplateError(f"closings: missing channel(s) {', '.join(missing_closings)}")
    for name in REQUIRED_STAGES:
        if name not in data.families:
            raise TemplateError(f"missing family {name!r}")
    for name, family in data.families.items():
        if name not in REQUIRED_STAGES:
            raise TemplateError(f"unknown family {name!r}; known: {', '.join(REQUIRED_STAGES)}")
        required = REQUIRED_STAGES[name]
        allowed = (*required, *OPTIONAL_STAGES.get(name, ()))
        for stage in required:
            if stage not in family.stages:
                raise TemplateError(f"family {name!r} is missing stage {stage!r}")
        for stage in family.stages:
            if stage not in allowed:
                raise TemplateError(
                    f"family {name!r} has unknown stage {stage!r}; allowed: {', '.join(allowed)}"
                )
            if stage not in family.subjects:
                raise TemplateError(f"family {name!r} has no e-mail subject for stage {stage!r}")
        for stage in family.subjects:
            if stage not in family.stages:
                raise TemplateError(f"family {name!r} has a subject for unknown stage {stage!r}")


def _sources(data: _BookFile) -> Iterator[tuple[str, str, frozenset[str]]]:
    """Every text with its template id and the placeholders it may use."""
    for channel, text in data.closings.items():
        yield f"closings.{channel}", text, PLACEHOLDERS
    for name, family in data.families.items():
        if family.web_extra is not None:
            yield f"{name}.web_extra", family.web_extra, PLACEHOLDERS | {AMOUNT_PLACEHOLDER}
        for stage, subject in family.subjects.items():
            yield f"{name}.subjects.{stage}", subject, PLACEHOLDERS
        for stage, texts in family.stages.items():
            yield f"{name}.{stage}.long", texts.long, PLACEHOLDERS
            yield f"{name}.{stage}.sms", texts.sms, PLACEHOLDERS


def _compile(env: Environment, template_id: str, source: str, allowed: frozenset[str]) -> Template:
    try:
        used = meta.find_undeclared_variables(env.parse(source))
    except TemplateSyntaxError as exc:
        raise TemplateError(f"{template_id}: Jinja syntax error: {exc.message}") from exc
    if AMOUNT_PLACEHOLDER in used - allowed:
        raise TemplateError(
            f"{template_id} uses {{{{ {AMOUNT_PLACEHOLDER} }}}}, which only web_extra may use: "
            "e-mail, WhatsApp and SMS never show an amount"
        )
    unknown = sorted(used - allowed)
    if unknown:
        raise TemplateError(
            f"{template_id} uses unknown placeholder(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    return env.from_string(source)


def _check_sms(template_id: str, template: Template) -> None:
    text = " ".join(template.render(**SMS_WORST_CASE).split())
    if len(text) > SMS_LIMIT:
        raise TemplateError(
            f"{template_id} is {len(text)} characters with the longest values "
            f"(a 20-character name); the limit is {SMS_LIMIT}"
        )
    foreign = sorted(set(text) - GSM7_BASIC)
    if foreign:
        raise TemplateError(
            f"{template_id} uses characters outside the GSM-7 alphabet: {''.join(foreign)!r}"
        )
