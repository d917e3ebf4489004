"""The researchers' entry points: :func:`analyze` a DataFrame or files, :func:`load` a store.

Both return an :class:`Analysis`, a thin view over a DuckDB store whose tables come back as pandas
DataFrames. The store is the single source of truth, so an Analysis can be reopened later with
``vocmine.load(path)`` and a rerun over the same data reuses every embedding and annotation.
"""

from __future__ import annotations

import dataclasses
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from vocmine.config import VocmineConfig, load_config
from vocmine.store import Store

#: Canonical column names a DataFrame may carry; such a frame needs no mapping.
CANONICAL_TEXT_COLUMNS = ("title", "text", "comment", "positive", "negative")


class Analysis:
    """The results of an analysis: DataFrames over the store, plus NPS, report and export helpers.

    >>> import vocmine
    >>> frame = pd.DataFrame({"text": ["El pedido llegó tarde y nadie contestó", "Staff were lovely"],
    ...                       "score": [2, 10], "branch": ["Centro", "Norte"]})
    >>> result = vocmine.analyze(frame, steps=["language", "sentences", "nps_status"])
    >>> sorted(result.responses["nps_class"])
    ['detractor', 'promoter']
    >>> float(result.nps()["estimate"].iloc[0])
    0.0
    """

    def __init__(self, store_path: Path | str, config: VocmineConfig | None = None) -> None:
        self.store_path = Path(store_path)
        self.config = (config or VocmineConfig()).model_copy(update={"store": self.store_path})

    def __repr__(self) -> str:
        return f"Analysis(store={str(self.store_path)!r})"

    def _frames(self) -> dict[str, pd.DataFrame]:
        from vocmine.pipelines.exports import table_frames

        with Store(self.store_path, read_only=True) as store:
            return table_frames(store, self.config)

    def _frame(self, name: str) -> pd.DataFrame:
        from vocmine.pipelines import exports

        builders = {
            "responses": exports.responses_frame,
            "sentences": exports.sentences_frame,
            "themes": exports.themes_frame,
            "drivers": exports.drivers_frame,
        }
        with Store(self.store_path, read_only=True) as store:
            if name == "kpis":
                return exports.kpis_frame(store, self.config)
            return builders[name](store)

    @property
    def responses(self) -> pd.DataFrame:
        """One row per response, with its answers' text, score, stars, NPS class, branch, seller, date."""
        return self._frame("responses")

    @property
    def sentences(self) -> pd.DataFrame:
        """One row per sentence with every annotation (sentiment + probabilities, emotions, component,
        touchpoints, theme)."""
        return self._frame("sentences")

    @property
    def themes(self) -> pd.DataFrame:
        return self._frame("themes")

    @property
    def drivers(self) -> pd.DataFrame:
        return self._frame("drivers")

    @property
    def kpis(self) -> pd.DataFrame:
        return self._frame("kpis")

    def nps(self, by: str | Sequence[str] | None = None) -> pd.DataFrame:
        """NPS with n and a 95% interval, overall or per column(s) of :attr:`responses` (e.g. "branch",
        ["branch", "source"]), computed by the same function as the ``kpis`` table."""
        from vocmine.pipelines.nps import nps_estimate

        responses = self.responses
        columns = [by] if isinstance(by, str) else list(by or [])
        unknown = [c for c in columns if c not in responses.columns]
        if unknown:
            raise KeyError(f"responses have no column(s) {unknown}; choose from {list(responses.columns)}")
        groups = responses.groupby(columns, dropna=False) if columns else [((), responses)]
        rows = []
        for key, group in groups:
            estimate = nps_estimate(group["nps_class"].tolist(), confidence=self.config.nps.confidence)
            values = key if isinstance(key, tuple) else (key,)
            rows.append(
                {
                    **dict(zip(columns, values, strict=True)),
                    "n": estimate.n,
                    "promoters": estimate.promoters,
                    "passives": estimate.passives,
                    "detractors": estimate.detractors,
                    "estimate": estimate.nps,
                    "low": estimate.low,
                    "high": estimate.high,
                    "small_n": estimate.n < self.config.nps.min_n,
                }
            )
        return pd.DataFrame(rows)

    def report(self, path: Path | str) -> Path:
        """Write the HTML report (and exports) into folder ``path``; returns the report's path."""
        from vocmine.pipelines.report import build_report

        with Store(self.store_path) as store:
            return Path(build_report(store, self.config, Path(path)).html_path)

    def export(self, directory: Path | str, formats: Sequence[str] = ("csv", "parquet", "xlsx")) -> list[Path]:
        """Write responses, sentences, themes, drivers and kpis as CSV/Parquet/XLSX (formulas neutralised)."""
        from vocmine.pipelines.exports import export_tables

        with Store(self.store_path, read_only=True) as store:
            return export_tables(store, self.config, Path(directory), formats=list(formats))


def _frame_profile(frame: pd.DataFrame, source: str) -> Any:
    """A source profile for a DataFrame whose columns carry vocmine's canonical names."""
    from vocmine.pipelines.profiles import SourceProfile

    columns = set(frame.columns)
    text_columns = {c: c for c in CANONICAL_TEXT_COLUMNS if c in columns}
    if not text_columns:
        raise KeyError(
            f"the DataFrame has no text column; name it one of {CANONICAL_TEXT_COLUMNS} or pass text_columns="
        )
    optional = {
        "id_column": "response_id",
        "score_column": "score",
        "stars_column": "stars",
        "date_column": "date",
        "branch_column": "branch",
        "seller_column": "seller",
        "language_column": "language",
        "touchpoint_column": "touchpoint",
        "product_column": "product",
        "segment_column": "segment",
    }
    fields: dict[str, Any] = {k: v for k, v in optional.items() if v in columns}
    if "date_column" not in fields and "created_at" in columns:
        fields["date_column"] = "created_at"
    return SourceProfile(name="dataframe", channel="survey", source=source, text_columns=text_columns, **fields)


