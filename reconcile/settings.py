"""Configuration: ``config/reconcile.toml`` plus environment overrides.

Lookup order for the file: ``--config``, then ``RECONCILE_CONFIG``, then
``./config/reconcile.toml``, then the built-in defaults (the values below, which the
shipped ``config/reconcile.toml`` documents; a test keeps the two equal). The database
URL comes from ``--database-url``, then ``RECONCILE_DATABASE_URL``, then the file.

Loading has no side effects at import time. Every problem (an unknown key, a value of
the wrong type, a time zone that does not exist) raises :class:`ConfigError` naming the
file and the key, which the CLI prints as one sentence with exit code 2.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reconcile.errors import UsageError

DEFAULT_DATABASE_URL = "sqlite:///reconcile.db"
DEFAULT_CONFIG_PATH = Path("config") / "reconcile.toml"
ENV_CONFIG = "RECONCILE_CONFIG"
ENV_DATABASE_URL = "RECONCILE_DATABASE_URL"


class ConfigError(UsageError):
    """The configuration file or a value in it cannot be used."""


class PayerKind(enum.StrEnum):
    """What kind of payer a profile describes; drives refund and recoupment rules."""

    MEDICARE = "medicare"
    MEDICAID = "medicaid"
    COMMERCIAL = "commercial"


class PlbReferenceLayout(enum.StrEnum):
    """How a payer writes PLB03-2 references (835 reference §1.6)."""

    GENERIC = "generic"  # find a known CLP01 or CLP07 anywhere in the reference
    MEDICARE = "medicare"  # 1-19 FCN / claim control number, 20-39 patient control no.
    MEDICARE_DME = "medicare_dme"  # 1-14 FCN, 15-29 adjustment claim control number


class AmountFormat(enum.StrEnum):
    """How a tabular source writes amounts."""

    PLAIN = "plain"  # -1234.56
    ACCOUNTING = "accounting"  # $1,234.56 and (12.00) for negatives


SOURCE_NAMES = ("claims", "deposits", "patient_payments", "ledger")

#: The canonical columns of each tabular source (DESIGN.md), in file order.
CANONICAL_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "claims": (
        "claim_id", "payer_id", "payer_name", "patient_account", "provider_npi",
        "service_date", "billed_amount", "expected_amount", "expected_patient_amount",
        "submitted_on",
    ),
    "deposits": (
        "deposit_id", "deposit_date", "amount", "trace_number", "payer_name", "account",
    ),
    "patient_payments": (
        "payment_id", "received_on", "patient_account", "claim_id", "amount", "method",
        "reference",
    ),
    "ledger": (
        "entry_id", "posted_on", "claim_id", "patient_account", "payer_id", "kind",
        "amount", "reference",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class DatabaseSettings:
    """Where the data lives."""

    url: str = DEFAULT_DATABASE_URL


@dataclass(frozen=True)
class PracticeSettings:
    """The practice: its calendar, and its state for patient-refund rules."""

    time_zone: str = "America/New_York"
    state: str = ""


@dataclass(frozen=True)
class ReportSettings:
    """Where workbooks go and what they may show."""

    folder: str = "reports"
    file_name: str = "reconcile-{run_id}-{first}-{last}.xlsx"
    show_patient_names: bool = False


@dataclass(frozen=True)
class MatchingSettings:
    """Tolerances and waiting periods for matching and classification."""

    tolerance_cents: int = 100
    tolerance_percent: Decimal = Decimal(0)
    deposit_business_days: int = 3
    unpaid_after_days: int = 45
    correction_wait_days: int = 30
    posting_grace_days: int = 5
    expected_reduction_carcs: tuple[str, ...] = ("253",)


@dataclass(frozen=True)
class RefundSettings:
    """Legal due dates of refunds."""

    default_due_days: int = 60
    medicare_medicaid_due_days: int = 60
    max_suspension_days: int = 180
    patient_due_days_by_state: Mapping[str, int] = field(
        default_factory=lambda: {"TX": 30}
    )


@dataclass(frozen=True)
class StateRule:
    """A state's limits on commercial recoupments (835 reference §2)."""

    lookback_months: int | None = None
    notice_within_days: int | None = None
    no_offset_before_days: int | None = None


