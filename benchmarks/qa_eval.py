"""Evaluation of the brain (issue 6 §5) on the labelled questions of ``benchmarks/qa/questions.jsonl``.

The sample video is analysed as ``make run`` does (``--height 1.65`` with its calibration), and frames 45–84 of
it as the "other run" of compare_runs questions; every question is asked through :class:`Orchestrator` with its
context (no LLM configured: the local routes). Printed:

- **routing accuracy** and the confusion matrix, expected route (rows) × route taken (columns);
- **exact numbers** on answerable analytics questions naming a metric: every expected metric's value, read from
  the run's own ``analysis.json`` (scalar or risk indicator) or ``metrics.csv`` (column at the labelled row, or its
  max/min/mean/range), is among the answer's facts — equal to the written precision of the fact's display;
- **retrieval** recall@5 and MRR of BM25 alone, dense alone and the hybrid fusion, with each question's retrieval
  query (the question with its entities spelled out), over the questions that list relevant documents;
- **citations** on answers that cite passages: precision = cited passages whose document is labelled relevant,
  recall = labelled documents cited (questions with labelled documents);
- **abstention**: an unanswerable question must get a refusal, a clarification or an answer that gives no value
  (an unavailable metric is answered with the run's reason, a fact without a value); an answerable one must not
  be refused or clarified;
- **validation**: answers that failed their own validation (must be 0);
- **latency** p50/p95 per route (answer cache cleared: every question answered cold), after one warm-up question.

Targets: routing ≥ 95%, look-ups 100% exact, citation precision ≥ 0.95, hybrid recall@5 above both BM25 and dense
alone, local routes p95 < 100 ms.

Run: ``.venv/bin/python benchmarks/qa_eval.py [--work DIR]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.videos writes the short clip

from spacecomputer._outputs import read_metrics_csv  # noqa: E402
from spacecomputer.brain import Answer, Expertise, Orchestrator, QueryContext, Route  # noqa: E402
from spacecomputer.brain._answers import retrieval_query  # noqa: E402
from spacecomputer.knowledge import KnowledgeIndex, MiniLMEmbedder  # noqa: E402
from spacecomputer.pipeline import AnalyzeOptions, analyze_video  # noqa: E402

QUESTIONS = ROOT / "benchmarks" / "qa" / "questions.jsonl"
SAMPLE = ROOT / "data" / "videos" / "sports2d-demo.mp4"
CALIBRATION = ROOT / "data" / "videos" / "sports2d-demo.calib.toml"
ROUTES = [route.value for route in Route]
LOCAL_ROUTES = {"analytics", "local", "clarify", "refusal", "comparison"}


def analysed_runs(work: Path) -> tuple[Path, Path]:
    """Return the sample run and the frames 45–84 run (analysed once, kept in ``work``)."""
    from tests.videos import sample_frames, write_rgb_frames

    sample, short = work / "sample-run", work / "short-run"
    if not (sample / "analysis.json").is_file():
        options = AnalyzeOptions(height_m=1.65, calibration_path=CALIBRATION, overlay=False)
        analyze_video(SAMPLE, options, out_dir=sample)
    if not (short / "analysis.json").is_file():
        clip = write_rgb_frames(work / "short.mp4", sample_frames(85)[45:])
        analyze_video(clip, AnalyzeOptions(height_m=1.65, overlay=False, workers=1), out_dir=short)
    return sample, short


def expected_values(run: Path, expected: dict[str, Any]) -> list[float]:
    """Read the values the labelled metric(s) have in ``run``: scalars, risk indicators, or a metrics.csv column."""
    names = expected["metric"] if isinstance(expected["metric"], list) else [expected["metric"]]
    biomechanics = json.loads((run / "analysis.json").read_text())["biomechanics"]
    scalars = {s["name"]: s["value"] for s in biomechanics["scalars"]}
    risks = {r["name"]: r["value"] for r in biomechanics["risk"]}
    series = read_metrics_csv(run / "metrics.csv")
    values: list[float] = []
    for name in names:
        if name in scalars:
            values.append(float(scalars[name]))
        elif name in risks:
            values.append(float(risks[name]))
        else:
            column = np.asarray(series[name], dtype=np.float64)
            statistic, row = expected["statistic"], expected["row"]
            if statistic == "value" or row is not None:
                values.append(float(column[row]))
            else:
                reduce = {"max": np.nanmax, "min": np.nanmin, "mean": np.nanmean}.get(statistic)
                values.append(float(np.nanmax(column) - np.nanmin(column)) if reduce is None else float(reduce(column)))
    return values


def decimals(display: str) -> int:
    """Count the decimals of the first number written in ``display``."""
    token = next((t for t in display.replace("−", "-").split() if any(c.isdigit() for c in t)), "0")
    digits = "".join(c for c in token if c.isdigit() or c == ".")
    return len(digits.split(".")[1]) if "." in digits else 0


def exact(answer: Answer, values: list[float], names: list[str]) -> bool:
    """Whether every expected value is a fact of the answer, to the precision the fact displays.

    A ``…_time_s`` metric (the time of an extreme) may be the time of the fact that states the extreme.
    """
    for value, name in zip(values, names, strict=True):
        if math.isnan(value):
            return False
        found = any(
            fact.value is not None and abs(fact.value - value) <= 0.5 * 10.0 ** -decimals(fact.display) + 1e-9
            for fact in answer.facts
        ) or (
            name.endswith("_time_s")
            and any(fact.time_s is not None and abs(fact.time_s - value) <= 0.005 + 1e-9 for fact in answer.facts)
        )
        if not found:
            return False
    return True


def retrieval_scores(index: KnowledgeIndex, orchestrator: Orchestrator, items: list[dict[str, Any]]) -> None:
    """Print recall@5 and MRR of each retrieval mode over the questions with labelled documents."""
    print("\nretrieval over", sum(1 for q in items if q["expected"]["docs"]), "questions with labelled documents")
    print(f"{'mode':8} {'recall@5':>9} {'MRR':>6}")
    for mode in ("bm25", "dense", "hybrid"):
        recalls, ranks = [], []
        for item in items:
            relevant = set(item["expected"]["docs"])
            if not relevant:
                continue
            parsed = orchestrator.parse(item["question"], context_of(item))
            docs = [p.doc_id for p in index.search(retrieval_query(parsed), k=5, mode=mode)]  # type: ignore[arg-type]
            recalls.append(len(relevant & set(docs)) / len(relevant))
            first = next((i + 1 for i, d in enumerate(docs) if d in relevant), None)
            ranks.append(1.0 / first if first else 0.0)
        print(f"{mode:8} {np.mean(recalls):9.3f} {np.mean(ranks):6.3f}")


def context_of(item: dict[str, Any]) -> QueryContext:
    """Build the question's context as the orchestrator takes it."""
    context = item["context"]
    return QueryContext(
        analysis_id="sample-run",
        frame=context["frame"],
        joint=context["joint"],
        expertise=Expertise(context["expertise"]),
    )


