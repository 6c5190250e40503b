"""The technique knowledge graph on SQLite and on the PostgreSQL server (a fresh schema per fixture).

PostgreSQL: ``SPACECOMPUTER_TEST_POSTGRES_URL`` or the local server with trust auth. When it is unreachable the
PostgreSQL cases fail if ``CI`` is set and are skipped otherwise.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest
import sqlalchemy as sa

from spacecomputer.athletes._graph import LIBRARY_CLIP_LINKS, ClipLink, TechniqueGraph, graph_engine
from spacecomputer.athletes._graph_schema import GRAPH_METADATA, PHASES, TECHNIQUES
from spacecomputer.biomech import BodyModel, evaluate, movement_metrics
from spacecomputer.errors import InvalidInputError, NotFoundError, UpstreamUnavailableError
from tests.biomech.gait_motions import UP, gait, right_handed_swing

POSTGRES_URL = os.environ.get("SPACECOMPUTER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ATHLETES = Path(__file__).resolve().parents[2] / "data" / "athletes"
BACKENDS = ["sqlite", "postgresql"]
START_CLIP = ClipLink("test-start", "Athletics", "Sprint", ("block start", "Acceleration"), "test clip", (3, 40))
KNEE_RANKING = ["long_jump", "header", "sprint", "ball_carry", "relay_anchor_leg", "takedown", "batting", "punching"]
KNEE_VALGUS_FAULTS = {"long_jump.take_off_knee_collapse", "header.take_off_knee_valgus", "header.landing_knee_valgus"}


@cache
def engine_names() -> tuple[frozenset[str], frozenset[str]]:
    """(metric names, risk indicator names) the biomechanics engine emits on a run and on a throw."""
    model = BodyModel.from_anthropometry(mass_kg=70.0, height_m=1.75, sex=None)
    run, _ = gait(fps=60.0, duration_s=1.0)
    throw = right_handed_swing(
        fps=120.0, limb="arm", peak_times_s=(0.9, 0.95, 1.0, 1.05, 1.1), peak_speeds_deg_s=(500, 800, 1100, 1400, 1700)
    )
    engine_pass = evaluate(run, model, up=UP, family="sprint")
    metrics = {*engine_pass.scalars, *engine_pass.joint_angles, *engine_pass.segment_angles}
    for sequence in (run, throw):
        metrics |= {m.name for m in movement_metrics(sequence, up=UP, sport=None, body_model=model)}
    return frozenset(metrics), frozenset(indicator.name for indicator in engine_pass.risk)


def _postgres_schema() -> Iterator[sa.Engine]:
    admin = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 5})
    try:
        with admin.connect():
            pass
    except sa.exc.OperationalError as error:
        admin.dispose()
        message = f"PostgreSQL at {POSTGRES_URL} is unreachable: {error.orig}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    schema = f"kg_test_{secrets.token_hex(6)}"
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = graph_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _fresh_engine(backend: str, folder: Path) -> Iterator[sa.Engine]:
    if backend == "postgresql":
        yield from _postgres_schema()
        return
    engine = graph_engine(None, sqlite_path=folder / "kg.db")
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def empty_graph(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TechniqueGraph]:
    """A graph with its schema and nothing else."""
    for engine in _fresh_engine(request.param, tmp_path):
        graph = TechniqueGraph(engine)
        graph.create_schema()
        yield graph


@pytest.fixture(scope="module", params=BACKENDS)
def graph(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TechniqueGraph]:
    """The packaged content, the library's clip links and :data:`START_CLIP` (read-only tests)."""
    for engine in _fresh_engine(request.param, tmp_path_factory.mktemp("kg")):
        loaded = TechniqueGraph(engine)
        loaded.create_schema()
        loaded.load_content()
        loaded.load_clips([*LIBRARY_CLIP_LINKS, START_CLIP])
        yield loaded


def row_counts(graph: TechniqueGraph) -> dict[str, int]:
    with graph.engine.connect() as connection:
        return {
            table.name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in GRAPH_METADATA.sorted_tables
        }


# --- content --------------------------------------------------------------------------------------------------


def test_content_loads_every_table_with_project_written_sources(graph: TechniqueGraph) -> None:
    counts = row_counts(graph)
    assert all(n > 0 for n in counts.values()), counts
    assert [s.id for s in graph.sports()] == ["athletics", "boxing", "cricket", "football", "rugby", "wrestling"]
    assert {t.id for t in graph.techniques()} == set(KNEE_RANKING)
    with graph.engine.connect() as connection:
        for table in GRAPH_METADATA.sorted_tables:
            if "source" in table.c:
                assert set(connection.execute(sa.select(table.c.source).distinct()).scalars()) == {"project-written"}