def _default_state_rules() -> dict[str, StateRule]:
    return {
        "SC": StateRule(lookback_months=18),
        "DE": StateRule(lookback_months=24),
        "AR": StateRule(lookback_months=18),
        "NY": StateRule(lookback_months=24),
        "CA": StateRule(lookback_months=12),
        "TX": StateRule(notice_within_days=180, no_offset_before_days=45),
    }


@dataclass(frozen=True)
class RecoupmentSettings:
    """Response windows and state look-back limits for recoupments."""

    response_days: int = 30
    medicare_redetermination_days: int = 30
    medicare_offset_day: int = 41
    state_rules: Mapping[str, StateRule] = field(default_factory=_default_state_rules)


@dataclass(frozen=True)
class PayerProfile:
    """How the practice's payer code is recognised in 835s and deposits.

    Each optional number overrides the global value of the same name.
    """

    id: str
    names: tuple[str, ...] = ()
    ref_2u: tuple[str, ...] = ()
    trn03: tuple[str, ...] = ()
    deposit_names: tuple[str, ...] = ()
    kind: PayerKind = PayerKind.COMMERCIAL
    state: str = ""
    exempt_from_state_rules: bool = False
    plb_reference_layout: PlbReferenceLayout = PlbReferenceLayout.GENERIC
    tolerance_cents: int | None = None
    tolerance_percent: Decimal | None = None
    response_days: int | None = None
    unpaid_after_days: int | None = None
    correction_wait_days: int | None = None


@dataclass(frozen=True)
class ScheduleSettings:
    """When the nightly job runs and how it catches up."""

    time: str = "06:00"
    time_zone: str = ""  # empty: the practice's time zone
    max_catch_up_days: int = 14
    retry_attempts: int = 2
    retry_delay_minutes: int = 15
    misfire_grace_minutes: int = 720


@dataclass(frozen=True)
class SourceSettings:
    """How one tabular source (claims, deposits, …) names and formats its columns."""

    columns: Mapping[str, str] = field(default_factory=dict)
    date_format: str = "%Y-%m-%d"
    amount_format: AmountFormat = AmountFormat.PLAIN

    def header_for(self, column: str) -> str:
        """Return the header the file uses for a canonical column."""
        return self.columns.get(column, column)


@dataclass(frozen=True)
class LoggingSettings:
    """Log lines on stderr."""

    format: str = "text"
    level: str = "info"


