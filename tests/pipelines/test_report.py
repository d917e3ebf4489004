"""The HTML report: figures with n and intervals, graceful when stages are missing, verbatims escaped."""

from __future__ import annotations

import importlib.util
import math
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from vocmine.config import VocmineConfig
from vocmine.pipelines.i18n import STRINGS, choose_language
from vocmine.pipelines.report import SECTIONS, build_report, render_report
from vocmine.pipelines.report_data import (
    PeriodPoint,
    basic_kpis,
    coarsen_trend,
    group_difference,
    group_homogeneity,
    load_report_data,
    nps_figure,
    nps_from_counts,
    satisfaction_0_10,
    top_two_box,
)

REPO = Path(__file__).resolve().parents[2]


def _builder():
    spec = importlib.util.spec_from_file_location("hostile_build", REPO / "tests" / "data" / "hostile" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILDER = _builder()
HOSTILE = BUILDER.HOSTILE


class _Tags(HTMLParser):
    """Every start tag with its attributes, as the browser's parser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory):
    """One seeded es/en store with hostile verbatims, shared by the tests that only read it."""
    from vocmine.store import Store

    with Store(tmp_path_factory.mktemp("report") / "sample.duckdb") as opened:
        BUILDER.build_sample_store(opened, n_responses=160, seed=1)
        yield opened


@pytest.fixture(scope="module")
def full_report(sample_store, tmp_path_factory: pytest.TempPathFactory):
    result = build_report(sample_store, VocmineConfig(), tmp_path_factory.mktemp("full"))
    return result, result.html_path.read_text(encoding="utf-8")


# -- statistics, hand-computed ----------------------------------------------------------------------
def test_nps_figure_matches_hand_computation() -> None:
    # 5 promoters, 3 passives, 2 detractors: NPS = 50% - 20% = 30 points. Adjusted Wald (Rocks 2016) adds
    # 0.75 P, 1.5 A, 0.75 D: n' = 13, p' = 5.75/13 = .442308, d' = 2.75/13 = .211538, centre = .230769;
    # var = (p' + d' - centre^2) / n' = (.653846 - .053254) / 13 = .046199; se = .214940;
    # half = 1.959964 * .214940 = .421275 -> [23.0769 - 42.1275, 23.0769 + 42.1275] = [-19.051, 65.204].
    figure = nps_figure(["promoter"] * 5 + ["passive"] * 3 + ["detractor"] * 2 + [None], min_n=30)
    assert (figure.n, figure.promoters, figure.passives, figure.detractors) == (10, 5, 3, 2)
    assert figure.nps == pytest.approx(30.0)
    assert figure.low == pytest.approx(-19.051, abs=0.01)
    assert figure.high == pytest.approx(65.204, abs=0.01)
    assert figure.small_n
    assert nps_from_counts(5, 3, 2) == figure  # one computation whether from classes or from counts


@pytest.mark.parametrize(
    ("classes", "expected", "low", "high"),
    [
        ([], None, None, None),
        ([None, None], None, None, None),
        # 40 promoters: n' = 43, p' = 40.75/43 = .947674, d' = .75/43 = .017442, centre = .930233;
        # var = (.965116 - .865333) / 43 = .0023206, se = .048172, half = .094416 -> [83.582, 102.46 -> 100].
        # Unlike the plain Wald interval it does not collapse to the single point 100.
        (["promoter"] * 40, 100.0, 83.582, 100.0),
        # 3 detractors: n' = 6, p' = .125, d' = .625, centre = -.5; var = (.75 - .25) / 6 = .083333,
        # se = .288675, half = .565793 -> [-106.58 -> -100, 6.579].
        (["detractor"] * 3, -100.0, -100.0, 6.579),
        # 1 promoter: n' = 4, p' = .4375, d' = .1875, centre = .25; var = (.625 - .0625) / 4 = .140625,
        # se = .375, half = .734987 -> [-48.499, 98.499], widened to contain the shown NPS of 100.
        (["promoter"], 100.0, -48.499, 100.0),
    ],
)
def test_nps_figure_edge_cases(
    classes: list[str | None], expected: float | None, low: float | None, high: float | None
) -> None:
    figure = nps_figure(classes, min_n=30)
    assert figure.nps == expected
    if expected is None:
        assert figure.low is None and figure.high is None
    else:
        assert figure.low == pytest.approx(low, abs=0.01) and figure.high == pytest.approx(high, abs=0.01)


def test_nps_figure_agrees_with_the_kpis_table() -> None:
    from vocmine.pipelines.kpis import compute_kpis

    responses = pd.DataFrame(
        {
            "response_id": [f"r{i}" for i in range(12)],
            "created_at": pd.Timestamp("2025-03-01"),
            "nps_class": ["promoter"] * 6 + ["passive"] * 2 + ["detractor"] * 3 + [None],
        }
    )
    kpis = compute_kpis(responses, VocmineConfig())
    overall = kpis[(kpis["segment"] == "all") & (kpis["period"] == "all")].iloc[0]
    figure = nps_figure(responses["nps_class"])
    assert (figure.n, figure.nps) == (overall["n"], pytest.approx(overall["estimate"]))
    assert (figure.low, figure.high) == (pytest.approx(overall["low"]), pytest.approx(overall["high"]))


def test_satisfaction_pools_scales_on_0_10() -> None:
    frame = pd.DataFrame(
        {
            "score": [10.0, 0.0, 5.5, None, None],
            "score_scale": ["0-10", "0-10", "1-10", None, None],
            "stars": [None, None, None, 4.0, None],
        }
    )
    assert list(satisfaction_0_10(frame).dropna()) == pytest.approx([10.0, 0.0, 5.5, 7.5])
    assert list(top_two_box(frame)) == pytest.approx([1.0, 0.0, 0.0, 1.0, float("nan")], nan_ok=True)


def test_group_difference_flags_a_branch_below_the_rest() -> None:
    # Group: 40 detractors, NPS -100; rest: 30 P + 30 A, NPS 50; difference -150 points.
    # Adjusted Wald per side (homogeneity.standout_groups): group n' = 43, p' = .017442, d' = .947674,
    # centre = -.930233, var = .0023206; rest n' = 63, p' = 30.75/63 = .488095, d' = .75/63 = .011905,
    # centre = .476190, var = (.5 - .226757) / 63 = .0043372. se = sqrt(.0066577) = .081595;
    # adjusted difference = -1.406423, half = 1.959964 * .081595 = .159922 -> [-156.635, -124.650].
    diff, low, high = group_difference(["detractor"] * 40, ["promoter"] * 30 + ["passive"] * 30)
    assert diff == pytest.approx(-150.0)
    assert low == pytest.approx(-156.635, abs=0.01) and high == pytest.approx(-124.650, abs=0.01)
    assert group_difference([None, None], ["promoter"] * 3) == (None, None, None)


def test_group_homogeneity_uses_the_nps_stage_test() -> None:
    config = VocmineConfig()
    two = pd.DataFrame(
        {
            "branch": ["A"] * 40 + ["B"] * 40,
            "nps_class": ["detractor"] * 30 + ["promoter"] * 10  # A: mostly detractors
            + ["promoter"] * 30 + ["detractor"] * 10,  # B: mostly promoters
        }
    )
    # 2 x 2 table (no passives) [[10, 30], [30, 10]]: every expected count is 20, so chi-square applies;
    # statistic = 4 * (10 - 20)^2 / 20 = 20 with 1 df; p = P(chi2_1 > 20) = 7.74e-6.
    result = group_homogeneity(two, "branch", config)
    assert (result.groups_tested, result.dof, result.method) == (2, 1, "chi-square")
    assert result.chi2 == pytest.approx(20.0)
    assert result.p_value == pytest.approx(7.74e-6, rel=1e-2) and result.homogeneous is False
    # A third, tiny branch C (5 passives) makes 5 of 9 expected counts < 5 (Cochran): seeded permutation test.
    three = pd.concat([two, pd.DataFrame({"branch": ["C"] * 5, "nps_class": ["passive"] * 5})], ignore_index=True)
    small = group_homogeneity(three, "branch", config)
    assert (small.groups_tested, small.method) == (3, "monte-carlo permutation")
    assert small.p_value == pytest.approx(1 / 1001)  # no permutation of 1000 reaches the observed statistic
    alike = group_homogeneity(two.assign(branch="A"), "branch", config)
    assert alike.p_value is None and alike.groups_tested == 1 and alike.homogeneous is None


def test_report_branches_match_the_nps_stage(sample_store) -> None:
    from vocmine.pipelines.homogeneity import homogeneity_report

    config = VocmineConfig()
    data = load_report_data(sample_store, config)
    test, standouts = homogeneity_report(sample_store, config, "branch")
    homogeneity = data.branches.homogeneity
    assert (homogeneity.p_value, homogeneity.chi2, homogeneity.method) == (test.p_value, test.statistic, test.method)
    by_name = standouts.set_index("segment_value")
    for row in data.branches.rows:
        expected = by_name.loc[row.name]
        assert row.stands_out == (expected["flag"] if isinstance(expected["flag"], str) else None)
        assert row.difference == pytest.approx(expected["difference"])
        assert row.difference_low == pytest.approx(expected["low"])
        assert row.difference_high == pytest.approx(expected["high"])


def test_basic_kpis_have_n_interval_and_small_n_flag(store) -> None:
    BUILDER.build_sample_store(store, n_responses=80, seed=2)
    responses = store.df("SELECT * FROM responses")
    kpis = basic_kpis(responses, VocmineConfig())
    overall = kpis[(kpis["segment"] == "all") & (kpis["period"] == "all")].iloc[0]
    assert overall["n"] == 80 and overall["low"] < overall["estimate"] < overall["high"]
    assert not overall["small_n"]
    branches = kpis[kpis["segment"] == "branch"]
    assert len(branches) == 5 and branches["small_n"].all()  # ~16 responses per branch < 30
    assert len(kpis[(kpis["segment"] == "all") & (kpis["period"] != "all")]) >= 3


# -- language -------------------------------------------------------------------------------------
def test_strings_exist_in_both_languages() -> None:
    assert set(STRINGS["es"]) == set(STRINGS["en"])


@pytest.mark.parametrize(
    ("setting", "counts", "expected"),
    [
        ("auto", {"es": 60, "en": 30, "pt": 90}, "es"),
        ("auto", {"es": 10, "en": 30}, "en"),
        ("auto", {"es": 5, "en": 5}, "en"),
        ("auto", {"pt": 4}, "en"),
        ("es", {"en": 100}, "es"),
        ("en", {"es": 100}, "en"),
    ],
)
def test_choose_language(setting: str, counts: dict[str, int], expected: str) -> None:
    assert choose_language(setting, counts) == expected


def test_report_language_follows_config(sample_store, full_report) -> None:
    config = VocmineConfig.model_validate({"report": {"language": "en"}})
    html = render_report(load_report_data(sample_store, config))
    assert "Root causes per touchpoint" in html and 'lang="en"' in html
    _, auto = full_report
    assert "Causas raíz por punto de contacto" in auto and 'lang="es"' in auto  # Spanish is the majority


# -- the full report ------------------------------------------------------------------------------
def test_report_has_every_section_and_figure(full_report) -> None:
    result, html = full_report
    assert result.sections == list(SECTIONS)
    for section in SECTIONS:
        assert f'id="{section}" data-section="{section}"' in html
    assert result.size_bytes == result.html_path.stat().st_size < 1_000_000
    assert 'data-chart="line"' in html and 'data-chart="bars"' in html and 'data-chart="heatmap"' in html
    assert 'data-chart="dots"' in html and "class=\"whisker\"" in html
    assert "IC 95" in html and "n = 160" in html
    assert "pocas respuestas" in html  # small-n marker (branches have ~32 responses, themes fewer)
    assert "Sevilla Nervión" in html and "Homogeneidad" in html and "χ²" in html
    assert "La app falla al pagar" in html and "emergente" in html  # emerging theme with its evidence
    assert "new in the last 2 months" in html


def test_report_root_causes_ranked_by_impact(sample_store) -> None:
    data = load_report_data(sample_store, VocmineConfig())
    causes = [c for tp in data.touchpoints for c in tp.causes]
    assert causes and all(c.polarity == "negative" for c in causes)
    for tp in data.touchpoints:
        impacts = [c.impact for c in tp.causes]
        assert impacts == sorted(impacts)  # most costly (most negative) first
    # Touchpoints are ordered by their most costly figure: their own impact or their worst cause's.
    worst = [min([c.impact for c in tp.causes] + [tp.impact]) for tp in data.touchpoints if tp.causes]
    assert worst == sorted(worst)
    delivery = next(tp for tp in data.touchpoints if tp.touchpoint == "delivery")
    assert delivery.impact is not None and delivery.impact_low <= delivery.impact <= delivery.impact_high
    late = next(c for c in causes if c.theme_id == "th_late")
    assert late.impact_low is not None and late.impact_low <= late.impact <= late.impact_high
    assert 3 <= len(late.verbatims) <= 5 and late.dominant_emotions == ["anger"] and late.trend


def test_report_data_quality_section(full_report) -> None:
    _, html = full_report
    data_quality = html[html.index('id="data-quality"'):]
    assert "encuesta.csv" in data_quality and "0-10" in data_quality
    assert ">pt<" in data_quality and ">fr<" in data_quality  # languages not analysed
    assert "language pt not modelled" in data_quality


# -- escaping and self-containment ----------------------------------------------------------------
@pytest.mark.parametrize("language", ["es", "en"])
def test_report_escapes_hostile_verbatims(sample_store, language: str) -> None:
    config = VocmineConfig.model_validate({"report": {"language": language}})
    html = render_report(load_report_data(sample_store, config))
    tags = _tags(html)
    names = {tag for tag, _ in tags}
    assert not names & {"script", "img", "iframe", "link", "object", "embed", "form", "base"}
    assert sum(t == "style" for t, _ in tags) == 1 and sum(t == "h1" for t, _ in tags) == 1
    assert all(attrs.get("href", "#").startswith("#") for t, attrs in tags if t == "a")
    for tag, attrs in tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "javascript:" not in " ".join(str(v) for v in attrs.values()).lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; El pedido llegó tarde" in html
    assert "&lt;img src=x onerror=alert(1)&gt; The app crashed at checkout." in html
    assert "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;h1&gt;Hackeado" in html
    assert "&lt;img src=x onerror=alert(2)&gt;Tom" in html  # hostile seller name, table and chart label
    assert "=HYPERLINK(&#34;http://x&#34;,&#34;click&#34;)" in html or '=HYPERLINK("http://x"' in html


def test_report_is_self_contained(full_report) -> None:
    _, html = full_report
    tags = _tags(html)
    for tag, attrs in tags:
        for name in ("src", "href", "xlink:href", "srcset", "poster", "data", "action"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith("#"), (tag, name, value)
    assert "@import" not in html and "url(" not in html
    policy = next(a["content"] for t, a in tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in policy and "script-src 'none'" in policy


# -- graceful with missing stages -----------------------------------------------------------------
def test_report_on_empty_store(store, tmp_path: Path) -> None:
    result = build_report(store, VocmineConfig(), tmp_path / "out")
    html = result.html_path.read_text(encoding="utf-8")
    assert result.sections == list(SECTIONS)
    assert "Not computed yet." in html  # no data at all: English fallback
    assert "No sentences analysed yet" in html
    assert len(result.export_paths) == 15
    assert set(result.warnings) == {"no sentences analysed yet", "no themes computed yet", "no drivers computed yet"}


def test_report_with_responses_only_computes_nps_itself(store, tmp_path: Path) -> None:
    BUILDER.build_sample_store(
        store, n_responses=60, seed=5, with_annotations=False, with_themes=False, with_rejects=False
    )
    store.con.execute("DELETE FROM sentences")
    data = load_report_data(store, VocmineConfig())
    classes = store.df("SELECT nps_class FROM responses")["nps_class"]
    expected = nps_figure(classes)
    assert data.overview.nps == expected and data.trend and not data.touchpoints
    html = render_report(data)
    assert "Aún no se han analizado frases" in html and "No se rechazó ninguna fila." in html


def test_report_with_themes_but_no_drivers_computes_point_impact(store) -> None:
    BUILDER.build_sample_store(store, n_responses=120, seed=6, with_drivers=False)
    data = load_report_data(store, VocmineConfig())
    causes = [c for tp in data.touchpoints for c in tp.causes]
    assert causes and all(c.impact is not None and c.impact_low is None for c in causes)
    assert all(0 <= c.detractor_share <= 1 for c in causes)
    assert "intervalo no calculado" in render_report(data)


def test_report_without_annotations_shows_example_sentences(store) -> None:
    BUILDER.build_sample_store(store, n_responses=60, seed=7, with_annotations=False, with_themes=False)
    data = load_report_data(store, VocmineConfig())
    assert data.has_sentences and not data.has_touchpoints and not data.has_emotions
    assert [tp.touchpoint for tp in data.touchpoints] == ["all"]
    html = render_report(data)
    assert "Aún no hay temas" in html and "Aún no hay puntos de contacto anotados" in html


def test_report_prefers_stored_kpis_with_other_naming(store) -> None:
    BUILDER.build_sample_store(store, n_responses=100, seed=8, with_kpis=True)
    store.con.execute("UPDATE kpis SET estimate = 12.5, low = 1.0, high = 24.0 WHERE segment = 'overall'")
    data = load_report_data(store, VocmineConfig())
    assert (data.overview.nps.nps, data.overview.nps.low, data.overview.nps.high) == (12.5, 1.0, 24.0)
    assert len(data.trend) >= 3 and all(p.figure.n > 0 for p in data.trend)
    assert [name for name, _ in data.by_component] == ["emotional", "rational"]  # lowest NPS first
    assert "NPS según comentario racional o emocional" in render_report(data)
    assert data.kpis[(data.kpis["segment"] == "all") & (data.kpis["period"] == "all")]["run_id"].tolist() == [
        "fixture-kpis"
    ]


def test_report_reads_kpis_stored_as_shares(store) -> None:
    BUILDER.build_sample_store(store, n_responses=100, seed=9, with_kpis=True)
    store.con.execute(
        "UPDATE kpis SET estimate = estimate / 100, low = low / 100, high = high / 100 WHERE segment = 'overall'"
    )
    data = load_report_data(store, VocmineConfig())
    expected = nps_figure(store.df("SELECT nps_class FROM responses")["nps_class"])
    assert math.isclose(data.overview.nps.nps, expected.nps, abs_tol=1e-6)


def test_report_branch_chart_is_capped_but_table_lists_all(store) -> None:
    BUILDER.build_sample_store(store, n_responses=120, seed=10, with_annotations=False, with_themes=False)
    store.con.execute("UPDATE responses SET branch = 'Tienda ' || lpad(CAST(source_row % 50 AS VARCHAR), 2, '0')")
    html = render_report(load_report_data(store, VocmineConfig()))
    branches = html[html.index('id="branches"'):html.index('id="sellers"')]
    chart = branches[branches.index('data-chart="dots"'):branches.index("</svg>")]
    assert chart.count('class="point"') == 40
    assert branches.count("<tr>") == 51  # header + every branch
    assert "los 20 más altos y los 20 más bajos" in branches


def test_coarsen_trend_pools_long_histories() -> None:
    months = [f"{year}-{month:02d}" for year in range(2010, 2015) for month in range(1, 13)]  # 60 months
    points = [PeriodPoint(m, nps_from_counts(3, 1, 1)) for m in months]
    quarters = coarsen_trend(points)
    assert len(quarters) == 20 and quarters[0].period == "2010-Q1" and quarters[-1].period == "2014-Q4"
    assert quarters[0].figure == nps_from_counts(9, 3, 3)  # counts add up; the interval is recomputed
    decades = [f"{year}-{month:02d}" for year in range(2000, 2015) for month in range(1, 13)]  # 60 quarters
    years = coarsen_trend([PeriodPoint(m, nps_from_counts(1, 0, 0)) for m in decades])
    assert [p.period for p in years] == [str(y) for y in range(2000, 2015)]
    short = points[:12]
    assert coarsen_trend(short) == short


@pytest.mark.parametrize(
    "counts",
    [
        '{"2026-01": 2, "2026-02": 5}',
        '{"2026-01": {"count": 2, "share": 0.5, "total": 4}, "2026-02": {"count": 5, "share": 1.0, "total": 5}}',
        '[{"period": "2026-01", "count": 2}, {"period": "2026-02", "count": 5}]',
        '[["2026-02", 5], ["2026-01", 2]]',
    ],
)
def test_theme_trend_formats_are_read(counts: str) -> None:
    from vocmine.pipelines.report_data import _counts_per_period

    assert _counts_per_period(counts) == [("2026-01", 2), ("2026-02", 5)]
