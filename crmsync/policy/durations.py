"""Durations as admins write them: ``30m``, ``1h``, ``2d``, ``1h30m`` (business time) or ``calendar 48h``.

Business durations count working time of a :class:`~crmsync.policy.calendar.BusinessCalendar`; a business
day (``d``) is one full working day of that calendar (``09:00-17:00`` makes ``2d`` sixteen working hours).
Calendar durations count elapsed time (``calendar 2d`` is 48 hours, whatever the clock on the wall does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

_PART = re.compile(r"(\d{1,6})\s*([dhm])")
_WHOLE = re.compile(r"^(?:(calendar)\s+)?((?:\d{1,6}\s*[dhm]\s*)+)$")
PATTERN = r"^\s*(calendar\s+)?(\d{1,6}\s*[dhm]\s*)+$"
_UNIT_ORDER = {"d": 0, "h": 1, "m": 2}

DURATION_HELP = "write a number with a unit: 30m, 1h, 2d, 1h30m, or 'calendar 48h' for elapsed time"


@dataclass(frozen=True, slots=True)
class Duration:
    """A parsed policy duration.

    ``days`` and ``minutes`` are the written amounts; ``calendar`` says whether they are elapsed time (True)
    or business time (False). ``text`` is what the admin wrote, kept for messages and serialisation.
    """

    days: int = 0
    minutes: int = 0
    calendar: bool = False
    text: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse ``text``; raise ``ValueError`` with a message an admin can act on when it is not a duration."""
        cleaned = text.strip().lower()
        whole = _WHOLE.match(cleaned)
        if whole is None:
            raise ValueError(f"bad duration {text!r}: {DURATION_HELP}")
        days = minutes = 0
        last = -1
        for amount, unit in _PART.findall(whole.group(2)):
            if _UNIT_ORDER[unit] <= last:
                raise ValueError(f"bad duration {text!r}: give each unit once, largest first (1d4h, 1h30m)")
            last = _UNIT_ORDER[unit]
            value = int(amount)
            if unit == "d":
                days = value
            elif unit == "h":
                minutes += value * 60
            else:
                minutes += value
        return cls(days=days, minutes=minutes, calendar=whole.group(1) is not None, text=" ".join(text.split()))

    @property
    def is_zero(self) -> bool:
        """True for ``0m``, ``0d`` and the like."""
        return self.days == 0 and self.minutes == 0

    def to_timedelta(self, business_day: timedelta) -> timedelta:
        """The amount as a timedelta: days count ``business_day`` each for business time, 24 h for calendar time.

        For business durations the result is an amount of *working* time, to be added with a calendar.
        """
        day = timedelta(days=1) if self.calendar else business_day
        return self.days * day + timedelta(minutes=self.minutes)

    def __str__(self) -> str:
        if self.text:
            return self.text
        parts = (f"{self.days}d" if self.days else "") + (f"{self.minutes}m" if self.minutes or not self.days else "")
        return f"calendar {parts}" if self.calendar else parts

    @classmethod
    def _validate(cls, value: object) -> Duration:
        if isinstance(value, Duration):
            return value
        if not isinstance(value, str):
            shown = value if isinstance(value, int | float) and not isinstance(value, bool) else type(value).__name__
            raise PydanticCustomError(
                "duration", "bad duration {got}: {help}", {"got": str(shown), "help": DURATION_HELP}
            )
        try:
            return cls.parse(value)
        except ValueError as bad:
            raise PydanticCustomError("duration", "{message}", {"message": str(bad)}) from None

    @classmethod
    def __get_pydantic_core_schema__(cls, source: type[Any], handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate, serialization=core_schema.plain_serializer_function_ser_schema(str)
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": PATTERN,
            "description": "Business time (30m, 1h, 2d = two working days) or elapsed time ('calendar 48h').",
            "examples": ["1h", "2d", "calendar 48h"],
        }