@dataclass(frozen=True)
class Settings:
    """All configuration, resolved and validated."""

    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    practice: PracticeSettings = field(default_factory=PracticeSettings)
    reports: ReportSettings = field(default_factory=ReportSettings)
    matching: MatchingSettings = field(default_factory=MatchingSettings)
    refunds: RefundSettings = field(default_factory=RefundSettings)
    recoupments: RecoupmentSettings = field(default_factory=RecoupmentSettings)
    payers: tuple[PayerProfile, ...] = ()
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    sources: Mapping[str, SourceSettings] = field(
        default_factory=lambda: {name: SourceSettings() for name in SOURCE_NAMES}
    )
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    path: str | None = None  # the file these came from; None for built-in defaults

    def payer(self, payer_id: str) -> PayerProfile | None:
        """Return the profile for a practice payer code, if there is one."""
        for profile in self.payers:
            if profile.id == payer_id:
                return profile
        return None

    @property
    def schedule_time_zone(self) -> str:
        """The schedule's IANA time zone (the practice's unless set)."""
        return self.schedule.time_zone or self.practice.time_zone

    def config_hash(self) -> str:
        """Hash everything that can change a run's result (not URLs, folders, logs)."""
        relevant = {
            "practice": asdict(self.practice),
            "matching": asdict(self.matching),
            "refunds": asdict(self.refunds),
            "recoupments": asdict(self.recoupments),
            "payers": [asdict(p) for p in self.payers],
        }
        text = json.dumps(relevant, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- loading


class _Reader:
    """Checks one TOML table against what it may hold, naming the key in every error."""

    def __init__(self, origin: str, where: str, table: Mapping[str, Any]) -> None:
        self.origin, self.where, self.table = origin, where, table
        self.used: set[str] = set()

    def _fail(self, key: str, why: str) -> ConfigError:
        place = f"[{self.where}] {key}" if self.where else key
        return ConfigError(f"{self.origin}: {place} {why}")

    def has(self, key: str) -> bool:
        return key in self.table

    def raw(self, key: str) -> Any:
        self.used.add(key)
        return self.table[key]

    def text(self, key: str, default: str, *, pattern: str | None = None) -> str:
        if key not in self.table:
            return default
        value = self.raw(key)
        if not isinstance(value, str):
            raise self._fail(key, f"must be text, got {value!r}")
        if pattern and not re.fullmatch(pattern, value):
            raise self._fail(key, f"has an invalid value {value!r}")
        return value

    def integer(self, key: str, default: int | None, *, minimum: int = 0) -> int | None:
        if key not in self.table:
            return default
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key, f"must be a whole number, got {value!r}")
        if value < minimum:
            raise self._fail(key, f"must be at least {minimum}, got {value}")
        return value

    def required_int(self, key: str, default: int, *, minimum: int = 0) -> int:
        value = self.integer(key, default, minimum=minimum)
        assert value is not None
        return value

    def percent(self, key: str, default: Decimal | None) -> Decimal | None:
        if key not in self.table:
            return default
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self._fail(key, f"must be a number, got {value!r}")
        try:
            # TOML floats are binary; str() gives their shortest exact spelling.
            number = Decimal(str(value))
        except InvalidOperation:
            raise self._fail(key, f"must be a number, got {value!r}") from None
        if not number.is_finite() or not Decimal(0) <= number <= Decimal(100):
            raise self._fail(key, f"must be between 0 and 100, got {value!r}")
        if number != number.quantize(Decimal("0.01")):
            raise self._fail(key, f"may have at most 2 decimals, got {value!r}")
        return number

    def boolean(self, key: str, default: bool) -> bool:
        if key not in self.table:
            return default
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self._fail(key, f"must be true or false, got {value!r}")
        return value

    def strings(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        if key not in self.table:
            return default
        value = self.raw(key)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(key, f"must be a list of text values, got {value!r}")
        return tuple(value)

    def choice(self, key: str, default: enum.StrEnum) -> Any:
        kind = type(default)
        value = self.text(key, default.value)
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            raise self._fail(key, f"must be one of {allowed}, got {value!r}") from None

    def table_at(self, key: str) -> Mapping[str, Any]:
        if key not in self.table:
            return {}
        value = self.raw(key)
        if not isinstance(value, dict):
            raise self._fail(key, "must be a table")
        return value

    def sub(self, key: str) -> _Reader:
        where = f"{self.where}.{key}" if self.where else key
        return _Reader(self.origin, where, self.table_at(key))

    def finish(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            raise self._fail(unknown[0], "is not a known setting")


def _time_zone(reader: _Reader, key: str, default: str) -> str:
    name = reader.text(key, default)
    if name == "" and default == "":
        return name
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise reader._fail(key, f"is not an IANA time zone: {name!r}") from None
    return name


_STATE = r"([A-Z]{2})?"


def _state_key(reader: _Reader, key: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", key):
        raise reader._fail(key, "must be a two-letter US state code")
    return key


def _parse(origin: str, data: Mapping[str, Any]) -> Settings:
    top = _Reader(origin, "", data)
    base = Settings()

    r = top.sub("database")
    database = DatabaseSettings(url=r.text("url", base.database.url))
    r.finish()

    r = top.sub("practice")
    practice = PracticeSettings(
        time_zone=_time_zone(r, "time_zone", base.practice.time_zone),
        state=r.text("state", base.practice.state, pattern=_STATE),
    )
    r.finish()

    r = top.sub("reports")
    reports = ReportSettings(
        folder=r.text("folder", base.reports.folder),
        file_name=r.text("file_name", base.reports.file_name),
        show_patient_names=r.boolean("show_patient_names", False),
    )
    _check_file_name(r, reports.file_name)
    r.finish()

    r = top.sub("matching")
    m = base.matching
    matching = MatchingSettings(
        tolerance_cents=r.required_int("tolerance_cents", m.tolerance_cents),
        tolerance_percent=r.percent("tolerance_percent", m.tolerance_percent)
        or Decimal(0),
        deposit_business_days=r.required_int(
            "deposit_business_days", m.deposit_business_days
        ),
        unpaid_after_days=r.required_int(
            "unpaid_after_days", m.unpaid_after_days, minimum=1
        ),
        correction_wait_days=r.required_int(
            "correction_wait_days", m.correction_wait_days
        ),
        posting_grace_days=r.required_int("posting_grace_days", m.posting_grace_days),
        expected_reduction_carcs=r.strings(
            "expected_reduction_carcs", m.expected_reduction_carcs
        ),
    )
    r.finish()

    r = top.sub("refunds")
    f = base.refunds
    by_state_reader = r.sub("patient_due_days_by_state")
    by_state = (
        {
            _state_key(by_state_reader, k): by_state_reader.required_int(
                k, 0, minimum=1
            )
            for k in by_state_reader.table
        }
        if r.has("patient_due_days_by_state")
        else dict(f.patient_due_days_by_state)
    )
    by_state_reader.finish()
    refunds = RefundSettings(
        default_due_days=r.required_int(
            "default_due_days", f.default_due_days, minimum=1
        ),
        medicare_medicaid_due_days=r.required_int(
            "medicare_medicaid_due_days", f.medicare_medicaid_due_days, minimum=1
        ),
        max_suspension_days=r.required_int(
            "max_suspension_days", f.max_suspension_days
        ),
        patient_due_days_by_state=by_state,
    )
    r.finish()

    r = top.sub("recoupments")
    c = base.recoupments
    rules_reader = r.sub("state_rules")
    if r.has("state_rules"):
        state_rules: dict[str, StateRule] = {}
        for state in rules_reader.table:
            _state_key(rules_reader, state)
            one = rules_reader.sub(state)
            rule = StateRule(
                lookback_months=one.integer("lookback_months", None, minimum=1),
                notice_within_days=one.integer("notice_within_days", None, minimum=1),
                no_offset_before_days=one.integer(
                    "no_offset_before_days", None, minimum=1
                ),
            )
            one.finish()
            state_rules[state] = rule
    else:
        state_rules = dict(c.state_rules)
    rules_reader.used.update(rules_reader.table)
    recoupments = RecoupmentSettings(
        response_days=r.required_int("response_days", c.response_days, minimum=1),
        medicare_redetermination_days=r.required_int(
            "medicare_redetermination_days", c.medicare_redetermination_days, minimum=1
        ),
        medicare_offset_day=r.required_int(
            "medicare_offset_day", c.medicare_offset_day, minimum=1
        ),
        state_rules=state_rules,
    )
    r.finish()

    payers = _parse_payers(top)

    r = top.sub("schedule")
    s = base.schedule
    schedule = ScheduleSettings(
        time=r.text("time", s.time, pattern=r"([01]\d|2[0-3]):[0-5]\d"),
        time_zone=_time_zone(r, "time_zone", s.time_zone),
        max_catch_up_days=r.required_int(
            "max_catch_up_days", s.max_catch_up_days, minimum=1
        ),
        retry_attempts=r.required_int("retry_attempts", s.retry_attempts),
        retry_delay_minutes=r.required_int(
            "retry_delay_minutes", s.retry_delay_minutes, minimum=1
        ),
        misfire_grace_minutes=r.required_int(
            "misfire_grace_minutes", s.misfire_grace_minutes, minimum=1
        ),
    )
    r.finish()

    sources = _parse_sources(top)

    r = top.sub("logging")
    logging = LoggingSettings(
        format=r.text("format", "text", pattern="text|json"),
        level=r.text("level", "info", pattern="debug|info|warning|error"),
    )
    r.finish()

    top.finish()
    return Settings(
        database=database,
        practice=practice,
        reports=reports,
        matching=matching,
        refunds=refunds,
        recoupments=recoupments,
        payers=payers,
        schedule=schedule,
        sources=sources,
        logging=logging,
        path=origin,
    )


def _check_file_name(reader: _Reader, pattern: str) -> None:
    try:
        pattern.format(run_id=1, first=dt.date(2024, 1, 1), last=dt.date(2024, 1, 2))
    except (KeyError, IndexError, ValueError):
        raise reader._fail(
            "file_name", "may only use {run_id}, {first} and {last}"
        ) from None
    if "/" in pattern or not pattern.endswith(".xlsx"):
        raise reader._fail("file_name", "must be a file name ending in .xlsx")


def _parse_payers(top: _Reader) -> tuple[PayerProfile, ...]:
    if not top.has("payers"):
        return ()
    raw = top.raw("payers")
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        raise top._fail("payers", "must be an array of tables ([[payers]])")
    profiles: list[PayerProfile] = []
    for index, table in enumerate(raw, start=1):
        r = _Reader(top.origin, f"payers #{index}", table)
        payer_id = r.text("id", "")
        if not payer_id:
            raise r._fail("id", "is required: the practice's own payer code")
        tolerance = r.percent("tolerance_percent", None)
        profile = PayerProfile(
            id=payer_id,
            names=r.strings("names", ()),
            ref_2u=r.strings("ref_2u", ()),
            trn03=r.strings("trn03", ()),
            deposit_names=r.strings("deposit_names", ()),
            kind=r.choice("kind", PayerKind.COMMERCIAL),
            state=r.text("state", "", pattern=_STATE),
            exempt_from_state_rules=r.boolean("exempt_from_state_rules", False),
            plb_reference_layout=r.choice(
                "plb_reference_layout", PlbReferenceLayout.GENERIC
            ),
            tolerance_cents=r.integer("tolerance_cents", None),
            tolerance_percent=tolerance,
            response_days=r.integer("response_days", None, minimum=1),
            unpaid_after_days=r.integer("unpaid_after_days", None, minimum=1),
            correction_wait_days=r.integer("correction_wait_days", None),
        )
        r.finish()
        if any(p.id == payer_id for p in profiles):
            raise r._fail("id", f"repeats payer {payer_id!r}")
        profiles.append(profile)
    return tuple(profiles)


def _parse_sources(top: _Reader) -> Mapping[str, SourceSettings]:
    result = {name: SourceSettings() for name in SOURCE_NAMES}
    r = top.sub("sources")
    for name in list(r.table):
        if name not in SOURCE_NAMES:
            raise r._fail(
                name, f"is not a source; use one of {', '.join(SOURCE_NAMES)}"
            )
        one = r.sub(name)
        columns_reader = one.sub("columns")
        columns: dict[str, str] = {}
        for column in columns_reader.table:
            if column not in CANONICAL_COLUMNS[name]:
                allowed = ", ".join(CANONICAL_COLUMNS[name])
                raise columns_reader._fail(
                    column, f"is not a {name} column; use one of {allowed}"
                )
            columns[column] = columns_reader.text(column, column)
        columns_reader.finish()
        date_format = one.text("date_format", "%Y-%m-%d")
        if date_format != "excel":
            try:
                sample = dt.date(2024, 12, 31).strftime(date_format)
                # Only the date part is used: no time zone is involved.
                dt.datetime.strptime(sample, date_format)  # noqa: DTZ007
            except ValueError:
                raise one._fail(
                    "date_format", f"is not a usable date format: {date_format!r}"
                ) from None
        result[name] = SourceSettings(
            columns=columns,
            date_format=date_format,
            amount_format=one.choice("amount_format", AmountFormat.PLAIN),
        )
        one.finish()
    r.finish()
    return result


def load_settings(
    *,
    config_path: str | os.PathLike[str] | None = None,
    database_url: str | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Load and validate the configuration (see the module docstring for the order).

    Raises:
        ConfigError: the named file is missing or unreadable, is not valid TOML, or
            holds an unknown key or a bad value.
    """
    env = os.environ if environ is None else environ
    chosen: Path | None = None
    explicit = config_path or env.get(ENV_CONFIG)
    if explicit:
        chosen = Path(explicit)
        if not chosen.is_file():
            raise ConfigError(f"the configuration file {chosen} does not exist")
    else:
        candidate = (cwd or Path.cwd()) / DEFAULT_CONFIG_PATH
        if candidate.is_file():
            chosen = candidate

    if chosen is None:
        settings = Settings()
    else:
        try:
            data = tomllib.loads(chosen.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read {chosen}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{chosen} is not UTF-8 text") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{chosen} is not valid TOML: {exc}") from None
        settings = _parse(str(chosen), data)

    url = database_url or env.get(ENV_DATABASE_URL)
    if url:
        settings = replace(settings, database=DatabaseSettings(url=url))
    return settings


def settings_as_toml_keys(settings: Settings) -> dict[str, Any]:
    """Return the settings as nested plain data, keyed like the TOML file."""

    def plain(value: Any) -> Any:
        if isinstance(value, enum.Enum):
            return value.value
        if isinstance(value, Decimal):
            return value
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items()}
        if hasattr(value, "__dataclass_fields__"):
            return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
        return value

    data = plain(settings)
    data.pop("path", None)
    return dict(data)
