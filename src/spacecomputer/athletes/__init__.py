"""The elite athlete library, movement comparison, similarity search and the technique knowledge graph.

- :class:`AthleteLibrary`: the reference clips and their manifest (what is known, what was verified, what is
  not); :func:`analyse_clip` runs the biomechanics engine on one and keeps its scale-free results;
  :func:`add_reference_clip` adds one from a video; :func:`transcode_h264` makes a browser-playable video.
- :class:`Motion`: a run or a clip reduced to what compares across them — joint angles, foot events, the
  angles' measurement uncertainty (:func:`motion_from_run`, :meth:`AthleteLibrary.motion`).
- :func:`compare_motions`: two motions aligned phase by phase (events, then DTW), per-joint differences
  against the combined measurement uncertainty, a similarity score and plain-language findings.
- :class:`TechniqueGraph`: sports → techniques → phases → key joints and metrics → faults → risk indicators,
  with edges to the clips, in the relational store (:func:`open_technique_graph`).
- :class:`SimilarityIndex`: "which reference clip moves most like this?" — a descriptor for the candidates,
  re-ranked by dynamic time warping.
"""

from spacecomputer.athletes._add import MOVEMENTS, add_reference_clip, clip_id_from_name
from spacecomputer.athletes._align import AlignedSegment, Alignment, align_motions, common_angles, match_events
from spacecomputer.athletes._clip_analysis import SCALE_FREE_UNITS, ClipAnalysis, analyse_clip
from spacecomputer.athletes._compare import (
    Comparison,
    ComparisonResult,
    EventDifference,
    Finding,
    JointDifference,
    Similarity,
    compare_motions,
    compare_motions_detailed,
)
from spacecomputer.athletes._graph import TechniqueGraph, graph_engine
from spacecomputer.athletes._graph_default import open_technique_graph
from spacecomputer.athletes._graph_results import (
    LIBRARY_CLIP_LINKS,
    ClipLink,
    ClipShowing,
    ContentLoaded,
    Fault,
    JointLoad,
    Phase,
    PhaseKey,
    Sport,
    Technique,
    TechniqueDetails,
    TechniqueLoading,
)
from spacecomputer.athletes._graph_schema import GRAPH_METADATA
from spacecomputer.athletes._library import AthleteLibrary, bundled_library_dir, clip_motion, user_library_dir
from spacecomputer.athletes._manifest import (
    ClipFileFacts,
    Manifest,
    ManifestEntry,
    describe_clip_file,
    estimated_camera_view,
    pose_discontinuities,
)
from spacecomputer.athletes._motion import (
    COMPARED_ANGLES,
    SAGITTAL_ANGLES,
    Motion,
    MotionEvent,
    mirror_sequence,
    motion_from_sequence,
    robust_landmark_noise,
)
from spacecomputer.athletes._reference import REFERENCE_STATURE_M, ScaledClip, scale_reference_clip
from spacecomputer.athletes._run_motion import load_run_analysis, motion_from_run
from spacecomputer.athletes._search import (
    DESCRIPTOR_ANGLES,
    SearchHit,
    SimilarityIndex,
    motion_descriptor,
    motion_signature,
    signature_descriptor,
)
from spacecomputer.athletes._video import transcode_h264

__all__ = [
    "COMPARED_ANGLES",
    "DESCRIPTOR_ANGLES",
    "GRAPH_METADATA",
    "LIBRARY_CLIP_LINKS",
    "MOVEMENTS",
    "REFERENCE_STATURE_M",
    "SAGITTAL_ANGLES",
    "SCALE_FREE_UNITS",
    "AlignedSegment",
    "Alignment",
    "AthleteLibrary",
    "ClipAnalysis",
    "ClipFileFacts",
    "ClipLink",
    "ClipShowing",
    "Comparison",
    "ComparisonResult",
    "ContentLoaded",
    "EventDifference",
    "Fault",
    "Finding",
    "JointDifference",
    "JointLoad",
    "Manifest",
    "ManifestEntry",
    "Motion",
    "MotionEvent",
    "Phase",
    "PhaseKey",
    "ScaledClip",
    "SearchHit",
    "Similarity",
    "SimilarityIndex",
    "Sport",
    "Technique",
    "TechniqueDetails",
    "TechniqueGraph",
    "TechniqueLoading",
    "add_reference_clip",
    "align_motions",
    "analyse_clip",
    "bundled_library_dir",
    "clip_id_from_name",
    "clip_motion",
    "common_angles",
    "compare_motions",
    "compare_motions_detailed",
    "describe_clip_file",
    "estimated_camera_view",
    "graph_engine",
    "load_run_analysis",
    "match_events",
    "mirror_sequence",
    "motion_descriptor",
    "motion_from_run",
    "motion_from_sequence",
    "motion_signature",
    "open_technique_graph",
    "pose_discontinuities",
    "robust_landmark_noise",
    "scale_reference_clip",
    "signature_descriptor",
    "transcode_h264",
    "user_library_dir",
]