def analyze(
    data: pd.DataFrame | Path | str | Sequence[Path | str],
    config: VocmineConfig | Path | str | None = None,
    *,
    store: Path | str | None = None,
    profile: str | None = None,
    source: str = "dataframe",
    steps: list[str] | None = None,
) -> Analysis:
    """Ingest ``data`` (a DataFrame with canonical column names, a file, or several files), run the
    analysis, and return an :class:`Analysis`.

    ``store`` defaults to a fresh file in a temporary folder (the config's store when a config is
    given); files are read with ``profile`` (default "review"); ``steps`` restricts the analysis.
    """
    from vocmine.pipelines.analyze import analyze_store
    from vocmine.pipelines.ingest import ingest_paths
    from vocmine.pipelines.profiles import load_profile

    cfg = config if isinstance(config, VocmineConfig) else load_config(config)
    if store is not None:
        cfg = cfg.model_copy(update={"store": Path(store)})
    elif config is None:
        cfg = cfg.model_copy(update={"store": Path(tempfile.mkdtemp(prefix="vocmine-")) / "vocmine.duckdb"})
    with Store(cfg.store) as opened:
        if isinstance(data, pd.DataFrame):
            staging = Path(tempfile.mkdtemp(prefix="vocmine-input-")) / f"{source}.parquet"
            data.astype(str).where(data.notna(), None).to_parquet(staging, index=False)
            ingest_paths([staging], opened, profile=_frame_profile(data, source))
        else:
            paths = [Path(data)] if isinstance(data, str | Path) else [Path(p) for p in data]
            ingest_paths(paths, opened, profile=load_profile(profile or "review"))
        analyze_store(opened, cfg, steps=steps)
    return Analysis(cfg.store, cfg)


def classify(
    data: pd.DataFrame | Sequence[str] | Path | str,
    text_column: str = "text",
    *,
    sentences: bool = False,
    language_column: str | None = None,
    taxonomy: str | None = None,
    config: VocmineConfig | Path | str | None = None,
) -> pd.DataFrame:
    """Label texts without a store: the table ``vocmine classify`` writes, as a DataFrame.

    ``data`` is a DataFrame (labelled from its ``text_column``), a list of texts, or the path of a
    .csv/.xlsx/.jsonl/.json/.parquet file (read as ``ingest`` reads it; rows that cannot be read are left out
    with a warning and listed in the result's ``attrs["rejects"]``). Each row keeps its columns (the text
    column cleaned and with personal data redacted) and gains ``language``, ``sentiment``, ``p_negative``,
    ``p_neutral``, ``p_positive``, ``emotions``, ``component``, ``touchpoints`` and ``<column>_skipped``, the
    reason where a task left it unlabelled; ``sentences=True`` gives one row per
    sentence with the row's ``index``. ``language_column`` names a column of language codes the data already
    has (detected where empty). The models load once per (config, taxonomy) and stay loaded for the
    next call, so a notebook can label batch after batch.

    >>> labels = classify(["Un desastre, el pedido llegó tarde y frío.", "Staff were lovely."])
    >>> labels[["language", "sentiment"]].values.tolist()
    [['es', 'negative'], ['en', 'positive']]
    """
    from vocmine.pipelines.classify import classify_frame, read_any

    rejects: list[Any] = []
    if isinstance(data, str | Path):
        if not _is_file(data):
            from vocmine.errors import ConfigError

            raise ConfigError(f"no such file: {str(data)[:200]!r} (to label texts, pass a list: classify([text]))")
        frame, rejects = read_any(data)
        if rejects:
            first = rejects[0]
            warnings.warn(f"{Path(data).name}: {len(rejects)} rows could not be read and are left out (first: row "
                          f"{first.row}: {first.message}); the result's attrs['rejects'] lists them",
                          stacklevel=2)
    elif isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, pd.Series):
        frame = data.to_frame(text_column)  # keeps the Series' index, so labels join back
    else:
        frame = pd.DataFrame({text_column: list(data)})
    cfg = config if isinstance(config, VocmineConfig) else load_config(config)
    result = classify_frame(frame, text_column, _classifier_stack(cfg, taxonomy), sentences=sentences,
                            language_column=language_column)
    result.attrs["rejects"] = [dataclasses.asdict(reject) for reject in rejects]
    return result


def _is_file(path: str | Path) -> bool:
    """Whether ``path`` names a file; False for a text too long or odd to be a path (a review passed by
    mistake), where ``Path.is_file`` raises OSError (name too long)."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


#: The last classifier stack :func:`classify` loaded, keyed by its config and taxonomy (one kept: a stack
#: holds every model in memory).
_LOADED_STACK: dict[tuple[str, str | None], Any] = {}


def _classifier_stack(config: VocmineConfig, taxonomy: str | None) -> Any:
    from vocmine.pipelines.classify import TextClassifierStack

    key = (config.model_dump_json(), taxonomy)
    if key not in _LOADED_STACK:
        _LOADED_STACK.clear()
        _LOADED_STACK[key] = TextClassifierStack.load(config, taxonomy=taxonomy)
    return _LOADED_STACK[key]


def load(store_path: Path | str, config: VocmineConfig | Path | str | None = None) -> Analysis:
    """Reopen the results in an existing store."""
    path = Path(store_path)
    if not path.exists():
        from vocmine.errors import ConfigError

        raise ConfigError(f"store {path} does not exist")
    cfg = config if isinstance(config, VocmineConfig) else load_config(config)
    return Analysis(path, cfg)