def test_reloading_content_and_clips_is_idempotent(empty_graph: TechniqueGraph) -> None:
    first = empty_graph.load_content()
    empty_graph.load_clips(LIBRARY_CLIP_LINKS)
    before, ranking = row_counts(empty_graph), empty_graph.techniques_loading("knee")
    second = empty_graph.load_content()
    empty_graph.load_clips(LIBRARY_CLIP_LINKS)
    assert row_counts(empty_graph) == before
    assert empty_graph.techniques_loading("knee") == ranking
    assert second.rows_per_table == {**first.rows_per_table, "kg_clip_links": before["kg_clip_links"]}
    assert second.dropped_clip_links == ()


def test_every_risk_indicator_in_the_content_is_an_engine_name(graph: TechniqueGraph) -> None:
    with graph.engine.connect() as connection:
        named = set(connection.execute(sa.text("SELECT id FROM kg_risk_indicators")).scalars())
        linked = set(connection.execute(sa.text("SELECT risk_indicator_id FROM kg_fault_risks")).scalars())
    _, risk_names = engine_names()
    assert named <= risk_names, sorted(named - risk_names)
    assert linked <= named


def test_every_metric_in_the_content_is_an_engine_name(graph: TechniqueGraph) -> None:
    with graph.engine.connect() as connection:
        metrics = set(connection.execute(sa.text("SELECT metric FROM kg_phase_keys")).scalars())
    metric_names, _ = engine_names()
    assert metrics <= metric_names, sorted(metrics - metric_names)
    assert {"left_knee_flexion", "step_length_m", "thorax_peak_angular_speed_deg_s"} <= metrics


def test_library_clip_links_name_the_library_files() -> None:
    assert {link.clip_id for link in LIBRARY_CLIP_LINKS} == {p.stem for p in ATHLETES.glob("*.json")} - {"manifest"}
    assert len(LIBRARY_CLIP_LINKS) == 11
    assert all(link.phases or "phase not verified" in link.note for link in LIBRARY_CLIP_LINKS)


# --- queries --------------------------------------------------------------------------------------------------


def test_techniques_loading_the_knee_are_ranked_by_load_then_key_phases(graph: TechniqueGraph) -> None:
    ranked = graph.techniques_loading("Knee")
    assert [r.technique.id for r in ranked] == KNEE_RANKING
    assert [(r.load, r.key_phase_count) for r in ranked] == [
        (3, 3),
        (2, 3),
        (2, 3),
        (2, 2),
        (2, 2),
        (2, 2),
        (1, 2),
        (1, 2),
    ]
    assert ranked[0].key_phases == ("approach", "take_off", "landing")
    assert [r.technique.id for r in graph.techniques_loading("knee", limit=3)] == KNEE_RANKING[:3]
    assert [r.technique.id for r in graph.techniques_loading("left knee")] == KNEE_RANKING
    assert [r.technique.id for r in graph.techniques_loading("neck")] == ["header", "ball_carry", "takedown"]


def test_ranking_ties_fall_to_key_phase_count_then_id(empty_graph: TechniqueGraph, tmp_path: Path) -> None:
    def technique(name: str, load: int, knee_phases: int) -> str:
        phases = "".join(
            f'[[technique.phase]]\nkey = "p{i}"\nname = "P{i}"\ndescription = "d"\nsource = "s"\n'
            + (
                'keys = [{ joint = "knee", metric = "{side}_knee_flexion", role = "r", source = "s" }]\n'
                * (i < knee_phases)
            )
            for i in range(3)
        )
        load_entry = f'[[technique.load]]\njoint = "knee"\nload = {load}\nrationale = "r"\nsource = "s"\n'
        return (
            f'[[technique]]\nid = "{name}"\nsport = "x"\nname = "{name}"\ndescription = "d"\nsource = "s"\n'
            + phases
            + load_entry
        )

    toml = '[[sport]]\nid = "x"\nname = "X"\ndescription = "d"\nsource = "s"\n' + "".join(
        technique(*spec)
        for spec in (("a_low", 1, 3), ("b_tie", 2, 1), ("c_tie", 2, 2), ("a_tie", 2, 1), ("zero", 0, 3))
    )
    path = tmp_path / "content.toml"
    path.write_text(toml, encoding="utf-8")
    empty_graph.load_content(path)
    ranked = empty_graph.techniques_loading("knee")
    assert [(r.technique.id, r.load, r.key_phase_count) for r in ranked] == [
        ("c_tie", 2, 2), ("a_tie", 2, 1), ("b_tie", 2, 1), ("a_low", 1, 3),
    ]  # fmt: skip


