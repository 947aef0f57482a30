"""The per-step columns the coach reads (DESIGN.md section 2), plus the one it adds.

Columns from DESIGN.md section 2 (units in the names): ``side``, ``ic_s``, ``to_s``,
``activity``, ``stride_length_m``, ``step_height_m``, ``impact_g``, ``loading_rate_gps``,
``knee_flexion_ic_deg``, ``knee_min_flexion_stance_deg``, ``frontal_range_deg``,
``frontal_wobble_dps``. An empty cell (NaN) means "not measurable with these sensors"; a
rule whose metric is NaN stays silent and lists itself as "not assessed".

Added by the coach (the analysis engine computes it):

``shank_tilt_max_stance_deg``
    The largest FORWARD tilt of the shank from vertical during the stance of this step, in
    degrees: the ankle-bending (dorsiflexion) proxy used for heel lift / stiff ankle.

    Precisely, for each sample from ``ic_s`` to ``to_s`` (both included) of this step:

    1. take the shank's long axis in the world frame, pointing from ankle to knee (from the
       shank orientation estimate, gravity-aligned; heading does not matter);
    2. take the horizontal walking direction of this stride (the direction of the foot's
       horizontal displacement from its previous contact to this contact; if that is not
       available, the direction of the horizontal component of the long axis at mid-swing
       before this contact);
    3. the tilt is ``atan2(a_fwd, a_up)`` in degrees, where ``a_up`` is the long axis'
       vertical component and ``a_fwd`` its component along the walking direction: positive
       when the knee is ahead of the ankle, i.e. the shank leans forward over the foot;
    4. subtract the same angle in quiet standing (the standing pose used to zero the knee
       angles), so 0 = the shank as upright as when standing. This removes strap tilt.

    The column holds the maximum of that angle over the stance samples (it is usually
    reached shortly before the heel rises). Typical use: stair descent, where each step is
    a small single-leg squat and a stiff ankle or early heel rise shows as LESS forward
    tilt than the other leg or earlier sessions. NaN when the stance was not fully seen
    (sensor gap, first/last step) or the shank orientation is not available.
"""

from __future__ import annotations

SHANK_TILT_COLUMN = "shank_tilt_max_stance_deg"

REQUIRED_COLUMNS = ("side", "ic_s", "activity")

METRIC_COLUMNS = (
    "to_s", "stride_length_m", "step_height_m", "impact_g", "loading_rate_gps",
    "knee_flexion_ic_deg", "knee_min_flexion_stance_deg", "frontal_range_deg",
    "frontal_wobble_dps", SHANK_TILT_COLUMN,
)

SIDES = ("left", "right")
ACTIVITIES = ("level", "stairs_up", "stairs_down")

# What each metric is called when speaking to a person (no jargon).
PLAIN_NAMES = {
    "impact_g": "landing impact",
    "loading_rate_gps": "how fast the landing force rose",
    "frontal_range_deg": "side-to-side range of the shin while the foot was down",
    "frontal_wobble_dps": "side-to-side wobble speed of the shin while the foot was down",
    SHANK_TILT_COLUMN: "forward lean of the shin over the planted foot",
    "knee_min_flexion_stance_deg": "knee bend at its straightest while the foot was down",
    "knee_flexion_ic_deg": "knee bend at foot contact",
    "stride_length_m": "stride length",
}

ACTIVITY_WORDS = {"level": "level walking", "stairs_up": "going up stairs",
                  "stairs_down": "going down stairs"}
