"""What the serving process needs to know, passed from `fapi-lab up` as one JSON env variable."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lab.config import LabConfig

SPEC_ENV = "FAPI_LAB_SERVING_SPEC"


@dataclass(frozen=True)
class ServingSpec:
    """The lab's public URLs (config), where gunicorn binds, and how many processes serve."""

    data_dir: str
    host: str
    as_port: int
    bank_port: int
    tpp_port: int
    bind: dict[str, int] = field(default_factory=dict)   # app name -> port gunicorn listens on
    bind_host: str = "127.0.0.1"
    workers: int = 2
    threads: int = 4
    proxy_secret: str | None = None
    store_url: str | None = None

    @classmethod
    def for_lab(cls, config: LabConfig, *, bind: dict[str, int], bind_host: str, workers: int,
                threads: int, proxy_secret: str | None, store_url: str | None) -> ServingSpec:
        return cls(str(config.data_dir), config.host, config.as_port, config.bank_port,
                   config.tpp_port, bind, bind_host, workers, threads, proxy_secret, store_url)

    def config(self) -> LabConfig:
        return LabConfig(data_dir=Path(self.data_dir), host=self.host, as_port=self.as_port,
                         bank_port=self.bank_port, tpp_port=self.tpp_port)

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServingSpec:
        raw = os.environ.get(SPEC_ENV)
        if not raw:
            raise SystemExit(f"${SPEC_ENV} is not set: this process is started by `fapi-lab up`")
        return cls(**json.loads(raw))
