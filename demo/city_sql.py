"""The SQL that writes the synthetic city (``demo.city``): set-based, one chunk per transaction.

Over 500 lines on purpose: the SQL of one plan, an ``INSERT`` per step of a case's history,
whose draws (``UNIFORMS``) and plan columns must agree across the whole file.

How a chunk is written
    1. ``xn_plan``: one row per case, made by PostgreSQL from ``generate_series`` over the
       chunk's days. Each case's whole history is decided there: where and when it was raised,
       the category, channel and urgency, the path it takes (不予受理, 即时办结, 退回, 延期,
       进展, 督办, 重办 …), the time of every step, the deadlines, and ``last_ord``, the last
       step that had happened by now. The plan is a chain of subqueries (``LEVELS``), each
       adding the columns that depend on the ones before; ``OFFSET 0`` keeps PostgreSQL from
       folding them into one expression that would compute early values again and again.
    2. ``xn_seq``: the number each day of the chunk had before it, reserved in
       ``DailySequence`` just before the chunk's transaction (``RESERVE``, one upsert), like
       its block of case ids (``%(id0)s`` on: the plan numbers its cases in the order they
       were submitted).
    3. The cases, then one ``INSERT … SELECT`` per event step (``EVENTS``) over the plan, in
       the order of the steps, so a case's events get ids in the order they happened; then
       the evaluations, extension requests, 督办 orders and co-unit links.

Randomness
    ``xn_u(g, k)`` is a uniform number in [0, 1) hashed from the run's seed, the case's index
    ``g`` in the run's timeline and the draw's number ``k`` (``UNIFORMS``), so every value of a
    case is reproducible without storing it, and the case row and its events agree on every
    draw (the reply text on the case is the one in its reply event).

Time and the holiday calendar
    Times are whole seconds since 1970 (``bigint``), turned into ``timestamptz`` on insert.
    Urgent matters (clock-hour deadlines: heating, water, gas, power) run in clock time. The
    others run in *working-second positions*: position ``p`` is the ``p``-th second of office
    hours counted from the calendar's first day (seven office hours a working day, on the
    ``cases.sla`` calendar with its holidays and 调休 days). A step that a unit takes "x
    working seconds later" is ``p + x``, which always falls in office hours; a deadline of
    N working hours is ``p + N·3600``, of N working days ``W·(working day of p + N)``, which is
    exactly what ``cases.sla.WorkCalendar.add`` computes. ``xn_pos`` / ``xn_at`` / ``xn_end``
    convert between epoch seconds and positions with the calendar held in constant arrays;
    they are SQL functions PostgreSQL inlines when their arguments are plain columns, which is
    why the plan is built in levels.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from .catalogue import GAS_LEAK, RARE_EMERGENCIES
from .vocabulary import (
    APPOINTMENT_NOTE,
    DISPATCH_NOTE,
    NOT_EVALUATED_NOTE,
    REFUSAL_NOTE,
    REVIEWED_NOTE,
    UNREASONABLE_NOTE,
)


def _literal(text: str) -> str:
    """A fixed text of ``demo.vocabulary`` as an SQL string literal (the one source of the
    notes the simulator writes too)."""
    return "'" + text.replace("'", "''") + "'"


UNIFORMS: tuple[str, ...] = (
    # where and when
    "today", "hour", "second", "place", "heat", "cat", "channel", "urgency", "urgency2",
    "stuck", "stuck_status",
    # the path
    "intake", "lead2", "co", "complex", "returned", "ext", "approve", "prog", "sup", "ne1",
    "cb1", "outcome1", "rating1", "outcome2", "cb2", "ne2", "c2", "rating2", "unreasonable",
    "close_disp", "reopen",
    # the times
    "dphone", "accept_late", "accept_t", "d1", "d2", "d3", "sign_on", "sign_t", "contact_on",
    "contact_t", "req_t", "dec_t", "ext_days", "reply_on", "reply_t", "reply_tail", "tail_size",
    "prog_t", "sup_t", "ev1_t", "reopen_t", "close1_t", "c2_t", "reply2_on", "reply2_t",
    "reply2_tail", "ev2_t", "close2_t", "ne_t1", "ne_t2",
    # the words
    "tpl", "addr1", "addr2", "addr3", "addr4", "compound", "temp", "days", "hours", "floor",
    "years", "time", "surname", "gender", "prefix", "phone", "latlng", "lat", "lng", "hide",
    "intake_actor", "reject_reason", "intake_reply", "dispatch_note", "return_reason",
    "method", "contact_note", "ext_reason", "prog_text", "sup_note", "reply_text1",
    "reply_text2", "comment1", "comment2", "reopen_reason", "c2_method", "c2_note", "road",
    "money",
)  # fmt: skip
P_STUCK = 0.02  # cases that never get further (see STUCK)
STUCK = [("accepted", 8), ("dispatched", 4), ("handling", 55), ("evaluated", 13), ("review", 20)]
REJECT_PHONE, REJECT_WEB = 0.022, 0.03
MAX_ORD = {
    "submitted": 1,
    "accepted": 2,
    "dispatched": 5,
    "handling": 11,
    "replied": 12,
    "evaluated": 13,
    "review": 17,
}


def placeholders(text: str) -> str:
    """A demo template with its ``{addr}``-style fields as «addr» (the SQL replaces those)."""
    return text.replace("{", "«").replace("}", "»")


def _pick(u: str, choices: Iterable[tuple[str, float]]) -> str:
    """A weighted choice among string literals, by the uniform draw ``u``."""
    pairs = list(choices)
    total = sum(weight for _value, weight in pairs)
    arms, running = [], 0.0
    for value, weight in pairs[:-1]:
        running += weight / total
        arms.append(f"WHEN {u} < {running:.6f} THEN '{value}'")
    return f"CASE {' '.join(arms)} ELSE '{pairs[-1][0]}' END"


class _Context(dict):  # type: ignore[type-arg]
    """``str.format_map`` context: constants, and ``u_<name>`` for the uniform draw."""

    def __missing__(self, key: str) -> str:
        if key.startswith("u_"):
            return f"pg_temp.xn_u(g, {UNIFORMS.index(key[2:])})"
        raise KeyError(key)


def _sql(template: str, ctx: dict[str, Any]) -> str:
    return template.format_map(ctx)


# --- the session's helpers -----------------------------------------------------------------------


def _int_array(values: list[int]) -> str:
    return "'{" + ",".join(str(v) for v in values) + "}'::int[]"


TABLES: dict[str, list[tuple[str, str]]] = {
    "xn_place": [
        ("slot", "int PRIMARY KEY"), ("region_id", "bigint"), ("district_id", "bigint"),
        ("street_id", "bigint"), ("rural", "boolean"), ("name", "text"), ("compound", "text"),
        ("compound_b", "text"), ("lat0", "float8"), ("lng0", "float8"),
    ],
    "xn_hour": [("slot", "int PRIMARY KEY"), ("hour", "int")],
    "xn_cat": [("kind", "text"), ("slot", "int"), ("category_id", "bigint")],
    "xn_catinfo": [
        # lead_cat: the category whose rows of xn_lead it takes (the same 权责清单 rules)
        ("category_id", "bigint PRIMARY KEY"), ("lead_cat", "bigint"), ("code", "text"),
        ("cat_name", "text"), ("clock", "boolean"), ("urgent_cat", "boolean"),
        ("a_amount", "int"), ("a_unit", "text"), ("c_amount", "int"), ("c_unit", "text"),
        ("r_amount", "int"), ("r_unit", "text"), ("x_amount", "int"), ("x_unit", "text"),
        ("complex_share", "float8"), ("consult", "boolean"), ("hard", "boolean"),
        ("reply_grp", "text"), ("grid_ok", "boolean"), ("n_tpl", "int"),
    ],
    "xn_tpl": [("category_id", "bigint"), ("i", "int"), ("title", "text"), ("body", "text")],
    "xn_lead": [
        ("category_id", "bigint"), ("region_id", "bigint"), ("level1", "int"),
        ("lead1", "bigint"), ("lead1_name", "text"), ("h1", "bigint"), ("co1", "jsonb"),
        ("co1_names", "jsonb"), ("lead2", "bigint"), ("lead2_name", "text"), ("h2", "bigint"),
        ("co2", "jsonb"), ("co2_names", "jsonb"), ("wrong1", "bigint"), ("wrong1_name", "text"),
        ("hw1", "bigint"),
    ],
    "xn_staff": [
        ("region_id", "bigint PRIMARY KEY"), ("op_id", "bigint"), ("dr_id", "bigint"),
        ("dd_id", "bigint"), ("sv_id", "bigint"),
    ],
}  # fmt: skip
INDEXES = [
    "CREATE UNIQUE INDEX ON xn_cat (kind, slot)",
    "CREATE UNIQUE INDEX ON xn_tpl (category_id, i)",
    "CREATE UNIQUE INDEX ON xn_lead (category_id, region_id)",
]
FUNCTIONS = (
    "xn_u", "xn_pos", "xn_at", "xn_end", "xn_seq", "xn_wdays", "xn_iso", "xn_texts", "xn_pick",
)  # fmt: skip


def setup_statements(
    ctx: dict[str, Any], tables: dict[str, list[tuple[Any, ...]]]
) -> Iterator[tuple[str, list[Any] | None]]:
    """(statement, params): the temporary functions and lookup tables of this session."""
    yield from ((statement, None) for statement in teardown_statements())
    yield from ((statement, None) for statement in _functions(ctx))
    for name, columns in TABLES.items():
        yield f"CREATE TEMP TABLE {name} ({', '.join(f'{c} {t}' for c, t in columns)})", None
        rows = tables[name]
        if not rows:
            continue
        names = [c for c, _t in columns]
        types = [t.split()[0] for _c, t in columns]
        # Every column travels as a text array and is cast back: one statement per table.
        select = ", ".join(f"{c}::{t}" for c, t in zip(names, types, strict=True))
        unnest = ", ".join("%s::text[]" for _c in names)
        yield (
            f"INSERT INTO {name} SELECT {select} FROM unnest({unnest}) AS u({', '.join(names)})",  # noqa: S608 - names are constants
            [[None if row[i] is None else str(row[i]) for row in rows] for i in range(len(names))],
        )
    yield from ((statement, None) for statement in INDEXES)
    yield "CREATE TEMP TABLE xn_seq (day date PRIMARY KEY, base int)", None
    for name in TABLES:
        yield f"ANALYZE {name}", None


def teardown_statements() -> list[str]:
    return [
        "DROP TABLE IF EXISTS xn_plan, xn_seq, " + ", ".join(TABLES),
        *(f"DROP FUNCTION IF EXISTS pg_temp.{name} CASCADE" for name in FUNCTIONS),
    ]


def _functions(ctx: dict[str, Any]) -> list[str]:
    """The calendar, the random draw and two text helpers, as inlinable SQL functions."""
    w = ctx["l1"] + ctx["l2"]  # working seconds in a working day
    off, base, o1, o2 = ctx["off"], ctx["base_day"], ctx["o1"], ctx["o2"]
    l1, l2 = ctx["l1"], ctx["l2"]
    seq, workday, days = (_int_array(ctx[k]) for k in ("seq", "workday", "days"))
    index = f"((e + {off}) / 86400 - {base} + 1)::int"
    second = f"mod(e + {off}, 86400)"
    end = o2 + ctx["l2"]
    texts = json.dumps(ctx["texts"], ensure_ascii=False).replace("'", "''")
    head = "CREATE FUNCTION pg_temp"
    return [
        # A uniform draw in [0, 1): 53 bits of a seeded hash of the case index and the draw.
        f"""{head}.xn_u(g bigint, k int) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
            SELECT (hashint8extended(g, {ctx["seed"]}::bigint * 1000 + k)
                    & 9007199254740991)::float8 / 9007199254740992.0 $$""",
        # Epoch seconds → working-second position (a moment out of office hours counts as the
        # start of the next office period).
        f"""{head}.xn_pos(e bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
            SELECT {w}::bigint * (({seq})[{index}] - ({workday})[{index}])
                   + ({workday})[{index}] * (least(greatest({second} - {o1}, 0), {l1})
                                              + least(greatest({second} - {o2}, 0), {l2})) $$""",
        # Position → epoch seconds of the moment a step at that position happens.
        f"""{head}.xn_at(p bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
            SELECT ({base}::bigint + ({days})[(p / {w})::int + 1]) * 86400 - {off}
                   + CASE WHEN mod(p, {w}) < {l1} THEN {o1} + mod(p, {w})
                          ELSE {o2} + mod(p, {w}) - {l1} END $$""",
        # Position → epoch seconds of a deadline: the earliest moment the time is used up
        # (two working hours from 10:00 end at 12:00, not at 13:30), as cases.sla counts.
        f"""{head}.xn_end(p bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
            SELECT ({base}::bigint + ({days})[((p + {w} - 1) / {w})::int]) * 86400 - {off}
                   + CASE WHEN p - {w} * ((p + {w} - 1) / {w} - 1) <= {l1}
                          THEN {o1} + p - {w} * ((p + {w} - 1) / {w} - 1)
                          ELSE {o2} + p - {w} * ((p + {w} - 1) / {w} - 1) - {l1} END $$""",
        # The number of working days up to and including the local day of ``e``.
        f"""{head}.xn_seq(e bigint) RETURNS int LANGUAGE sql IMMUTABLE AS $$
            SELECT ({seq})[{index}] $$""",
        # The end of office hours on the k-th working day after the local day of ``e``.
        f"""{head}.xn_wdays(e bigint, k int) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
            SELECT ({base}::bigint + ({days})[({seq})[{index}] + k]) * 86400 - {off} + {end} $$""",
        # What datetime.isoformat() writes for a local time (payloads keep deadlines as text).
        f"""{head}.xn_iso(e bigint) RETURNS text LANGUAGE sql STABLE AS $$
            SELECT to_char(to_timestamp(e + {off}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
                   || '{ctx["off_text"]}' $$""",
        f"""{head}.xn_texts() RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
            SELECT '{texts}'::jsonb $$""",
        # One element of a JSON array of texts, by a uniform draw.
        f"""{head}.xn_pick(a jsonb, u float8) RETURNS text LANGUAGE sql IMMUTABLE AS $$
            SELECT a ->> floor(u * jsonb_array_length(a))::int $$""",
    ]


# --- the plan ------------------------------------------------------------------------------------

BASE = """
SELECT gs.g, d.dix, d.heat, st.status AS steer,
       CASE WHEN st.sg IS NOT NULL THEN {now} - st.age
            WHEN d.dix = {today_dix}
                 THEN {today_start} + floor({u_today} * ({now} - {today_start}))::bigint
            ELSE ({base_day}::bigint + d.dix) * 86400 - {off} + h.hour * 3600
                 + floor({u_second} * 3600)::bigint
       END AS created,
       p.region_id, p.district_id, p.street_id, p.rural, p.name AS place_name, p.compound,
       p.compound_b, p.lat0, p.lng0,
       CASE WHEN st.sg IS NOT NULL THEN %(steer_cat)s::bigint ELSE c.category_id END
           AS category_id,
       CASE WHEN st.sg IS NOT NULL THEN 'phone' ELSE {channel_pick} END AS channel0
FROM unnest(%(dix)s::int[], %(g0)s::bigint[], %(g1)s::bigint[], %(heat)s::float8[])
         AS d(dix, g0, g1, heat)
CROSS JOIN LATERAL generate_series(d.g0, d.g1 - 1) AS gs(g)
JOIN xn_hour h ON h.slot = floor({u_hour} * 1000)::int
JOIN xn_place p ON p.slot = floor({u_place} * {place_slots})::int
JOIN xn_cat c ON c.slot = floor({u_cat} * 1000)::int AND c.kind = CASE
         WHEN {heating} AND {u_heat} * (d.heat + CASE WHEN p.rural THEN {base_village}
                                                      ELSE {base_city} END) < d.heat
             THEN 'heat'
         WHEN p.rural THEN 'village' ELSE 'city' END
LEFT JOIN unnest(%(steer_g)s::bigint[], %(steer_status)s::text[], %(steer_age)s::bigint[])
         AS st(sg, status, age) ON st.sg = gs.g
"""

JOINED = """
SELECT l.*, ci.code, ci.cat_name, ci.clock, ci.urgent_cat, ci.a_amount, ci.a_unit, ci.c_amount,
       ci.c_unit, ci.r_amount, ci.r_unit, ci.x_amount, ci.x_unit, ci.complex_share, ci.consult,
       ci.hard, ci.reply_grp, ci.n_tpl, ld.level1, ld.lead1, ld.lead1_name, ld.h1, ld.co1,
       ld.co1_names, ld.lead2, ld.lead2_name, ld.h2, ld.co2, ld.co2_names, ld.wrong1,
       ld.wrong1_name, ld.hw1, s.op_id, s.dr_id, s.dd_id, s.sv_id,
       CASE WHEN l.channel0 = 'grid' AND NOT ci.grid_ok THEN 'phone' ELSE l.channel0 END
           AS channel
FROM ({inner} OFFSET 0) AS l
JOIN xn_catinfo ci ON ci.category_id = l.category_id
LEFT JOIN xn_lead ld ON ld.category_id = ci.lead_cat AND ld.region_id = l.region_id
LEFT JOIN xn_staff s ON s.region_id = l.region_id
"""


def _deadline(tau: str, amount: str, unit: str, cap: int) -> str:
    """A deadline ``amount`` ``unit`` after the step at ``tau``, in the case's own time
    (epoch seconds for clock-time cases, a working-second position for the others); 特急
    cases are capped at ``cap`` seconds (cases.sla)."""
    clock = f"{tau} + {amount}::bigint * CASE {unit} WHEN 'clock_minutes' THEN 60 ELSE 3600 END"
    return f"""CASE WHEN {amount} = 0 THEN {tau}
        WHEN clock THEN CASE WHEN urgency = 'emergency' THEN least({clock}, {tau} + {cap})
                             ELSE {clock} END
        WHEN {unit} = 'working_hours' THEN {tau} + {amount}::bigint * 3600
        ELSE {{w}}::bigint * ({tau} / {{w}} + 1 + {amount}) END"""


def _reply(prev: str, deadline: str, on: str, u: str, tail: str, size: str) -> str:
    """When the unit replies: most well before the deadline (skewed early), the late ones
    an exponential while after it, a few much later (as the demo cases)."""
    late = "CASE WHEN clock THEN 27000 ELSE 2.5 * {w} END"
    return f"""CASE WHEN ({on}) AND {deadline} > {prev}
            THEN {prev} + greatest(60, floor(({deadline} - {prev})
                                             * (0.05 + 0.9 * {u} ^ 2)))::bigint
        ELSE greatest({prev}, {deadline}) + 600 + floor(({late}) * CASE
            WHEN {tail} < 0.05 THEN 4 + 20 * {size} ELSE -ln(1 - {u}) END)::bigint END"""


def _conv(tau: str) -> str:
    """A step's time in epoch seconds."""
    return f"CASE WHEN clock THEN {tau} ELSE pg_temp.xn_at({tau}) END"


def _due(deadline: str) -> str:
    """A deadline's time in epoch seconds."""
    return f"CASE WHEN clock THEN {deadline} ELSE pg_temp.xn_end({deadline}) END"


OUTCOMES_FIRST = _pick("{u_outcome1}", [("resolved", 82), ("partly", 9), ("explained", 9)])
OUTCOMES_HARD = _pick("{u_outcome1}", [("resolved", 60), ("partly", 20), ("explained", 20)])
RATINGS = {
    "resolved": [("satisfied", 76), ("basically_satisfied", 17), ("unsatisfied", 7)],
    "partly": [("satisfied", 42), ("basically_satisfied", 36), ("unsatisfied", 22)],
    "explained": [("satisfied", 42), ("basically_satisfied", 38), ("unsatisfied", 20)],
}
REJECT_REASONS = [("out_of_scope", 55), ("insufficient", 40), ("malicious", 5)]
RATINGS_AGAIN = [("satisfied", 55), ("basically_satisfied", 30), ("unsatisfied", 15)]

# Each level: the columns it adds, computed from the columns of the levels before it.
LEVELS: list[list[str]] = [
    [
        "channel IN ('phone', 'walk_in', 'grid') AS phone_like",
        f"""CASE WHEN code = '{GAS_LEAK}' THEN CASE WHEN {{u_urgency}} < 0.5 THEN 'emergency'
                                                ELSE 'urgent' END
                WHEN urgent_cat AND {{u_urgency}} < 0.3 THEN 'urgent'
                WHEN code IN ({", ".join(f"'{c}'" for c in RARE_EMERGENCIES)})
                     AND {{u_urgency2}} < 0.05 THEN 'emergency'
                ELSE 'normal' END AS urgency""",
        f"""CASE WHEN steer IS NOT NULL THEN steer
                 WHEN {{u_stuck}} < {P_STUCK} THEN {_pick("{u_stuck_status}", STUCK)}
            END AS stop""",
    ],
    [
        # 接: a few are refused, consultations are mostly answered on the spot.
        f"""CASE WHEN stop IS NOT NULL AND stop <> 'submitted' THEN 'accept'
                 WHEN phone_like THEN CASE
                     WHEN {{u_intake}} < {REJECT_PHONE} THEN 'reject'
                     WHEN {{u_intake}} < {REJECT_PHONE}
                                        + CASE WHEN consult THEN 0.75 ELSE 0.04 END
                         THEN 'intake'
                     ELSE 'accept' END
                 ELSE CASE WHEN {{u_intake}} < {REJECT_WEB} THEN 'reject'
                           WHEN consult AND {{u_intake}} < 0.3 THEN 'intake'
                           ELSE 'accept' END
            END AS decision""",
        "lead2 IS NOT NULL AND steer IS NULL AND {u_lead2} < 0.1 AS use2",
    ],
    [
        "CASE WHEN use2 THEN lead2 ELSE lead1 END AS lead_id",
        "CASE WHEN use2 THEN lead2_name ELSE lead1_name END AS lead_name",
        "CASE WHEN use2 THEN h2 ELSE h1 END AS hl",
        """CASE WHEN {u_co} >= 0.6 THEN '[]'::jsonb WHEN use2 THEN co2 ELSE co1 END AS co_ids""",
        """CASE WHEN {u_co} >= 0.6 THEN '[]'::jsonb WHEN use2 THEN co2_names ELSE co1_names END
               AS co_names""",
        "CASE WHEN use2 THEN lead1 ELSE wrong1 END AS wrong_id",
        "CASE WHEN use2 THEN lead1_name ELSE wrong1_name END AS wrong_name",
        "CASE WHEN use2 THEN h1 ELSE hw1 END AS hw",
        """decision = 'accept' AND NOT urgent_cat AND steer IS NULL
               AND {u_complex} < complex_share AS complex""",
        "decision = 'accept' AND lead1 IS NOT NULL AS path_dispatch",
        f"{_pick('{u_reject_reason}', REJECT_REASONS)} AS reject_reason",
        f"""CASE WHEN decision = 'intake' THEN 'resolved' WHEN hard THEN {OUTCOMES_HARD}
                 ELSE {OUTCOMES_FIRST} END AS outcome1""",
    ],
    [
        """path_dispatch AND steer IS NULL AND stop IS NULL AND wrong_id IS NOT NULL
               AND wrong_id <> lead_id AND {u_returned} < 0.03 AS returned""",
        """path_dispatch AND NOT clock AND steer IS NULL
               AND {u_ext} < CASE WHEN complex THEN 0.25 ELSE 0.04 END AS ext""",
        "{u_approve} < 0.85 AS approve",
        "path_dispatch AND NOT clock AND steer IS NULL AND {u_prog} < 0.3 AS prog",
        "path_dispatch AND steer IS NULL AND {u_sup} < 0.4 AS sup_c",
        """steer IS NULL AND coalesce(stop NOT IN ('evaluated', 'review'), true)
               AND {u_ne1} < 0.08 AS ne1""",
        "phone_like OR {u_cb1} < 0.4 AS cb1",
        f"""CASE WHEN stop = 'review' THEN 'unsatisfied'
                 WHEN steer = 'evaluated' THEN 'satisfied'
                 WHEN outcome1 = 'resolved' THEN {_pick("{u_rating1}", RATINGS["resolved"])}
                 WHEN outcome1 = 'partly' THEN {_pick("{u_rating1}", RATINGS["partly"])}
                 ELSE {_pick("{u_rating1}", RATINGS["explained"])} END AS rating1""",
        f"""{_pick("{u_outcome2}", [("resolved", 85), ("partly", 10), ("explained", 5)])}
               AS outcome2""",
        "phone_like OR {u_cb2} < 0.4 AS cb2",
        "steer IS NULL AND coalesce(stop, '') <> 'review' AND {u_ne2} < 0.08 AS ne2",
        "{u_c2} < 0.5 AS c2",
        f"""CASE WHEN stop = 'review' THEN 'unsatisfied'
                 ELSE {_pick("{u_rating2}", RATINGS_AGAIN)} END AS rating2""",
        "{u_unreasonable} < 0.5 AS unreasonable",
        "{u_close_disp} < 0.5 AS close_disp",
        "created + 60 + floor({u_dphone} * 840)::bigint AS e_phone",
        "pg_temp.xn_pos(created) AS pc",
    ],
    [
        # 重办: an unsatisfied case goes back to its unit, most of the time.
        """path_dispatch AND rating1 = 'unsatisfied'
               AND (stop = 'review' OR (steer IS NULL AND {u_reopen} < 0.6)) AS reopen""",
        "pg_temp.xn_pos(e_phone) AS pi_phone",
        # 受理时限 from submission, in epoch seconds (ab) and as a position (p_ab).
        """CASE WHEN a_amount = 0 THEN created
                WHEN urgency = 'emergency' THEN least(created + 7200, CASE a_unit
                    WHEN 'clock_minutes' THEN created + a_amount * 60
                    WHEN 'clock_hours' THEN created + a_amount * 3600
                    WHEN 'working_hours' THEN pg_temp.xn_end(pc + a_amount * 3600)
                    ELSE pg_temp.xn_wdays(created, a_amount) END)
                ELSE CASE a_unit
                    WHEN 'clock_minutes' THEN created + a_amount * 60
                    WHEN 'clock_hours' THEN created + a_amount * 3600
                    WHEN 'working_hours' THEN pg_temp.xn_end(pc + a_amount * 3600)
                    ELSE pg_temp.xn_wdays(created, a_amount) END
           END AS ab""",
        """CASE WHEN a_unit = 'working_days'
                    THEN {w}::bigint * (pg_temp.xn_seq(created) + a_amount)
                ELSE pc + a_amount * 3600 END AS p_ab""",
    ],
    [
        # 接: the hotline registers a call at once, round the clock; the web queue is worked
        # within the accept deadline, a few late.
        """CASE WHEN phone_like THEN CASE WHEN clock THEN e_phone ELSE pi_phone END
                WHEN clock THEN CASE WHEN {u_accept_late} < 0.95
                    THEN created + greatest(30, floor((ab - created)
                                                      * (0.03 + 0.87 * {u_accept_t})))::bigint
                    ELSE ab + 600 + floor({u_accept_t} * 21000)::bigint END
                ELSE CASE WHEN {u_accept_late} < 0.95
                    THEN pc + greatest(30, floor((p_ab - pc)
                                                 * (0.03 + 0.87 * {u_accept_t})))::bigint
                    ELSE p_ab + 600 + floor({u_accept_t} * 21000)::bigint END
           END AS t_in""",
    ],
    [
        # 派单 to a unit that sends it back (退回), then to the right one.
        "t_in + 180 + floor({u_d1} * 5220)::bigint AS t_d1",
        """t_in + 180 + floor({u_d1} * 5220)::bigint + 1800 + floor({u_d2} * 19800)::bigint
               AS t_ret""",
    ],
    [
        f"returned AND {_conv('t_ret')} <= {{now}} AS returned_ok",
    ],
    [
        """CASE WHEN returned_ok THEN t_ret ELSE t_in END + 180 + floor({u_d3} * 5220)::bigint
               AS t_disp""",
    ],
    [
        f"({_deadline('t_disp', 'c_amount', 'c_unit', 7200)}) AS d_cb",
        f"""CASE WHEN complex THEN ({_deadline("t_disp", "x_amount", "x_unit", 86400)})
                 ELSE ({_deadline("t_disp", "r_amount", "r_unit", 86400)}) END AS d_rb0""",
        "t_disp + {sign_s} AS d_sb",
        f"""CASE WHEN complex THEN ({_deadline("t_d1", "x_amount", "x_unit", 86400)})
                 ELSE ({_deadline("t_d1", "r_amount", "r_unit", 86400)}) END AS d_rbw""",
    ],
    [
        # 签收: urgent matters within two clock hours, the rest mostly within two working hours.
        """greatest(t_disp + 30, CASE
                WHEN clock THEN t_disp + 120 + floor({u_sign_t} * 7080)::bigint
                WHEN steer IS NOT NULL OR {u_sign_on} < 0.93
                    THEN t_disp + floor((d_sb - t_disp) * (0.05 + 0.9 * {u_sign_t} ^ 2))::bigint
                ELSE d_sb + 600 + floor(0.3 * {w} * -ln(1 - {u_sign_t}))::bigint END) AS t_sign""",
    ],
    [
        # 联系诉求人: on time nine times in ten.
        """CASE WHEN clock THEN greatest(t_sign + 60, CASE
                    WHEN steer IS NOT NULL OR {u_contact_on} < 0.92
                        THEN t_disp + floor((d_cb - t_disp) * (0.05 + 0.8 * {u_contact_t}))::bigint
                    ELSE d_cb + 600 + floor({u_contact_t} * 13800)::bigint END)
                WHEN (steer IS NOT NULL OR {u_contact_on} < 0.9) AND d_cb > t_sign
                    THEN t_sign + greatest(60, floor((d_cb - t_sign)
                                                     * (0.05 + 0.9 * {u_contact_t} ^ 2)))::bigint
                ELSE greatest(t_sign, d_cb) + 600
                     + floor(0.8 * {w} * -ln(1 - {u_contact_t}))::bigint
           END AS t_contact""",
    ],
    [
        # 延期: asked well before the deadline; the new one is 3-10 working days later.
        "ext AND d_rb0 > t_contact + 120 AS ext_ok",
        """t_contact + greatest(60, floor((d_rb0 - t_contact) * (0.4 + 0.5 * {u_req_t})))::bigint
               AS t_req""",
        """{w}::bigint * ((d_rb0 + {w} - 1) / {w} + 3 + floor({u_ext_days} * 8)::int)
               AS d_until""",
    ],
    [
        "t_req + 1800 + floor({u_dec_t} * 27000)::bigint AS t_dec",
        "CASE WHEN ext_ok AND approve THEN d_until ELSE d_rb0 END AS d_rb",
    ],
    [
        "CASE WHEN ext_ok THEN t_dec ELSE t_contact END AS t_prev",
    ],
    [
        # 办结答复: on time nine times in ten (three in four for complex cases).
        _reply(
            "t_prev",
            "d_rb",
            "steer IS NOT NULL OR {u_reply_on} >= CASE WHEN complex THEN 0.25 ELSE 0.1 END",
            "{u_reply_t}",
            "{u_reply_tail}",
            "{u_tail_size}",
        )
        + " AS t_reply",
    ],
    [
        "prog AS prog_ok",
        "t_prev + floor((t_reply - t_prev) * (0.2 + 0.6 * {u_prog_t}))::bigint AS t_prog",
        "sup_c AND t_reply > d_rb AS sup_ok",
        "CASE WHEN decision = 'intake' THEN t_in ELSE t_reply END AS t_rep",
    ],
    [
        # 督办: a supervisor orders a late case finished, between its deadline and the reply.
        """greatest(CASE WHEN prog_ok THEN t_prog ELSE t_prev END, d_rb)
               + floor((t_reply - greatest(CASE WHEN prog_ok THEN t_prog ELSE t_prev END, d_rb))
                       * (0.1 + 0.4 * {u_sup_t}))::bigint AS t_sup""",
        # 评价: an operator's callback (回访) or the complainant, within two days.
        """t_rep + CASE WHEN NOT clock THEN 3600 + floor({u_ev1_t} * 46800)::bigint
                        WHEN cb1 THEN 3600 + floor({u_ev1_t} * 169200)::bigint
                        ELSE 1200 + floor({u_ev1_t} * 171600)::bigint END AS t_ev1""",
    ],
    [
        """t_ev1 + 1800 + floor({u_reopen_t} * CASE WHEN clock THEN 84600 ELSE 23400 END)::bigint
               AS t_reopen""",
        """t_ev1 + 1200 + floor({u_close1_t} * CASE WHEN clock THEN 171600 ELSE 50400 END)::bigint
               AS t_close1""",
    ],
    [
        """CASE WHEN clock THEN pg_temp.xn_wdays(t_reopen, {reopen_days})
                ELSE {w}::bigint * (t_reopen / {w} + 1 + {reopen_days}) END AS d_rr""",
        "t_reopen + 1800 + floor({u_c2_t} * 34200)::bigint AS t_c2",
    ],
    [
        "CASE WHEN c2 THEN t_c2 ELSE t_reopen END AS t_prev2",
    ],
    [
        _reply(
            "t_prev2",
            "d_rr",
            "steer IS NOT NULL OR {u_reply2_on} >= CASE WHEN complex THEN 0.25 ELSE 0.1 END",
            "{u_reply2_t}",
            "{u_reply2_tail}",
            "{u_tail_size}",
        )
        + " AS t_reply2",
    ],
    [
        """t_reply2 + CASE WHEN NOT clock THEN 3600 + floor({u_ev2_t} * 46800)::bigint
                           WHEN cb2 THEN 3600 + floor({u_ev2_t} * 169200)::bigint
                           ELSE 1200 + floor({u_ev2_t} * 171600)::bigint END AS t_ev2""",
    ],
    [
        # 归档: by intake staff within two days; after 督查研判 by a supervisor, later.
        """t_ev2 + CASE WHEN rating2 = 'unsatisfied'
                        THEN 14400 + floor({u_close2_t}
                                           * CASE WHEN clock THEN 417600 ELSE 126000 END)::bigint
                        ELSE 1200 + floor({u_close2_t}
                                          * CASE WHEN clock THEN 171600 ELSE 50400 END)::bigint
                   END AS t_close2""",
    ],
    # From here on: epoch seconds of every step (NULL when the case's path has no such step).
    [
        f"CASE WHEN phone_like THEN e_phone ELSE {_conv('t_in')} END AS e2",
        f"CASE WHEN returned_ok THEN {_conv('t_d1')} END AS e3",
        f"CASE WHEN returned_ok THEN {_conv('t_ret')} END AS e4",
        f"CASE WHEN path_dispatch THEN {_conv('t_disp')} END AS e5",
        f"CASE WHEN path_dispatch THEN {_conv('t_sign')} END AS e6",
        f"CASE WHEN path_dispatch THEN {_conv('t_contact')} END AS e7",
        f"CASE WHEN ext_ok THEN {_conv('t_req')} END AS e8",
        f"CASE WHEN ext_ok THEN {_conv('t_dec')} END AS e9",
        f"CASE WHEN prog_ok THEN {_conv('t_prog')} END AS e10",
        f"CASE WHEN sup_ok THEN {_conv('t_sup')} END AS e11",
        f"CASE WHEN path_dispatch THEN {_conv('t_reply')} END AS e12",
        f"{_due('d_cb')} AS cb_e",
        f"{_due('d_sb')} AS sb_e",
        f"{_due('d_rb0')} AS rb0_e",
        f"{_due('d_rbw')} AS rbw_e",
        "CASE WHEN NOT clock THEN pg_temp.xn_end(d_until) END AS until_e",
        f"{_due('d_rr')} AS rr_e",
        """CASE WHEN clock THEN pg_temp.xn_wdays(t_sup, 3)
                ELSE pg_temp.xn_end({w}::bigint * (t_sup / {w} + 1 + 3)) END AS due_e""",
        f"{_conv('t_ev1')} AS ev1_raw",
        f"{_conv('t_reopen')} AS reopen_e",
        f"{_conv('t_close1')} AS close1_e",
        f"{_conv('t_c2')} AS c2_e",
        f"{_conv('t_reply2')} AS reply2_e",
        f"{_conv('t_ev2')} AS ev2_raw",
        f"{_conv('t_close2')} AS close2_e",
        "decision = 'intake' OR path_dispatch AS has13",
    ],
    [
        "CASE WHEN decision = 'intake' THEN e2 ELSE e12 END AS e_rep",
    ],
    [
        # Nobody evaluates: the supervision scan archives the reply after the window.
        """CASE WHEN NOT has13 THEN NULL
                WHEN ne1 THEN e_rep + {evaluate_s} + 12 + floor({u_ne_t1} * 108)::bigint
                ELSE least(ev1_raw, e_rep + 518400) END AS e13""",
        "CASE WHEN has13 AND NOT ne1 AND reopen THEN reopen_e END AS e14",
        "CASE WHEN has13 AND NOT ne1 AND reopen AND c2 THEN c2_e END AS e15",
        "CASE WHEN has13 AND NOT ne1 AND reopen THEN reply2_e END AS e16",
    ],
    [
        """CASE WHEN e14 IS NOT NULL THEN CASE
                WHEN ne2 THEN e16 + {evaluate_s} + 12 + floor({u_ne_t2} * 108)::bigint
                ELSE least(ev2_raw, e16 + 518400) END END AS e17""",
        """CASE WHEN has13 AND NOT ne1 THEN CASE
                WHEN NOT reopen THEN close1_e WHEN NOT ne2 THEN close2_e END END AS e18""",
        f"""CASE stop {" ".join(f"WHEN '{s}' THEN {n}" for s, n in MAX_ORD.items())}
                ELSE 18 END AS maxord""",
    ],
    [
        # The last step that had happened by now (and that a stuck case got to).
        "greatest(1, "
        + ", ".join(
            f"CASE WHEN e{k} <= {{now}} AND maxord >= {k} THEN {k} END" for k in range(2, 19)
        )
        + ") AS last_ord",
    ],
]

# The plan's columns kept for the inserts.
PLAN_COLUMNS = """
g, created, steer, region_id, district_id, street_id, rural, place_name, compound, compound_b,
lat0, lng0, category_id, channel, code, cat_name, clock, n_tpl, reply_grp, phone_like, urgency,
decision, reject_reason, level1, lead_id, lead_name, hl, co_ids, co_names, wrong_id, wrong_name,
hw, op_id, dr_id, dd_id, sv_id, complex, path_dispatch, outcome1, outcome2, rating1, rating2,
cb1, cb2, ne1, ne2, approve, ext_ok, prog_ok, sup_ok, returned_ok, unreasonable, close_disp, ab,
e2, e3, e4, e5, e6, e7, e8, e9, e10, e11, e12, e13, e14, e15, e16, e17, e18, cb_e, sb_e,
rb0_e, rbw_e, until_e, rr_e, due_e, last_ord
"""

FINAL = """
SELECT %(id0)s::bigint + row_number() OVER (ORDER BY f.created, f.g) - 1 AS id,
       CASE WHEN f.ext_ok AND f.last_ord >= 8 THEN nextval('{ext_seq}'::regclass) END AS ext_id,
       CASE WHEN f.sup_ok AND f.last_ord >= 11 THEN nextval('{order_seq}'::regclass) END
           AS order_id,
       DATE '1970-01-01' + ((f.created + {off}) / 86400)::int AS local_day,
       f.*,
       f.e5 IS NOT NULL AND f.last_ord >= 5 AS x5,
       f.e6 IS NOT NULL AND f.last_ord >= 6 AS x6,
       f.e7 IS NOT NULL AND f.last_ord >= 7 AS x7,
       f.e9 IS NOT NULL AND f.last_ord >= 9 AS x9,
       f.e11 IS NOT NULL AND f.last_ord >= 11 AS x11,
       f.e12 IS NOT NULL AND f.last_ord >= 12 AS x12,
       f.e13 IS NOT NULL AND f.last_ord >= 13 AS x13,
       f.e14 IS NOT NULL AND f.last_ord >= 14 AS x14,
       f.e16 IS NOT NULL AND f.last_ord >= 16 AS x16,
       f.e17 IS NOT NULL AND f.last_ord >= 17 AS x17,
       f.e18 IS NOT NULL AND f.last_ord >= 18 AS x18,
       CASE f.last_ord
           WHEN 1 THEN f.created WHEN 2 THEN f.e2 WHEN 3 THEN f.e3 WHEN 4 THEN f.e4
           WHEN 5 THEN f.e5 WHEN 6 THEN f.e6 WHEN 7 THEN f.e7 WHEN 8 THEN f.e8 WHEN 9 THEN f.e9
           WHEN 10 THEN f.e10 WHEN 11 THEN f.e11 WHEN 12 THEN f.e12 WHEN 13 THEN f.e13
           WHEN 14 THEN f.e14 WHEN 15 THEN f.e15 WHEN 16 THEN f.e16 WHEN 17 THEN f.e17
           ELSE f.e18 END AS e_last,
       CASE f.last_ord
           WHEN 1 THEN 'submitted'
           WHEN 2 THEN CASE f.decision WHEN 'accept' THEN 'accepted'
                                       WHEN 'reject' THEN 'rejected' ELSE 'replied' END
           WHEN 3 THEN 'dispatched' WHEN 4 THEN 'accepted' WHEN 5 THEN 'dispatched'
           WHEN 12 THEN 'replied'
           WHEN 13 THEN CASE WHEN f.ne1 THEN 'closed' ELSE 'evaluated' END
           WHEN 16 THEN 'replied'
           WHEN 17 THEN CASE WHEN f.ne2 THEN 'closed'
                             WHEN f.rating2 = 'unsatisfied' THEN 'review' ELSE 'evaluated' END
           WHEN 18 THEN 'closed'
           ELSE 'handling' END AS status
FROM (SELECT {columns} FROM ({levels} OFFSET 0) AS l ORDER BY l.created, l.g) AS f
"""


def plan_statement(ctx: dict[str, Any]) -> str:
    c = _Context(ctx)
    c["channel_pick"] = _sql(_pick("{u_channel}", ctx["channels"]), c)
    sql = _sql(BASE, c)
    sql = _sql(JOINED, _Context(ctx, inner=sql))
    for columns in LEVELS:
        added = ",\n       ".join(_sql(column, c) for column in columns)
        sql = f"SELECT l.*,\n       {added}\nFROM ({sql} OFFSET 0) AS l"
    final = _sql(FINAL, _Context(ctx, columns=PLAN_COLUMNS, levels="{levels}"))
    return "CREATE TEMP TABLE xn_plan AS " + final.replace("{levels}", sql)


# --- the writes ----------------------------------------------------------------------------------

# A chunk's tracking numbers, reserved in ``DailySequence`` in a short transaction of their own
# (``demo.city.CityBuilder.reserve``), in the order of the chunks: two chunks written at once
# never wait on each other's row locks, and a real submission never takes a generated number.
RESERVE = """
INSERT INTO cases_dailysequence AS s (day, last)
SELECT day, n FROM unnest(%s::date[], %s::int[]) AS u(day, n) ORDER BY day
ON CONFLICT (day) DO UPDATE SET last = s.last + excluded.last
RETURNING s.day, s.last
"""
# The first number of each day is the one after the numbers the day had before the chunk.
SEQUENCES = """
INSERT INTO xn_seq SELECT day, base FROM unnest(%(seq_day)s::date[], %(seq_base)s::int[])
    AS u(day, base)
"""

# The words of a case, drawn once in ``CASES`` (the events that repeat them draw the same).
ADDRESS = """CASE WHEN rural
    THEN (1 + floor({u_addr1} * 8))::int || '社' || (1 + floor({u_addr2} * 120))::int || '号'
    ELSE CASE WHEN {u_compound} < 0.5 THEN compound_b ELSE compound END
         || (1 + floor({u_addr1} * 30))::int || '号楼' || (1 + floor({u_addr2} * 4))::int || '单元'
         || (1 + floor({u_addr3} * 18))::int || '0' || (1 + floor({u_addr4} * 4))::int || '室'
END"""
TEXTS = "pg_temp.xn_texts()"
INTAKE_REPLY = f"pg_temp.xn_pick({TEXTS} -> 'intake', {{u_intake_reply}})"
REPLY_TEXT1 = f"pg_temp.xn_pick({TEXTS} -> 'replies' -> reply_grp -> outcome1, {{u_reply_text1}})"
REPLY_TEXT2 = f"pg_temp.xn_pick({TEXTS} -> 'replies' -> reply_grp -> outcome2, {{u_reply_text2}})"

CASES = f"""
INSERT INTO cases_case (
    id, tracking_code, channel, category_id, region_id, district_id, street_id,
    dispatch_region_id, address, lat, lng, title, description, complainant_name,
    complainant_phone, complainant_id, hide_identity, status, urgency, is_complex, duty_level,
    lead_unit_id, duplicate_of_id, accept_by, contact_by, resolve_by, sign_by, warn_at,
    supervision_level, return_count, reopen_count, outcome, reply_text, rating,
    excluded_from_satisfaction, reject_reason, created_at, accepted_at, dispatched_at,
    signed_at, contacted_at, replied_at, evaluated_at, closed_at, updated_at)
SELECT p.id,
       'XN-' || to_char(p.local_day, 'YYYYMMDD') || '-'
           || lpad(p.n::text, greatest(4, length(p.n::text)), '0'),
       p.channel, p.category_id, p.region_id, p.district_id, p.street_id, p.district_id,
       p.address,
       CASE WHEN p.pinned THEN round((p.lat0 + ({{u_lat}} - 0.5) * 0.06)::numeric, 6) END,
       CASE WHEN p.pinned THEN round((p.lng0 + ({{u_lng}} - 0.5) * 0.08)::numeric, 6) END,
       t.title,
       replace(replace(replace(replace(replace(replace(replace(replace(replace(t.body,
           '«addr»', p.place_name || p.address),
           '«road»', pg_temp.xn_pick({TEXTS} -> 'roads', {{u_road}})),
           '«money»', pg_temp.xn_pick({TEXTS} -> 'money', {{u_money}})),
           '«temp»', (10 + floor({{u_temp}} * 7))::int::text),
           '«days»', (2 + floor({{u_days}} * 5))::int::text),
           '«hours»', (3 + floor({{u_hours}} * 10))::int::text),
           '«floor»', (5 + floor({{u_floor}} * 14))::int::text),
           '«years»', (3 + floor({{u_years}} * 8))::int::text),
           '«time»', pg_temp.xn_pick({TEXTS} -> 'times', {{u_time}})),
       substr({TEXTS} ->> 'surnames',
              1 + floor({{u_surname}} * length({TEXTS} ->> 'surnames'))::int, 1)
           || CASE WHEN {{u_gender}} < 0.55 THEN '先生' ELSE '女士' END,
       pg_temp.xn_pick({TEXTS} -> 'prefixes', {{u_prefix}})
           || lpad(floor({{u_phone}} * 100000000)::bigint::text, 8, '0'),
       NULL, {{u_hide}} < 0.05, p.status, p.urgency, p.complex AND p.last_ord >= 2,
       CASE WHEN p.decision = 'accept' AND p.last_ord >= 2 THEN coalesce(p.level1, 2) END,
       CASE WHEN p.x5 THEN p.lead_id END, NULL,
       to_timestamp(p.ab),
       CASE WHEN p.x5 THEN to_timestamp(p.cb_e) END,
       to_timestamp(CASE WHEN p.x14 THEN p.rr_e WHEN p.x9 AND p.approve THEN p.until_e
                         WHEN p.x5 THEN p.rb0_e END),
       CASE WHEN p.x5 THEN to_timestamp(p.sb_e) END,
       to_timestamp(CASE WHEN p.x14 THEN p.e14 + (p.rr_e - p.e14) * {{share}}
                         WHEN p.x9 AND p.approve THEN p.e5 + (p.until_e - p.e5) * {{share}}
                         WHEN p.x5 THEN p.e5 + (p.rb0_e - p.e5) * {{share}} END),
       p.level,
       CASE WHEN p.returned_ok AND p.last_ord >= 4 THEN 1 ELSE 0 END,
       CASE WHEN p.x14 THEN 1 ELSE 0 END,
       CASE WHEN p.decision = 'intake' AND p.last_ord >= 2 THEN 'resolved'
            WHEN p.x16 THEN p.outcome2 WHEN p.x14 THEN '' WHEN p.x12 THEN p.outcome1
            ELSE '' END,
       CASE WHEN p.decision = 'intake' AND p.last_ord >= 2 THEN {INTAKE_REPLY}
            WHEN p.x16 THEN {REPLY_TEXT2} WHEN p.x12 THEN {REPLY_TEXT1} ELSE '' END,
       CASE WHEN p.x17 AND NOT p.ne2 THEN p.rating2 WHEN p.x14 THEN ''
            WHEN p.x13 AND NOT p.ne1 THEN p.rating1 ELSE '' END,
       p.x18 AND p.x17 AND p.rating2 = 'unsatisfied' AND p.unreasonable,
       CASE WHEN p.decision = 'reject' AND p.last_ord >= 2 THEN p.reject_reason ELSE '' END,
       to_timestamp(p.created),
       CASE WHEN p.decision <> 'reject' AND p.last_ord >= 2 THEN to_timestamp(p.e2) END,
       CASE WHEN p.x5 THEN to_timestamp(p.e5) END,
       CASE WHEN p.x6 THEN to_timestamp(p.e6) END,
       CASE WHEN p.decision = 'intake' AND p.last_ord >= 2 THEN to_timestamp(p.e2)
            WHEN p.x7 THEN to_timestamp(p.e7) END,
       CASE WHEN p.decision = 'intake' AND p.last_ord >= 2 THEN to_timestamp(p.e2)
            WHEN p.x14 THEN CASE WHEN p.x16 THEN to_timestamp(p.e16) END
            WHEN p.x12 THEN to_timestamp(p.e12) END,
       CASE WHEN p.x17 AND NOT p.ne2 THEN to_timestamp(p.e17) WHEN p.x14 THEN NULL
            WHEN p.x13 AND NOT p.ne1 THEN to_timestamp(p.e13) END,
       CASE WHEN p.decision = 'reject' AND p.last_ord >= 2 THEN to_timestamp(p.e2)
            WHEN p.x18 THEN to_timestamp(p.e18)
            WHEN p.x17 AND p.ne2 THEN to_timestamp(p.e17)
            WHEN p.x13 AND p.ne1 THEN to_timestamp(p.e13) END,
       to_timestamp(p.e_last)
FROM (
    SELECT q.*, s.base + row_number() OVER (PARTITION BY q.local_day ORDER BY q.created, q.g) AS n,
           {ADDRESS} AS address,
           -- A map pin: the mini-program and the grid inspectors' app send one, the web often.
           q.channel IN ('mini_program', 'grid') OR (q.channel = 'web' AND {{u_latlng}} < 0.5)
               AS pinned,
           -- 督: the level the supervision scan would have left (it raises, never lowers; a
           -- dispatch, an approved extension and 重办 start afresh).
           CASE
               WHEN q.x14 THEN CASE
                   WHEN q.rr_e + {{office_s}} <= coalesce(q.x16_at, {{now}}) THEN 'supervised'
                   WHEN q.rr_e <= coalesce(q.x16_at, {{now}}) THEN 'overdue'
                   WHEN q.e14 + (q.rr_e - q.e14) * {{share}} <= coalesce(q.x16_at, {{now}})
                       THEN 'warning'
                   ELSE 'on_time' END
               WHEN q.x5 THEN CASE
                   WHEN q.x11 OR q.rb_cur + {{office_s}} <= q.horizon THEN 'supervised'
                   WHEN q.rb_cur <= q.horizon
                        OR (NOT (q.x9 AND q.approve)
                            AND (CASE WHEN q.x6 THEN q.e6 ELSE q.horizon END > q.sb_e
                                 OR CASE WHEN q.x7 THEN q.e7 ELSE q.horizon END > q.cb_e))
                       THEN 'overdue'
                   WHEN q.e5 + (q.rb_cur - q.e5) * {{share}} <= q.horizon THEN 'warning'
                   ELSE 'on_time' END
               WHEN q.ab <= CASE WHEN q.last_ord >= 2 THEN q.e2 ELSE {{now}} END THEN 'overdue'
               ELSE 'on_time'
           END AS level
    FROM (
        SELECT xn_plan.*,
               CASE WHEN x16 THEN e16 END AS x16_at,
               CASE WHEN x12 THEN e12 ELSE {{now}} END AS horizon,
               CASE WHEN x9 AND approve THEN until_e ELSE rb0_e END AS rb_cur
        FROM xn_plan
    ) AS q
    JOIN xn_seq s ON s.day = q.local_day
) AS p
JOIN xn_tpl t ON t.category_id = p.category_id AND t.i = floor({{u_tpl}} * p.n_tpl)::int
"""  # noqa: S608 - built from this module's constants

EVENT_INSERT = """
INSERT INTO cases_caseevent (case_id, type, actor_id, unit_id, from_status, to_status, payload,
                             is_public, created_at)
SELECT id, '{type}', {actor}, {unit}, {source}, {target}, {payload}, {public}, to_timestamp({at})
FROM xn_plan WHERE {where}
"""
INTAKE_ACTOR = "CASE WHEN {u_intake_actor} < 0.85 OR dr_id IS NULL THEN op_id ELSE dr_id END"
INTAKE_ROLE = (
    "CASE WHEN {u_intake_actor} < 0.85 OR dr_id IS NULL THEN 'operator' ELSE 'dispatcher' END"
)
LEAD = "CASE WHEN x5 THEN lead_id END"
EV_ACTOR = "CASE WHEN {cb} THEN op_id END"
EV_ROLE = "CASE WHEN {cb} THEN 'operator' ELSE 'resident' END"
EV_SOURCE = "CASE WHEN {cb} THEN 'callback' ELSE 'complainant' END"
# The same draw picks a progress note and whether the complainant sees it.
PROGRESS_PUBLIC = f"pg_temp.xn_pick({TEXTS} -> 'progress_public', {{u_prog_text}})::boolean"


def _event(
    step: int,
    kind: str,
    *,
    where: str,
    payload: str,
    actor: str = "NULL",
    unit: str = "NULL",
    source: str,
    target: str,
    public: str = "true",
    at: str | None = None,
) -> tuple[int, str, str]:
    """One event step: (step, type, INSERT … SELECT)."""
    return (
        step,
        kind,
        EVENT_INSERT.format(
            type=kind,
            actor=actor,
            unit=unit,
            source=source,
            target=target,
            payload=payload,
            public=public,
            at=at or f"e{step}",
            where=f"last_ord >= {step} AND e{step} IS NOT NULL AND ({where})"
            if step > 1
            else where,
        ),
    )


def _obj(*pairs: tuple[str, str]) -> str:
    return "jsonb_build_object(" + ", ".join(f"'{k}', {v}" for k, v in pairs) + ")"


def _evaluate(
    step: int, cb: str, rating: str, u_comment: str, round_: int, target: str
) -> tuple[int, str, str]:
    return _event(
        step,
        "evaluate",
        where=f"NOT ne{round_ + 1}",
        actor=EV_ACTOR.format(cb=cb),
        unit=LEAD,
        source="'replied'",
        target=target,
        payload=_obj(
            ("role", EV_ROLE.format(cb=cb)),
            ("rating", rating),
            ("comment", f"pg_temp.xn_pick({TEXTS} -> 'comments' -> {rating}, {u_comment})"),
            ("source", EV_SOURCE.format(cb=cb)),
            ("round", str(round_)),
        ),
    )


def _system_close(step: int, ne: str) -> tuple[int, str, str]:
    """The supervision scan archives a reply nobody evaluated (case_close(system=True))."""
    return _event(
        step,
        "close",
        where=ne,
        unit=LEAD,
        source="'replied'",
        target="'closed'",
        payload=_obj(
            ("unreasonable", "false"),
            ("not_evaluated", "true"),
            ("note", _literal(NOT_EVALUATED_NOTE)),
        ),
    )


def _contact(step: int, first: bool, u_method: str, u_note: str) -> tuple[int, str, str]:
    return _event(
        step,
        "contact",
        where="true",
        actor="hl",
        unit=LEAD,
        source="'handling'",
        target="'handling'",
        public="false",
        payload=_obj(
            ("role", "'handler'"),
            ("method", f"CASE WHEN {u_method} < 0.85 THEN 'phone' ELSE 'visit' END"),
            ("first", "true" if first else "false"),
            ("on_time", f"e{step} <= cb_e"),
            ("note", f"CASE WHEN {u_note} < 0.7 THEN '' ELSE {_literal(APPOINTMENT_NOTE)} END"),
        ),
    )


def _reply_event(step: int, outcome: str, text: str, deadline: str) -> tuple[int, str, str]:
    return _event(
        step,
        "reply",
        where="true",
        actor="hl",
        unit=LEAD,
        source="'handling'",
        target="'replied'",
        payload=_obj(
            ("role", "'handler'"),
            ("outcome", outcome),
            ("text", text),
            ("on_time", f"e{step} <= {deadline}"),
        ),
    )


# In the order the steps happen in a case (event ids follow it).
EVENTS: list[tuple[int, str, str]] = [
    # 提交: an operator logs a call, a visit or a grid report; residents submit themselves.
    _event(
        1,
        "submit",
        where="true",
        actor="CASE WHEN phone_like THEN op_id END",
        source="''",
        target="'submitted'",
        payload="jsonb_build_object('channel', channel) || CASE WHEN phone_like "
        "THEN jsonb_build_object('role', 'operator') ELSE jsonb_build_object() END",
        at="created",
    ),
    _event(
        2,
        "accept",
        where="decision = 'accept'",
        actor=INTAKE_ACTOR,
        source="'submitted'",
        target="'accepted'",
        payload=_obj(
            ("role", INTAKE_ROLE),
            ("category", "cat_name"),
            ("duty_level", "coalesce(level1, 2)"),
            ("is_complex", "complex"),
            ("duplicate_of", "NULL"),
            ("note", "''"),
        ),
    ),
    _event(
        2,
        "reject",
        where="decision = 'reject'",
        actor=INTAKE_ACTOR,
        source="'submitted'",
        target="'rejected'",
        payload=_obj(
            ("role", INTAKE_ROLE),
            ("reason", "reject_reason"),
            ("duplicate_of", "NULL"),
            ("note", f"{TEXTS} -> 'reject_notes' ->> reject_reason"),
        ),
    ),
    _event(
        2,
        "resolve_at_intake",
        where="decision = 'intake'",
        actor=INTAKE_ACTOR,
        source="'submitted'",
        target="'replied'",
        payload=_obj(("role", INTAKE_ROLE), ("reply", INTAKE_REPLY), ("outcome", "'resolved'")),
    ),
    # 派单 to a unit that is not the right one, which sends it back (退回).
    _event(
        3,
        "dispatch",
        where="true",
        actor="dd_id",
        unit="wrong_id",
        source="'accepted'",
        target="'dispatched'",
        payload=_obj(
            ("role", "'dispatcher'"),
            ("lead_unit", "wrong_name"),
            ("co_units", "'[]'::jsonb"),
            ("resolve_by", "pg_temp.xn_iso(rbw_e)"),
            ("note", "''"),
        ),
    ),
    _event(
        4,
        "return",
        where="true",
        actor="hw",
        unit="wrong_id",
        source="'dispatched'",
        target="'accepted'",
        payload=_obj(
            ("role", "'handler'"),
            ("reason", f"pg_temp.xn_pick({TEXTS} -> 'return', {{u_return_reason}})"),
            ("unit", "wrong_name"),
            ("return_count", "1"),
            ("escalated_to", "NULL"),
        ),
    ),
    _event(
        5,
        "dispatch",
        where="true",
        actor="dd_id",
        unit="lead_id",
        source="'accepted'",
        target="'dispatched'",
        payload=_obj(
            ("role", "'dispatcher'"),
            ("lead_unit", "lead_name"),
            ("co_units", "co_names"),
            ("resolve_by", "pg_temp.xn_iso(rb0_e)"),
            (
                "note",
                "CASE WHEN {u_dispatch_note} < 0.2 THEN "
                + _literal(DISPATCH_NOTE)
                + " ELSE '' END",
            ),
        ),
    ),
    _event(
        6,
        "sign",
        where="true",
        actor="hl",
        unit=LEAD,
        source="'dispatched'",
        target="'handling'",
        payload=_obj(("role", "'handler'"), ("unit", "lead_name")),
    ),
    _contact(7, True, "{u_method}", "{u_contact_note}"),
    _event(
        8,
        "request_extension",
        where="true",
        actor="hl",
        unit=LEAD,
        source="'handling'",
        target="'handling'",
        public="false",
        payload=_obj(
            ("role", "'handler'"),
            ("request", "ext_id"),
            ("until", "pg_temp.xn_iso(until_e)"),
            ("reason", f"pg_temp.xn_pick({TEXTS} -> 'extension', {{u_ext_reason}})"),
        ),
    ),
    _event(
        9,
        "decide_extension",
        where="true",
        actor="dd_id",
        unit=LEAD,
        source="'handling'",
        target="'handling'",
        public="false",
        payload=_obj(
            ("role", "'dispatcher'"),
            ("request", "ext_id"),
            ("approved", "approve"),
            ("from", "pg_temp.xn_iso(rb0_e)"),
            ("to", "CASE WHEN approve THEN pg_temp.xn_iso(until_e) END"),
            ("note", f"CASE WHEN approve THEN '' ELSE {_literal(REFUSAL_NOTE)} END"),
        ),
    ),
    _event(
        10,
        "progress",
        where="true",
        actor="hl",
        unit=LEAD,
        source="'handling'",
        target="'handling'",
        public=PROGRESS_PUBLIC,
        payload=_obj(
            ("role", "'handler'"),
            ("text", f"pg_temp.xn_pick({TEXTS} -> 'progress_text', {{u_prog_text}})"),
            ("public", PROGRESS_PUBLIC),
        ),
    ),
    _event(
        11,
        "supervise",
        where="true",
        actor="sv_id",
        unit=LEAD,
        source="'handling'",
        target="'handling'",
        payload=_obj(
            ("role", "'supervisor'"),
            ("order", "order_id"),
            ("due_at", "pg_temp.xn_iso(due_e)"),
            ("note", f"pg_temp.xn_pick({TEXTS} -> 'supervision', {{u_sup_note}})"),
        ),
    ),
    _reply_event(
        12,
        "outcome1",
        REPLY_TEXT1,
        "CASE WHEN x9 AND approve THEN until_e ELSE rb0_e END",
    ),
    _evaluate(13, "cb1", "rating1", "{u_comment1}", 0, "'evaluated'"),
    _system_close(13, "ne1"),
    # 重办: back to the unit with five working days.
    _event(
        14,
        "reopen",
        where="true",
        actor="dr_id",
        unit=LEAD,
        source="'evaluated'",
        target="'handling'",
        payload=_obj(
            ("role", "'dispatcher'"),
            ("reason", f"pg_temp.xn_pick({TEXTS} -> 'reopen', {{u_reopen_reason}})"),
            ("resolve_by", "pg_temp.xn_iso(rr_e)"),
            ("round", "1"),
        ),
    ),
    _contact(15, False, "{u_c2_method}", "{u_c2_note}"),
    _reply_event(16, "outcome2", REPLY_TEXT2, "rr_e"),
    # A second 不满意 goes to a supervisor (督查研判).
    _evaluate(
        17,
        "cb2",
        "rating2",
        "{u_comment2}",
        1,
        "CASE WHEN rating2 = 'unsatisfied' THEN 'review' ELSE 'evaluated' END",
    ),
    _system_close(17, "ne2"),
    _event(
        18,
        "close",
        where="true",
        actor="""CASE WHEN x14 AND rating2 = 'unsatisfied' THEN sv_id
                      WHEN close_disp AND x5 THEN dr_id ELSE op_id END""",
        unit=LEAD,
        source="CASE WHEN x14 AND rating2 = 'unsatisfied' THEN 'review' ELSE 'evaluated' END",
        target="'closed'",
        payload=_obj(
            (
                "role",
                """CASE WHEN x14 AND rating2 = 'unsatisfied' THEN 'supervisor'
                        WHEN close_disp AND x5 THEN 'dispatcher' ELSE 'operator' END""",
            ),
            ("unreasonable", "x14 AND rating2 = 'unsatisfied' AND unreasonable"),
            ("not_evaluated", "false"),
            (
                "note",
                f"""CASE WHEN x14 AND rating2 = 'unsatisfied' THEN CASE WHEN unreasonable
                        THEN {_literal(UNREASONABLE_NOTE)} ELSE {_literal(REVIEWED_NOTE)} END
                        ELSE '' END""",
            ),
        ),
    ),
]

EVALUATIONS = f"""
INSERT INTO cases_evaluation (case_id, round, rating, comment, source, by_id, created_at)
SELECT id, 0, rating1, pg_temp.xn_pick({TEXTS} -> 'comments' -> rating1, {{u_comment1}}),
       {EV_SOURCE.format(cb="cb1")}, {EV_ACTOR.format(cb="cb1")}, to_timestamp(e13)
FROM xn_plan WHERE x13 AND NOT ne1
UNION ALL
SELECT id, 1, rating2, pg_temp.xn_pick({TEXTS} -> 'comments' -> rating2, {{u_comment2}}),
       {EV_SOURCE.format(cb="cb2")}, {EV_ACTOR.format(cb="cb2")}, to_timestamp(e17)
FROM xn_plan WHERE x17 AND NOT ne2
"""  # noqa: S608 - built from this module's constants

EXTENSIONS = f"""
INSERT INTO cases_extensionrequest (id, case_id, unit_id, requested_by_id, reason,
                                    requested_until, status, decided_by_id, decision_note,
                                    created_at, decided_at)
SELECT ext_id, id, lead_id, hl, pg_temp.xn_pick({TEXTS} -> 'extension', {{u_ext_reason}}),
       to_timestamp(until_e),
       CASE WHEN NOT x9 THEN 'pending' WHEN approve THEN 'approved' ELSE 'refused' END,
       CASE WHEN x9 THEN dd_id END,
       CASE WHEN x9 AND NOT approve THEN {_literal(REFUSAL_NOTE)} ELSE '' END,
       to_timestamp(e8), CASE WHEN x9 THEN to_timestamp(e9) END
FROM xn_plan WHERE ext_id IS NOT NULL
"""  # noqa: S608 - built from this module's constants

ORDERS = f"""
INSERT INTO cases_supervisionorder (id, case_id, issued_by_id, due_at, note, created_at,
                                    fulfilled_at)
SELECT order_id, id, sv_id, to_timestamp(due_e),
       pg_temp.xn_pick({TEXTS} -> 'supervision', {{u_sup_note}}), to_timestamp(e11),
       CASE WHEN x12 THEN to_timestamp(e12) END
FROM xn_plan WHERE order_id IS NOT NULL
"""  # noqa: S608 - built from this module's constants

CO_UNITS = """
INSERT INTO cases_case_co_units (case_id, unit_id)
SELECT id, jsonb_array_elements_text(co_ids)::bigint FROM xn_plan WHERE x5
"""


def chunk_statements(ctx: dict[str, Any], *, skip_fk_checks: bool) -> list[tuple[str, str, str]]:
    """(label, kind, statement) for one chunk; kind says what the row count counts.

    ``skip_fk_checks``: the chunk only refers to rows it has just read or written, so the
    deferred foreign-key triggers (a third of a chunk's time, run at commit) are switched off
    for its transaction, where the role may; ``ORPHANS`` checks the result instead.
    """
    c = _Context(ctx)
    statements = [
        ("setup", "", "SET LOCAL work_mem = '128MB'"),
        # Compiling the plan's few hundred expressions costs more than it saves.
        ("setup", "", "SET LOCAL jit = off"),
        ("setup", "", "DROP TABLE IF EXISTS xn_plan"),
        ("setup", "", "TRUNCATE xn_seq"),
        *(
            [("setup", "", "SET LOCAL session_replication_role = replica")]
            if skip_fk_checks
            else []
        ),
        ("plan", "", plan_statement(ctx)),
        ("sequences", "", SEQUENCES),
        ("cases", "cases", _sql(CASES, c)),
    ]
    statements += [(f"event {kind}", "events", _sql(sql, c)) for _step, kind, sql in EVENTS]
    statements += [
        (label, "rows", _sql(sql, c))
        for label, sql in (
            ("evaluations", EVALUATIONS),
            ("extension requests", EXTENSIONS),
            ("督办 orders", ORDERS),
            ("co-unit links", CO_UNITS),
        )
    ]
    # Back to the session's settings: inside an outer transaction (a test) SET LOCAL would
    # otherwise outlive the chunk.
    statements += [
        ("setup", "", f"SET LOCAL {name} = DEFAULT")
        for name in ("work_mem", "jit", *(["session_replication_role"] if skip_fk_checks else []))
    ]
    return statements


def event_steps() -> list[tuple[int, str]]:
    """(step, type) of every event statement, in order (for the tests and the docs)."""
    return [(step, kind) for step, kind, _sql_text in EVENTS]


# References that the foreign keys would have checked, for the cases ``%(lo)s .. %(hi)s``.
ORPHANS = """
SELECT
  (SELECT count(*) FROM cases_case c
     WHERE c.id BETWEEN %(lo)s AND %(hi)s AND (
       NOT EXISTS (SELECT 1 FROM cases_category x WHERE x.id = c.category_id)
       OR NOT EXISTS (SELECT 1 FROM org_region x WHERE x.id = c.region_id)
       OR NOT EXISTS (SELECT 1 FROM org_region x WHERE x.id = c.district_id)
       OR NOT EXISTS (SELECT 1 FROM org_region x WHERE x.id = c.street_id)
       OR NOT EXISTS (SELECT 1 FROM org_region x WHERE x.id = c.dispatch_region_id)
       OR (c.lead_unit_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM org_unit x WHERE x.id = c.lead_unit_id)))),
  (SELECT count(*) FROM cases_caseevent e
     WHERE e.case_id BETWEEN %(lo)s AND %(hi)s AND (
       NOT EXISTS (SELECT 1 FROM cases_case x WHERE x.id = e.case_id)
       OR (e.actor_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM org_user x WHERE x.id = e.actor_id))
       OR (e.unit_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM org_unit x WHERE x.id = e.unit_id)))),
  (SELECT count(*) FROM cases_evaluation v
     WHERE v.case_id BETWEEN %(lo)s AND %(hi)s AND (
       NOT EXISTS (SELECT 1 FROM cases_case x WHERE x.id = v.case_id)
       OR (v.by_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM org_user x WHERE x.id = v.by_id)))),
  (SELECT count(*) FROM cases_extensionrequest r
     WHERE r.case_id BETWEEN %(lo)s AND %(hi)s AND (
       NOT EXISTS (SELECT 1 FROM cases_case x WHERE x.id = r.case_id)
       OR NOT EXISTS (SELECT 1 FROM org_unit x WHERE x.id = r.unit_id)
       OR NOT EXISTS (SELECT 1 FROM org_user x WHERE x.id = r.requested_by_id)
       OR (r.decided_by_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM org_user x WHERE x.id = r.decided_by_id)))),
  (SELECT count(*) FROM cases_supervisionorder o
     WHERE o.case_id BETWEEN %(lo)s AND %(hi)s AND (
       NOT EXISTS (SELECT 1 FROM cases_case x WHERE x.id = o.case_id)
       OR NOT EXISTS (SELECT 1 FROM org_user x WHERE x.id = o.issued_by_id))),
  (SELECT count(*) FROM cases_case_co_units l
     WHERE l.case_id BETWEEN %(lo)s AND %(hi)s AND (
       NOT EXISTS (SELECT 1 FROM cases_case x WHERE x.id = l.case_id)
       OR NOT EXISTS (SELECT 1 FROM org_unit x WHERE x.id = l.unit_id)))
"""
ORPHAN_TABLES = ("cases", "events", "evaluations", "extension requests", "督办 orders", "co-units")
