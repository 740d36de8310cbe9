"""One query's measured baseline: what the engines compare and the app stores as JSON."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class QueryBaseline:
    query_id: str
    query_type: str
    table_name: str
    schema: str
    query_label: str
    sql: str
    params: list = dataclasses.field(default_factory=list)
    source: str = "generated"
    status: str = "measured"  # measured / skipped / timeout / failed
    skip_reason: str = ""
    baseline_time_ms: float | None = None  # mean of the server-side samples
    min_time_ms: float | None = None
    max_time_ms: float | None = None
    stddev_ms: float | None = None
    median_ms: float | None = None
    p95_ms: float | None = None
    samples: list = dataclasses.field(default_factory=list)  # server "Execution Time", ms
    client_samples: list = dataclasses.field(default_factory=list)  # round trip, ms
    planning_samples: list = dataclasses.field(default_factory=list)
    # Per sample, the index into ``params`` of the key it ran with (empty for a query without
    # keys): a comparison pairs each key with itself (comparison._paired_log_ratios).
    sample_keys: list = dataclasses.field(default_factory=list)
    plan_shape: dict = dataclasses.field(default_factory=dict)
    buffers: dict = dataclasses.field(default_factory=dict)  # mean blocks per run
    runs: int = 0
    warmup_runs: int = 0
    statement_timeout_ms: int | None = None
    production: bool = False
    measured_at: str = ""

    @property
    def skipped(self) -> bool:
        return self.status != "measured"

    @property
    def key(self) -> str:
        return self.query_id

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "QueryBaseline":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