def test_clips_showing_a_phase(graph: TechniqueGraph) -> None:
    acceleration = graph.clips_showing("acceleration", technique="sprint")
    assert [(c.clip_id, c.phase, c.frame_range) for c in acceleration] == [("test-start", "acceleration", (3, 40))]
    assert [c.clip_id for c in graph.clips_showing("Maximum velocity", technique="Sprint")] == ["bolt-force-motion"]
    assert [c.clip_id for c in graph.clips_showing("running carry")] == ["lomu"]
    assert graph.clips_showing("flight", technique="long_jump") == ()  # whole-clip links are not phase evidence


def test_faults_linked_to_knee_valgus(graph: TechniqueGraph) -> None:
    by_alias = graph.faults_linked_to("knee valgus")
    assert {f.id for f in by_alias} == KNEE_VALGUS_FAULTS
    assert all("knee_frontal_plane_projection_angle_left" in f.risk_indicators for f in by_alias)
    assert graph.faults_linked_to("knee_frontal_plane_projection_angle_right") == by_alias
    assert {f.id for f in graph.faults_linked_to("stiff landing")} == {
        "long_jump.stiff_landing",
        "header.stiff_landing",
    }
    assert graph.faults_linked_to("asymmetry_peak_hip_extensor_moment_n_m_per_kg") == ()


def test_technique_details_and_phases(graph: TechniqueGraph) -> None:
    details = graph.technique("header")
    assert [p.key for p in details.phases] == ["approach", "take_off", "flight_contact", "landing"]
    assert [p.order for p in details.phases] == [1, 2, 3, 4]
    assert graph.phases("Header") == details.phases
    keys = {(k.joint, k.metric) for k in details.phases[3].keys}
    assert {
        ("left_knee", "left_knee_flexion"),
        ("knee", "peak_knee_flexion_deg"),
        (None, "time_to_peak_knee_flexion_s"),
    } <= keys
    assert {load.joint: load.load for load in details.joint_loads}["neck"] == 2
    assert [f.phase for f in details.faults] == ["take_off", "flight_contact", "landing", "landing", "landing"]
    assert [t.id for t in graph.techniques(sport="athletics")] == ["long_jump", "relay_anchor_leg", "sprint"]


@pytest.mark.parametrize(
    ("query", "name", "listed"),
    [
        (lambda g: g.techniques_loading("elbw"), "elbw", ["knee", "left_knee", "neck"]),
        (lambda g: g.phases("sprnt"), "sprnt", ["sprint", "header"]),
        (lambda g: g.technique("sprnt"), "sprnt", ["sprint", "header"]),
        (lambda g: g.techniques(sport="tennis"), "tennis", ["athletics", "wrestling"]),
        (lambda g: g.clips_showing("top speed"), "top_speed", ["maximum_velocity", "acceleration"]),
        (lambda g: g.clips_showing("flight", technique="sprint"), "flight", ["block_start", "maximum_velocity"]),
        (lambda g: g.faults_linked_to("valgus"), "valgus", ["knee_valgus", "trunk_lateral_lean_peak"]),
    ],
)
def test_unknown_names_raise_not_found_listing_the_valid_ones(
    graph: TechniqueGraph, query: Callable[[TechniqueGraph], object], name: str, listed: list[str]
) -> None:
    with pytest.raises(NotFoundError) as caught:
        query(graph)
    assert caught.value.details["name"] == name
    assert set(listed) <= set(caught.value.details["valid"])
    assert all(valid in caught.value.message for valid in listed)


@pytest.mark.parametrize("blank", ["", "   ", None])
def test_blank_query_strings_are_invalid(graph: TechniqueGraph, blank: str) -> None:
    for query in (graph.techniques_loading, graph.clips_showing, graph.faults_linked_to, graph.phases, graph.technique):
        with pytest.raises(InvalidInputError):
            query(blank)
    with pytest.raises(InvalidInputError, match="limit"):
        graph.techniques_loading("knee", limit=0)


# --- loading, integrity, engines --------------------------------------------------------------------------------


def test_foreign_keys_hold(empty_graph: TechniqueGraph) -> None:
    empty_graph.load_content()
    empty_graph.load_clips(LIBRARY_CLIP_LINKS)
    if empty_graph.engine.dialect.name == "sqlite":
        with empty_graph.engine.connect() as connection:
            assert connection.execute(sa.text("PRAGMA foreign_keys")).scalar_one() == 1
            assert connection.execute(sa.text("PRAGMA foreign_key_check")).all() == []
    with empty_graph.engine.connect() as connection:
        orphan = {
            "technique_id": "no_such",
            "key": "k",
            "name": "n",
            "phase_order": 1,
            "description": "d",
            "source": "s",
        }
        for statement in (PHASES.insert().values(orphan), TECHNIQUES.delete().where(TECHNIQUES.c.id == "sprint")):
            with pytest.raises(sa.exc.IntegrityError), connection.begin():
                connection.execute(statement)