def main() -> None:
    """Analyse the runs, ask every question, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=None, help="Folder for the analysed runs (kept between runs).")
    args = parser.parse_args()
    work = args.work or Path(tempfile.gettempdir()) / "spacecomputer-qa-eval"
    work.mkdir(parents=True, exist_ok=True)
    sample, short = analysed_runs(work)
    items = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    index = KnowledgeIndex(work / "knowledge", MiniLMEmbedder())
    index.sync_shipped()
    orchestrator = Orchestrator(index)
    orchestrator.ask("What was my jump height?", sample)  # warm-up: models, library, run facts loaded
    confusion: Counter[tuple[str, str]] = Counter()
    latencies: dict[str, list[float]] = {}
    lookups = exact_hits = 0
    precision, recall = [], []
    abstain_right = answer_right = unanswerable = answerable = failures = 0
    wrong: list[str] = []
    for item in items:
        orchestrator._cache.clear()  # every question cold
        other = short if item["expected"].get("other_run") == "short-run" else None
        started = time.perf_counter()
        answer = orchestrator.ask(item["question"], sample, context=context_of(item), compare_with=other)
        latencies.setdefault(answer.route.value, []).append((time.perf_counter() - started) * 1000)
        confusion[(item["route"], answer.route.value)] += 1
        if item["route"] != answer.route.value:
            wrong.append(f"{item['id']} expected {item['route']}, got {answer.route.value}: {item['question']}")
        failures += not answer.validation.passed
        if not answer.validation.passed:
            wrong.append(f"{item['id']} validation {answer.validation}: {answer.text[:200]}")
        expected = item["expected"]
        if item["answerable"] and item["route"] == "analytics" and expected["metric"]:
            lookups += 1
            names = expected["metric"] if isinstance(expected["metric"], list) else [expected["metric"]]
            ok = exact(answer, expected_values(sample, expected), names)
            exact_hits += ok
            if not ok:
                wrong.append(f"{item['id']} numbers: {answer.text[:160]}")
        cited = {c.reference.split("#")[0] for c in answer.citations if c.kind == "passage"}
        if cited and expected["docs"]:
            precision.append(len(cited & set(expected["docs"])) / len(cited))
            recall.append(len(cited & set(expected["docs"])) / len(set(expected["docs"])))
            if cited - set(expected["docs"]):
                extra = ", ".join(sorted(cited - set(expected["docs"])))
                wrong.append(f"{item['id']} cites {extra} ({answer.route.value}): {item['question']}")
        abstained = answer.route in {Route.REFUSAL, Route.CLARIFY} or not any(
            fact.value is not None for fact in answer.facts
        )
        if item["answerable"]:
            answerable += 1
            answer_right += answer.route not in {Route.REFUSAL, Route.CLARIFY}
            if answer.route in {Route.REFUSAL, Route.CLARIFY}:
                wrong.append(f"{item['id']} answerable but {answer.route.value}: {answer.text[:120]}")
        else:
            unanswerable += 1
            abstain_right += abstained
            if not abstained:
                wrong.append(f"{item['id']} unanswerable but answered ({answer.route.value}): {answer.text[:120]}")
    routed = sum(n for (e, g), n in confusion.items() if e == g)
    print(f"questions: {len(items)}")
    print(f"routing accuracy: {routed / len(items):.3f} ({routed}/{len(items)})  target >= 0.95")
    print("confusion (rows: expected, columns: taken)")
    print(" " * 11 + "".join(f"{r[:9]:>10}" for r in ROUTES))
    for expected_route in ROUTES:
        print(f"{expected_route:11}" + "".join(f"{confusion[(expected_route, r)]:10d}" for r in ROUTES))
    print(f"exact numbers on metric look-ups: {exact_hits}/{lookups}  target 100%")
    print(f"citation precision: {np.mean(precision):.3f}  recall: {np.mean(recall):.3f}  ({len(precision)} answers)")
    print(
        f"abstention: unanswerable abstained {abstain_right}/{unanswerable}; answerable answered "
        f"{answer_right}/{answerable}"
    )
    print(f"answers failing their own validation: {failures}")
    print(f"\n{'route':11} {'n':>4} {'p50 ms':>8} {'p95 ms':>8}")
    for route, values in sorted(latencies.items()):
        print(f"{route:11} {len(values):4d} {np.percentile(values, 50):8.1f} {np.percentile(values, 95):8.1f}")
    local = [v for r, vs in latencies.items() if r in LOCAL_ROUTES - {"comparison"} for v in vs]
    print(f"local routes (analytics, local, clarify, refusal) p95: {np.percentile(local, 95):.1f} ms  target < 100 ms")
    retrieval_scores(index, orchestrator, items)
    if wrong:
        print("\nmisses:")
        for line in wrong:
            print("  " + line)


if __name__ == "__main__":
    main()
