"""The typed prerequisite graph and the course CLI commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from tutor.curriculum import build_graph, load_course
from tutor.curriculum.graph import prerequisite_view, to_dot, to_node_link

MINI = Path(__file__).parent / "fixtures" / "courses" / "mini" / "mini-course"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tutor", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    return build_graph(load_course(MINI))


def test_typed_nodes(graph: nx.DiGraph) -> None:
    kinds = nx.get_node_attributes(graph, "kind")
    assert kinds["level:intuitive"] == "level"
    assert kinds["concept:lora"] == "concept"
    assert kinds["day:2"] == "day"
    assert kinds["lab:lab-1.1"] == "lab"
    assert kinds["external:llm-fundamentals"] == "external"


def test_typed_edges(graph: nx.DiGraph) -> None:
    assert graph.edges["concept:lora", "concept:qlora"] == {"kind": "prerequisite",
                                                            "strength": "hard"}
    assert graph.edges["external:llm-fundamentals", "concept:peft-intuition"]["kind"] == \
        "prerequisite"
    assert graph.edges["level:conceptual", "concept:lora"]["kind"] == "contains"
    assert graph.edges["day:2", "lab:lab-1.1"]["kind"] == "scheduled_on"
    assert graph.edges["concept:lora", "lab:lab-1.1"]["kind"] == "prerequisite"
    assert graph.edges["level:conceptual", "external:model-compression"]["kind"] == "enables"


def test_prerequisite_order(graph: nx.DiGraph) -> None:
    order = list(nx.topological_sort(prerequisite_view(graph)))
    assert order.index("concept:peft-intuition") < order.index("concept:lora") < \
        order.index("concept:qlora")


def test_node_link_round_trip(graph: nx.DiGraph) -> None:
    data = json.loads(json.dumps(to_node_link(graph)))
    back = nx.node_link_graph(data, edges="links")
    assert set(back.nodes) == set(graph.nodes)
    assert back.number_of_edges() == graph.number_of_edges()


def test_dot_quotes_labels(graph: nx.DiGraph) -> None:
    dot = to_dot(graph)
    assert dot.startswith('digraph "mini-course" {')
    assert '"concept:lora" -> "concept:qlora" [label="prerequisite", style=solid];' in dot


def test_cli_validate_ok_and_summary() -> None:
    r = run_cli("validate", str(MINI), "--quick")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ("ok: mini-course: 2 levels, 3 concepts, 2 days, 1 labs, "
                                "2 questions, 12 edges")


def test_cli_validate_failure_exit_1_no_traceback(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(MINI.parent, tmp_path / "mini")
    (tmp_path / "mini" / "mini-course" / "concepts.yaml").write_text("concepts: [\n")
    r = run_cli("validate", "mini-course", "--quick", cwd=tmp_path / "mini")
    assert r.returncode == 1
    assert "Traceback" not in r.stderr + r.stdout
    assert r.stdout.startswith("mini-course/concepts.yaml:2:1: error: YAML syntax error")


def test_cli_validate_zh(tmp_path: Path) -> None:
    r = run_cli("validate", str(MINI), "--quick", "--lang", "zh-TW")
    assert r.returncode == 0 and r.stdout.startswith("通過：mini-course")


def test_cli_graph_json_and_dot() -> None:
    r = run_cli("--curriculum", str(MINI), "graph", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert {n["id"] for n in data["nodes"]} >= {"concept:lora", "day:1", "lab:lab-1.1"}
    r = run_cli("graph", "--format", "dot", "--curriculum", str(MINI))
    assert r.returncode == 0 and r.stdout.startswith("digraph")


def test_cli_plan() -> None:
    r = run_cli("plan", "--curriculum", str(MINI), "--day", "2", "--json")
    assert r.returncode == 0, r.stderr
    row = json.loads(r.stdout)
    assert row["day"] == 2 and row["labs"] == ["lab-1.1"] and row["level"] == 2
    r = run_cli("plan", "--curriculum", str(MINI), "--day", "9")
    assert r.returncode == 2 and "no day 9" in r.stderr
    r = run_cli("plan", "--curriculum", str(MINI), "--lang", "zh-TW")
    assert "第 2 天" in r.stdout


def test_cli_schema_is_json_schema() -> None:
    r = run_cli("schema")
    assert r.returncode == 0
    schema = json.loads(r.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert "anyOf" in schema


def test_cli_bad_command_line_exit_2() -> None:
    r = run_cli("graph", "--format", "svg")
    assert r.returncode == 2


def test_broken_course_is_reported_by_graph_command(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(MINI.parent, tmp_path / "mini")
    p = tmp_path / "mini" / "mini-course" / "labs.yaml"
    p.write_text(p.read_text().replace("concepts: [lora]", "concepts: [nope]"))
    r = run_cli("graph", "--curriculum", str(tmp_path / "mini" / "mini-course"))
    assert r.returncode == 1
    assert "unknown concept 'nope'" in r.stderr and "Traceback" not in r.stderr


def test_shipped_schema_file_is_current() -> None:
    """schema/course.schema.json (the editors' modeline target) matches `tutor schema`."""
    from tutor.curriculum.schema import schema_dict

    shipped = Path(__file__).resolve().parent.parent / "schema" / "course.schema.json"
    assert json.loads(shipped.read_text(encoding="utf-8")) == schema_dict("all"), \
        "run: python -m tutor schema > schema/course.schema.json"
