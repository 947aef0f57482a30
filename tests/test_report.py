"""imu-knee report: self-contained HTML, escaped user text, no overwrite without --force, a
valid PDF, findings of a simulated hard landing shown with their evidence, and the trend."""

from __future__ import annotations

import io
import re
from html import escape, unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pypdf = pytest.importorskip("pypdf")

from imu_knee.analysis.engine import analyze_recording  # noqa: E402
from imu_knee.cli import main  # noqa: E402
from imu_knee.errors import InputError  # noqa: E402
from imu_knee.recording import read_recording  # noqa: E402
from imu_knee.report import (EarlierSession, analyse_session, build_content, render_html,  # noqa: E402
                             render_pdf)
from imu_knee.simulate import simulate, write_outputs  # noqa: E402

EVIL_NAME = "<script>alert(1)</script>"
EVIL_NOTES = 'sore "knee" & <img src=x onerror=alert(2)>'
HARD_LANDING_TITLE = "Hard landings going down stairs"
ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "dl", "dt",
                "dd", "div", "b", "i", "span", "br", "ul", "li", "details", "summary", "table",
                "caption", "tr", "th", "td", "figure", "img", "figcaption", "footer"}


@pytest.fixture(scope="module", autouse=True)
def private_history(tmp_path_factory):
    """Never read (or write) the user's own session history."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IMU_KNEE_HOME", str(tmp_path_factory.mktemp("home")))
        mp.delenv("XDG_DATA_HOME", raising=False)
        yield


@pytest.fixture(scope="module")
def hard_landing_csv(tmp_path_factory) -> Path:
    """Two shins at 200 Hz, level walking then stairs down with +6 g landings on the right."""
    res = simulate("level:6,stairs_down:6", rate_hz=200, problems={"right": {"hard_landing_g": 6.0}},
                   seed=11)
    path = tmp_path_factory.mktemp("rec") / "hard_landing.csv"
    write_outputs(res, path)
    return path


@pytest.fixture(scope="module")
def cli_outputs(hard_landing_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    html, pdf = out / "r.html", out / "r.pdf"
    code = main(["report", str(hard_landing_csv), "-o", str(html), "--pdf", str(pdf),
                 "--name", EVIL_NAME, "--notes", EVIL_NOTES, "--quiet"])
    assert code == 0
    return html.read_text(encoding="utf-8"), pdf.read_bytes()


@pytest.fixture(scope="module")
def session(hard_landing_csv):
    return analyse_session(read_recording(hard_landing_csv))


def pdf_pages_text(data: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return [re.sub(r"\s+", " ", p.extract_text() or "") for p in reader.pages]


class _Resources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for k, v in attrs:
            if k in ("src", "href", "srcset", "poster", "data", "action", "background") and v:
                self.refs.append((tag, k, v))
            assert not k.startswith("on"), f"event handler attribute {k} on <{tag}>"


def test_html_is_self_contained(cli_outputs):
    html, _ = cli_outputs
    parser = _Resources()
    parser.feed(html)
    assert parser.refs, "the figures should be embedded images"
    for tag, attr, value in parser.refs:
        assert value.startswith("data:image/png;base64,") or value.startswith("#"), (tag, attr, value[:60])
    assert not {"script", "link", "iframe", "object", "embed"} & parser.tags
    assert "http://" not in html and "https://" not in html
    assert "url(" not in html and "@import" not in html
    assert html.count("<img ") == 3  # impact, stride and wobble; knee curves need thigh sensors


def test_user_text_is_escaped_in_html_and_kept_in_pdf(cli_outputs):
    html, pdf = cli_outputs
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "&quot;knee&quot; &amp;" in html
    text = pdf_pages_text(pdf)
    assert EVIL_NAME in text[0]
    assert "<img src=x onerror=alert(2)>" in " ".join(text)


def test_report_never_overwrites_without_force(hard_landing_csv, tmp_path, capsys):
    html = tmp_path / "r.html"
    html.write_text("keep me", encoding="utf-8")
    assert main(["report", str(hard_landing_csv), "-o", str(html), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--force" in err and "Traceback" not in err
    assert html.read_text(encoding="utf-8") == "keep me"
    # the PDF path is checked too, before anything is written
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(b"old")
    fresh = tmp_path / "fresh.html"
    assert main(["report", str(hard_landing_csv), "-o", str(fresh), "--pdf", str(pdf), "--quiet"]) == 2
    assert not fresh.exists() and pdf.read_bytes() == b"old"
    capsys.readouterr()
    # never over the recording itself, even with --force
    before = hard_landing_csv.read_bytes()
    assert main(["report", str(hard_landing_csv), "-o", str(hard_landing_csv), "--force", "--quiet"]) == 2
    assert hard_landing_csv.read_bytes() == before
    assert main(["report", str(hard_landing_csv), "-o", str(html), "--force", "--quiet"]) == 0
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not list(tmp_path.glob(".*.tmp"))


def test_missing_folder_and_bad_leg_length_are_one_line_errors(hard_landing_csv, tmp_path, capsys):
    assert main(["report", str(hard_landing_csv), "-o", str(tmp_path / "no" / "r.html")]) == 2
    assert main(["report", str(hard_landing_csv), "-o", str(tmp_path / "r.html"), "--leg-length", "9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("imu-knee: ") for line in err)


def test_report_and_import_refuse_the_same_output_paths_alike(tmp_path, capsys):
    """One output-path check (imu_knee.paths) for every command that writes a file."""
    from imu_knee.importers import write_import
    from imu_knee.paths import check_output_path

    existing = tmp_path / "old.csv"
    existing.write_text("keep", encoding="utf-8")
    cases = {"exists already; use --force": existing, "is a folder": tmp_path,
             "does not exist": tmp_path / "no" / "x.csv"}
    for words, path in cases.items():
        with pytest.raises(InputError, match=words):
            check_output_path(path, force=False)
        with pytest.raises(InputError, match=words):
            write_import(None, path)  # refused before anything is converted or written
    check_output_path(existing, force=True)
    assert existing.read_text(encoding="utf-8") == "keep"


def test_pdf_is_valid_with_its_parts_on_their_own_pages(cli_outputs):
    _, pdf = cli_outputs
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    pages = pdf_pages_text(pdf)
    first = {h: next(i for i, t in enumerate(pages) if h in t)
             for h in ("What stood out", "Your exercise plan", "Your measurements",
                       "Compared with earlier sessions", "For the therapist")}
    # three parts, each starting on a new page: summary (facts, findings, plan), measurements, therapist
    assert first["What stood out"] == 0
    assert first["Your exercise plan"] < first["Your measurements"]
    assert first["Your measurements"] <= first["Compared with earlier sessions"] < first["For the therapist"]
    assert first["For the therapist"] == len(pages) - 1 or "Steps" in pages[-1]
    assert all(f"page {i + 1}" in t for i, t in enumerate(pages))
    assert all("Not a diagnosis" in t for t in pages)


def test_pdf_page_count_is_reported(session):
    content = build_content(session, name="A")
    data, pages = render_pdf(content)
    assert len(pypdf.PdfReader(io.BytesIO(data)).pages) == pages >= 3


def test_hard_landing_finding_appears_with_its_evidence(session, cli_outputs):
    html, pdf = cli_outputs
    hard = [f for f in session.coach.findings if f.pattern == "hard_landing"]
    assert hard and hard[0].side in ("right", "both")
    assert HARD_LANDING_TITLE in html
    assert re.search(r"Going down stairs, the right leg.s landing impact was [0-9.]+ g", unescape(html))
    assert "200 samples per second" in html
    pdf_text = " ".join(pdf_pages_text(pdf))
    assert HARD_LANDING_TITLE in pdf_text
    assert "Slow single-leg sit to a chair" in html and "Slow single-leg sit to a chair" in pdf_text
    # each step behind the finding is marked in the per-step table
    content = build_content(session)
    marked = [r for r in content.step_table.rows if r[-1]]
    assert len(marked) == len({round(t, 4) for t in hard[0].steps})
    assert {r[3] for r in marked} == {"stairs down"}


def test_no_hard_landing_without_stairs(tmp_path):
    res = simulate("level:8", rate_hz=200, seed=5)
    content = build_content(analyse_session(res.recording))
    assert all(f.pattern != "hard_landing" for f in content.findings)
    html = render_html(content)
    assert HARD_LANDING_TITLE not in html
    assert "no steps going down stairs" in html


def test_report_steps_are_the_engines_steps(session):
    steps, _ = analyze_recording(session.recording)
    assert steps.equals(session.steps)


def test_impact_figure_shows_the_sample_rate_and_knee_curves_need_a_thigh(session):
    content = build_content(session)
    figs = {f.key: f for f in content.figures}
    assert "200" in figs["impact"].title and "samples per second" in figs["impact"].caption
    assert figs["knee"].png is None and "thigh" in figs["knee"].note
    assert figs["impact"].png.startswith(b"\x89PNG")
    # the therapist's per-step table has every step, in order
    assert len(content.step_table.rows) == len(session.steps)
    assert [float(r[1]) for r in content.step_table.rows] == [
        round(t, 2) for t in session.steps["ic_s"].astype(float)]


def test_figures_drawn_in_a_second_process_are_the_same(session, monkeypatch):
    """A long session's figures are shared between this process and a forked child; the
    report gets the same PNGs, in the same places, as when all are drawn here."""
    from imu_knee.analysis import forked
    from imu_knee.report import plots

    here = [(f.key, f.png) for f in build_content(session).figures]
    children = []

    class Spy(forked.ForkedCall):
        def __init__(self, *args):
            children.append(1)
            super().__init__(*args)

    monkeypatch.setattr(forked, "ForkedCall", Spy)
    monkeypatch.setattr(plots, "PARALLEL_MIN_STEPS", 0)
    shared = [(f.key, f.png) for f in build_content(session).figures]
    assert shared == here and sum(png is not None for _, png in here) >= 3
    assert children == ([1] if forked.can_fork() else [])


def test_trend_from_earlier_sessions(session):
    content = build_content(session)
    assert "No earlier sessions stored" in content.trend.message and content.trend.table is None
    earlier = [EarlierSession.from_dict({"date": "2026-10-01", "medians": [
        {"metric": "impact_g", "side": "right", "activity": "stairs_down", "median": 3.1},
        {"metric": "stride_length_m", "side": "left", "activity": "level", "median": 1.2}]}),
        EarlierSession.from_dict({"date": "2026-10-15", "sides": {
            "right": {"stairs_down": {"median": {"impact_g": 3.4}}}}})]
    session.earlier = earlier
    try:
        content = build_content(session)
    finally:
        session.earlier = []
    t = content.trend
    assert t.sessions == 2 and t.table is not None and t.figure.png is not None
    assert t.table.columns[-3:] == ["2026-10-01", "2026-10-15", "this session"]
    row = next(r for r in t.table.rows if r[0].startswith("Landing impact going down stairs") and r[1] == "right")
    now = session.summary["sides"]["right"]["stairs_down"]["median"]["impact_g"]
    assert row[2:] == ["3.10", "3.40", f"{now:.2f}"]
    assert "2026-10-15" in render_html(content)


def test_recording_without_walking_is_a_one_line_error(tmp_path, capsys):
    import numpy as np

    from imu_knee.recording import Recording, SensorStream, write_recording

    rng = np.random.default_rng(0)
    t = np.arange(0, 10, 0.01)
    acc = np.array([0.0, 0.0, 9.81]) + rng.normal(0, 0.02, (len(t), 3))
    rec = Recording({"left_shank": SensorStream("left_shank", t, acc, rng.normal(0, 0.2, (len(t), 3)), 100.0)})
    path = tmp_path / "standing.csv"
    write_recording(path, rec)
    out = tmp_path / "r.html"
    assert main(["report", str(path), "-o", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no walking found" in err and err.count("\n") == 1
    assert not out.exists()
    # a file that is no recording: the reader's one-line message (it reads in the background)
    path.write_text("timestamp_s,sensor\n0.0,left_knee\n", encoding="utf-8")
    assert main(["report", str(path), "-o", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "standing.csv" in err and "Traceback" not in err
    assert not out.exists()


def test_trend_and_persisting_pattern_from_the_session_history(session, hard_landing_csv, tmp_path):
    from imu_knee.history import store_session

    db = tmp_path / "history.sqlite"
    finding = next(f for f in session.coach.findings if f.pattern == "hard_landing")
    for day in ("2026-09-01T10:00:00Z", "2026-10-01T10:00:00Z"):
        store_session(session.steps, session.summary, db=db, findings=[finding], recorded_at=day,
                      source=f"walk-{day[:10]}.csv", source_sha256=day)
    store_session(session.steps, session.summary, db=db, subject="someone else",
                  recorded_at="2026-08-01T10:00:00Z", source_sha256="other")
    html_path = tmp_path / "r.html"
    assert main(["report", str(hard_landing_csv), "-o", str(html_path), "--db", str(db), "--quiet"]) == 0
    html = unescape(html_path.read_text(encoding="utf-8"))
    assert "Compared with 2 earlier sessions" in html
    assert "2026-09-01" in html and "2026-10-01" in html and "2026-08-01" not in html
    assert "see a physical therapist" in html.split("What stood out")[0]  # advice at the top
    # without the history: no trend
    assert main(["report", str(hard_landing_csv), "-o", str(html_path), "--db", str(db),
                 "--no-history", "--force", "--quiet"]) == 0
    assert "No earlier sessions stored" in html_path.read_text(encoding="utf-8")


@settings(max_examples=8, deadline=None)
@given(name=st.text(max_size=40), notes=st.text(max_size=120))
def test_any_user_text_is_escaped_and_renders(session, name, notes):
    content = build_content(session, name=name, notes=notes)
    html = render_html(content)
    parser = _Resources()
    parser.feed(html)  # no event-handler attributes, whatever the text
    assert {t for t in parser.tags} <= ALLOWED_TAGS
    assert all(v.startswith("data:image/png;base64,") for _, _, v in parser.refs)
    for text in (content.name, content.notes):
        if text:
            assert escape(text, quote=True) in html
    pdf, pages = render_pdf(content)
    assert pdf.startswith(b"%PDF-") and pages >= 3