def test_load_clips_checks_and_replaces_links(empty_graph: TechniqueGraph) -> None:
    empty_graph.load_content()
    empty_graph.load_clips(LIBRARY_CLIP_LINKS)
    with pytest.raises(InvalidInputError, match="rugby"):
        empty_graph.load_clips([ClipLink("lomu", "athletics", "ball_carry", (), "wrong sport")])
    with pytest.raises(NotFoundError, match="running_carry"):
        empty_graph.load_clips([ClipLink("lomu", "rugby", "ball_carry", ("scrum",), "unknown phase")])
    with pytest.raises(InvalidInputError, match="twice"):
        empty_graph.load_clips([ClipLink("x", "rugby", "ball_carry", ("contact", "contact"), "twice")])
    with pytest.raises(InvalidInputError, match="frame_range"):
        ClipLink("x", "rugby", "ball_carry", (), "bad range", (5, 2))
    empty_graph.load_clips([ClipLink("lomu", "rugby", "ball_carry", ("contact",), "re-linked")])
    assert empty_graph.clips_showing("running_carry") == ()
    assert [c.note for c in empty_graph.clips_showing("contact")] == ["re-linked"]


def test_content_reload_drops_only_orphaned_clip_links(empty_graph: TechniqueGraph, tmp_path: Path) -> None:
    empty_graph.load_content()
    empty_graph.load_clips(LIBRARY_CLIP_LINKS)
    packaged = (Path(__file__).resolve().parents[2] / "src/spacecomputer/athletes/graph_content.toml").read_text()
    without_wrestling = packaged.replace('sport = "wrestling"', 'sport = "boxing"').replace(
        'id = "takedown"', 'id = "clinch"'
    )
    path = tmp_path / "content.toml"
    path.write_text(without_wrestling, encoding="utf-8")
    loaded = empty_graph.load_content(path)
    assert loaded.dropped_clip_links == ("struggle",)
    assert loaded.rows_per_table["kg_clip_links"] == len(LIBRARY_CLIP_LINKS) - 1


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("load = 3", "load = 4", "0-3"),
        ('risk_indicators = ["trunk_lateral_lean_peak"]', 'risk_indicators = ["trunk_twist"]', "trunk_twist"),
        ('id = "trunk_lateral_lean_peak"', 'id = "elbow_whip"', "not a risk indicator"),
        ('metric = "trunk_flexion"', 'metric = "{side}_trunk_flexion"', "side"),
        ('phase = "acceleration"', 'phase = "blocks"', "blocks"),
        (
            'rationale = "Hip extension and flexion drive every step at high speed."',
            'rationale = "x"\nnote = "y"',
            "unknown",
        ),
        ('rationale = "Hip extension and flexion drive every step at high speed."', 'rationale = ""', "non-empty"),
        ('sport = "rugby"', 'sport = "polo"', "polo"),
        ('key = "acceleration"', 'key = "block_start"', "twice"),
    ],
)
def test_invalid_content_is_rejected_and_leaves_the_graph_unchanged(
    empty_graph: TechniqueGraph, tmp_path: Path, old: str, new: str, message: str
) -> None:
    empty_graph.load_content()
    before = row_counts(empty_graph)
    packaged = (Path(__file__).resolve().parents[2] / "src/spacecomputer/athletes/graph_content.toml").read_text()
    assert old in packaged
    path = tmp_path / "bad.toml"
    path.write_text(packaged.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InvalidInputError, match=message):
        empty_graph.load_content(path)
    assert row_counts(empty_graph) == before


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (None, "URL or a SQLite file"),
        ("  ", "non-empty"),
        ("not a url", "malformed"),
        ("mysql://user:secret@host/db", "mysql"),
        ("sqlite:////no/such/folder/kg.db", "does not exist"),
    ],
)
def test_graph_engine_validates_the_url(url: str | None, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        graph_engine(url)
    assert "secret" not in caught.value.message


def test_an_unreachable_database_is_an_upstream_error() -> None:
    engine = graph_engine("postgresql+psycopg://postgres@127.0.0.1:1/test", connect_args={"connect_timeout": 2})
    with pytest.raises(UpstreamUnavailableError, match="did not answer"):
        TechniqueGraph(engine).sports()
