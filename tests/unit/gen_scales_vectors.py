#!/usr/bin/env python3
"""gen_scales_vectors.py - writes protocol/vectors/scales.json (PROTOCOL.md §14).

An implementation of the scoring, change, rules and record codec written from the text of the
brief/§14, independently of protocol/src/scales.c; every rules case also carries a hand-written
expectation that this script checks before writing. Usage: gen_scales_vectors.py OUT.json
"""
import datetime
import fractions
import json
import math
import sys

EPOCH = datetime.date(1970, 1, 1)
BASE = datetime.date(2026, 1, 5)


def day(s):
    return (datetime.date.fromisoformat(s) - EPOCH).days


def d(off):
    return (BASE + datetime.timedelta(days=off)).isoformat()


def tdiv(a, b):  # C integer division (truncation toward zero)
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


ITEMS = {"PHQ-2": 2, "PHQ-9": 9, "GAD-7": 7}


def score(scale, items, cutoff=0):
    """None for invalid items; else total, band, label, complete, prorated, answered, sum."""
    if len(items) != ITEMS[scale] or any(i is not None and not 0 <= i <= 3 for i in items):
        return None
    given = [i for i in items if i is not None]
    missing = len(items) - len(given)
    res = dict(answered=len(given), sum=sum(given), complete=missing == 0,
               prorated=scale == "PHQ-9" and missing in (1, 2))
    total = sum(given)
    if res["prorated"]:  # scaled to 9 items, rounded half up, in exact rational arithmetic
        total = math.floor(fractions.Fraction(total * 9, len(given)) + fractions.Fraction(1, 2))
    res["total"] = total
    if not (res["complete"] or res["prorated"]):
        return dict(res, band="INCOMPLETE", label="incomplete")
    if scale == "PHQ-2":
        band = "PHQ2_POSITIVE" if total >= (cutoff or 3) else "PHQ2_NEGATIVE"
    elif scale == "PHQ-9":
        band = ["PHQ_MINIMAL", "PHQ_MILD", "PHQ_MODERATE", "PHQ_MODSEVERE", "PHQ_SEVERE"][
            min(total // 5, 4)]
    else:
        band = ["GAD_MINIMAL", "GAD_MILD", "GAD_MODERATE", "GAD_SEVERE"][min(total // 5, 3)]
    labels = {"MINIMAL": "minimal", "MILD": "mild", "MODERATE": "moderate",
              "MODSEVERE": "moderately severe", "SEVERE": "severe", "NEGATIVE": "negative",
              "POSITIVE": "positive"}
    return dict(res, band=band, label=labels[band.split("_")[-1]])


def usable(s):
    return s is not None and (s["complete"] or s["prorated"])


def change(b, l):
    app = b > 9
    resp = app and 2 * l <= b
    return dict(applicable=app, pct=tdiv((b - l) * 100, b) if b > 0 else 0, response=resp,
                partial=app and 4 * l <= 3 * b and not resp, remission=app and l < 5,
                improved=l < 10 or resp)


NO_CHANGE = dict(applicable=False, pct=0, response=False, partial=False, remission=False,
                 improved=False)


# --- records as JSON objects (the vectors' form) --------------------------------------------------

def spread(total, n):
    """n items summing to total, as even as possible, larger first."""
    assert 0 <= total <= 3 * n
    return [total // n + (1 if i < total % n else 0) for i in range(n)]


def phq9(total, item9=0):
    return spread(total - item9, 8) + [item9]


def S(off, p=None, g=None, item9=0, phq2=None):
    r = {"kind": "scales", "date": d(off)}
    if phq2 is not None:
        r["phq2"] = phq2
    if p is not None:
        r["phq9"] = p if isinstance(p, list) else phq9(p, item9)
    if g is not None:
        r["gad7"] = g if isinstance(g, list) else spread(g, 7)
    return r


def PLAN(off, ad):
    return {"kind": "plan", "date": d(off), "antidepressant": ad}


def total(r, key):
    """The usable (complete or prorated) total of a record's scale, else None."""
    if r["kind"] != "scales" or key not in r:
        return None
    s = score({"phq9": "PHQ-9", "gad7": "GAD-7"}[key], r[key])
    return s["total"] if usable(s) else None


def rules(history, latest, rp, cfg=(10, 4, 6)):
    """The section 14 rules. history is in entry order; latest was entered after all of it."""
    ld = day(latest["date"])
    # date order: Python's sort is stable, so same-day records keep their entry order
    timeline = sorted(history + [latest], key=lambda r: day(r["date"]))
    pos = next(k for k, r in enumerate(timeline) if r is latest)
    earlier = timeline[:pos]
    P, G = total(latest, "phq9"), total(latest, "gad7")
    allp = [(day(r["date"]), total(r, "phq9")) for r in timeline if total(r, "phq9") is not None]
    hp = [(day(r["date"]), total(r, "phq9")) for r in earlier if total(r, "phq9") is not None]
    hg = [total(r, "gad7") for r in earlier if total(r, "gad7") is not None]
    baseline, baseline_day = allp[0][1] if allp else None, allp[0][0] if allp else None
    previous = hp[-1][1] if hp else None
    nadir = min(s for _, s in hp) if hp else None
    gprev = hg[-1] if hg else None
    plans = [r for r in earlier if r["kind"] == "plan"]
    if plans:
        plan_day, ad, recorded = day(plans[-1]["date"]), plans[-1]["antidepressant"], True
    elif baseline is not None and baseline_day <= ld:
        plan_day, ad, recorded = baseline_day, False, False
    else:
        plan_day, ad, recorded = None, False, False
    pss = None
    if plan_day is not None:
        before = [s for dd, s in hp if dd <= plan_day]
        after = [s for dd, s in hp if dd > plan_day]
        pss = before[-1] if before else (after[0] if after else P)
    weeks = max(0, (ld - plan_day) // 7) if plan_day is not None else 0
    out = []
    if "phq9" in latest:
        out += {None: [["A01", "item9_unanswered"]], 0: [], 1: [["A01", "item9_1"]],
                2: [["A01", "item9_2"]], 3: [["A01", "item9_2"]]}[latest["phq9"][8]]
    if (P is not None and P >= 20) or (G is not None and G >= 15):
        out.append(["A04", ""])
    phq_worse = P is not None and (
        (previous is not None and (P >= previous + 5 or previous < 15 <= P))
        or (nadir is not None and P >= nadir + 5))
    gad_worse = G is not None and gprev is not None and (G >= gprev + 4 or gprev < 15 <= G)
    if (phq_worse and not rp) or gad_worse:
        out.append(["A05", ""])
    if rp and P is not None and (P >= 10 or (previous is not None and P >= previous + 5)
                                 or (nadir is not None and P >= nadir + 5)):
        out.append(["A11", ""])
    # A06 (AIMS): improvement from the plan's start below 50 %, not in remission
    if P is not None and plan_day is not None and weeks >= cfg[0] and P >= 5 and (
            pss == 0 or fractions.Fraction(pss - P, pss) < fractions.Fraction(1, 2)):
        out.append(["A06", ""])
    if P is not None and baseline is not None and baseline > 9 and previous is not None:
        if P < 5 and previous >= 5:
            out.append(["A10", "remission"])
        elif 2 * P <= baseline and 2 * previous > baseline:
            out.append(["A10", "response"])
    if P is not None and ad and cfg[1] <= weeks <= cfg[2] and pss is not None and 4 * P > 3 * pss:
        out.append(["A06b", ""])
    ep = dict(baseline=baseline, previous=previous, nadir=nadir, gad_previous=gprev,
              plan_day=(EPOCH + datetime.timedelta(days=plan_day)).isoformat()
              if plan_day is not None else None,
              plan_recorded=recorded, plan_antidepressant=ad, plan_start_score=pss,
              weeks_on_plan=weeks,
              change=change(baseline, P) if P is not None and baseline is not None else NO_CHANGE)
    return out, ep


# --- record codec ---------------------------------------------------------------------------------

def record_text(r):
    if r["kind"] == "plan":
        return "Treatment plan changed on " + r["date"] + (" (antidepressant)" if r["antidepressant"] else "")
    parts = []
    for key, name in (("phq2", "PHQ-2"), ("phq9", "PHQ-9"), ("gad7", "GAD-7")):
        if key in r:
            s, n = score(name, r[key]), len(r[key])
            if not usable(s):
                t = "%s incomplete (%d of %d answered)" % (name, s["answered"], n)
            else:
                t = "%s %d (%s%s%s)" % (
                    name, s["total"], s["label"],
                    ": complete PHQ-9 and GAD-7" if s["band"] == "PHQ2_POSITIVE" else "",
                    ", prorated from %d of %d items" % (s["answered"], n) if s["prorated"] else "")
            if key == "phq9":
                i9 = r[key][8]
                t += ", item 9: " + ("not answered" if i9 is None else str(i9))
            parts.append(t)
    return "; ".join(parts)


def encode(r):
    out = '{"v":1,"kind":"%s","date":"%s"' % (r["kind"], r["date"])
    if r["kind"] == "scales":
        for key in ("phq2", "phq9", "gad7"):
            if key in r:
                out += ',"%s":[%s]' % (key, ",".join("null" if i is None else str(i)
                                                     for i in r[key]))
    else:
        out += ',"antidepressant":%s' % ("true" if r["antidepressant"] else "false")
    return out + ',"text":' + json.dumps(record_text(r), ensure_ascii=False) + "}"


def main():
    V = {"about": "Known answers for PHQ-2/PHQ-9/GAD-7 scoring, change metrics, the client-side "
                  "alert rules and the content-type-2 record codec (PROTOCOL.md section 14). "
                  "Items: null = missing (SES_ITEM_MISSING). Dates are YYYY-MM-DD. Written by "
                  "gen_scales_vectors.py, checked by tests/unit/test_scales.c."}

    # (a) scoring
    sc = []

    def add_score(name, scale, items, cutoff=None):
        v = {"name": name, "scale": scale, "items": items}
        if cutoff is not None:
            v["cutoff"] = cutoff
        s = score(scale, items, cutoff or 0)
        if s is None:
            v["error"] = "BAD_SCALE"
        else:
            v.update(s)
        sc.append(v)

    for t in (0, 2, 3, 6):
        add_score("phq2-%d" % t, "PHQ-2", spread(t, 2))
    add_score("phq2-1-cutoff2", "PHQ-2", [1, 0], 2)
    add_score("phq2-2-cutoff2", "PHQ-2", [1, 1], 2)
    add_score("phq2-3-cutoff4", "PHQ-2", [2, 1], 4)
    for t in (0, 4, 5, 9, 10, 14, 15, 19, 20, 27):
        add_score("phq9-%d" % t, "PHQ-9", spread(t, 9))
    for t in (0, 4, 5, 9, 10, 14, 15, 21):
        add_score("gad7-%d" % t, "GAD-7", spread(t, 7))
    # PHQ-9 prorating: 1 or 2 unanswered, sum * 9 / answered rounded half up
    add_score("phq9-prorated-1-missing-max", "PHQ-9", [None, 3, 3, 3, 3, 3, 3, 3, 3])
    add_score("phq9-prorated-item9-missing", "PHQ-9", [1, 1, 1, 1, 1, 1, 1, 1, None])
    add_score("phq9-prorated-8-of-9-sum-0", "PHQ-9", [0, 0, 0, None, 0, 0, 0, 0, 0])
    add_score("phq9-prorated-half-up-4.5", "PHQ-9", [1, 1, 1, 1, 0, 0, 0, None, 0])
    add_score("phq9-prorated-3.375", "PHQ-9", [1, 1, 1, 0, 0, 0, 0, None, 0])
    add_score("phq9-prorated-9", "PHQ-9", [1, 1, 1, 1, 1, 1, 1, 1, None])
    add_score("phq9-prorated-10.125", "PHQ-9", [2, 1, 1, 1, 1, 1, 1, None, 1])
    add_score("phq9-prorated-half-up-13.5", "PHQ-9", [2, 2, 2, 2, 1, 1, 1, None, 1])
    add_score("phq9-prorated-19.125", "PHQ-9", [3, 2, 2, 2, 2, 2, 2, None, 2])
    add_score("phq9-prorated-20.25", "PHQ-9", [3, 3, 2, 2, 2, 2, 2, None, 2])
    add_score("phq9-prorated-half-up-22.5", "PHQ-9", [3, 3, 3, 3, 2, 2, 2, None, 2])
    add_score("phq9-prorated-2-missing-9", "PHQ-9", [1, 1, 1, 1, 1, 1, None, None, 1])
    add_score("phq9-prorated-2-missing-10.29", "PHQ-9", [2, 1, 1, 1, 1, 1, None, None, 1])
    add_score("phq9-prorated-2-missing-19.29", "PHQ-9", [3, 2, 2, 2, 2, 2, None, None, 2])
    add_score("phq9-prorated-2-missing-20.57", "PHQ-9", [3, 3, 2, 2, 2, 2, None, 2, None])
    add_score("phq9-prorated-2-missing-max", "PHQ-9", [None, None, 3, 3, 3, 3, 3, 3, 3])
    add_score("phq9-3-missing-incomplete", "PHQ-9", [None, None, None, 3, 3, 3, 3, 3, 3])
    add_score("phq9-8-missing-incomplete", "PHQ-9", [None] * 8 + [2])
    add_score("phq9-all-missing", "PHQ-9", [None] * 9)
    add_score("gad7-incomplete", "GAD-7", [3, 3, 3, 3, 3, 3, None])
    add_score("gad7-all-missing", "GAD-7", [None] * 7)
    add_score("phq2-incomplete", "PHQ-2", [3, None])
    add_score("phq2-all-missing", "PHQ-2", [None, None])
    add_score("phq9-item-4", "PHQ-9", [0, 0, 0, 4, 0, 0, 0, 0, 0])
    add_score("phq9-item-254", "PHQ-9", [0, 0, 0, 0, 0, 0, 0, 0, 254])
    add_score("gad7-item-4", "GAD-7", [4, 0, 0, 0, 0, 0, 0])
    add_score("phq2-item-4", "PHQ-2", [0, 4])
    add_score("phq9-8-items", "PHQ-9", [1] * 8)
    add_score("phq9-10-items", "PHQ-9", [1] * 10)
    add_score("gad7-6-items", "GAD-7", [1] * 6)
    add_score("gad7-9-items", "GAD-7", [1] * 9)
    add_score("phq2-3-items", "PHQ-2", [1] * 3)
    add_score("phq2-1-item", "PHQ-2", [1])
    V["scoring"] = sc

    # (b) change
    ch = []
    for b, l in ((9, 0), (9, 4), (10, 5), (10, 6), (10, 4), (10, 7), (10, 8), (12, 9), (20, 10),
                 (20, 11), (20, 15), (20, 16), (21, 10), (21, 11), (16, 12), (16, 13), (15, 4),
                 (27, 27), (10, 15), (15, 20), (3, 7), (0, 0), (0, 5), (11, 5), (19, 9), (14, 10),
                 (14, 11), (27, 0), (13, 9)):
        v = {"baseline": b, "latest": l}
        v.update(change(b, l))
        ch.append(v)
    V["change"] = ch

    # (c) rules: (name, history, latest, relapse_prevention, expected, cfg)
    R = []

    def rule(name, history, latest, rp, expect, cfg=None):
        got, ep = rules(history, latest, rp, cfg or (10, 4, 6))
        exp = [t.split("/") if "/" in t else [t, ""] for t in expect]
        assert got == exp, (name, got, exp)
        v = {"name": name, "relapse_prevention": rp, "history": history, "latest": latest}
        if cfg:
            v["config"] = {"not_improving_weeks": cfg[0], "early_weeks_min": cfg[1],
                           "early_weeks_max": cfg[2]}
        v["triggers"] = [{"type": t, "variant": va} for t, va in got]
        v["episode"] = ep
        R.append(v)

    M = None  # an unanswered item
    inc = [M, 0, 0, 0, 0, 0, 0, 0, 2]  # prorated (2.25 -> 2)
    inc3 = [M, M, M, 0, 0, 0, 0, 0, 2]  # incomplete
    # A01
    rule("a01-item9-0", [], S(0, 8), False, [])
    rule("a01-item9-1", [], S(0, 8, item9=1), False, ["A01/item9_1"])
    rule("a01-item9-2", [], S(0, 8, item9=2), False, ["A01/item9_2"])
    rule("a01-item9-3", [], S(0, 12, item9=3), False, ["A01/item9_2"])
    rule("a01-prorated-phq9-item9-2", [], S(0, inc), False, ["A01/item9_2"])
    rule("a01-incomplete-phq9-item9-2", [], S(0, inc3), False, ["A01/item9_2"])
    rule("a01-item9-unanswered-prorated", [], S(0, [3, 3, 3, 3, 3, 3, 3, 3, M]), False,
         ["A01/item9_unanswered", "A04"])
    rule("a01-item9-unanswered-low", [], S(0, [0, 0, 0, 0, 0, 0, 0, 0, M]), False,
         ["A01/item9_unanswered"])
    rule("a01-item9-unanswered-incomplete", [], S(0, [M, M, 1, 1, 1, 1, 1, 1, M]), False,
         ["A01/item9_unanswered"])
    rule("a01-item9-unanswered-all-missing", [], S(0, [M] * 9), False, ["A01/item9_unanswered"])
    rule("a01-item9-unanswered-relapse-prevention", [S(0, 3)], S(14, [0, 0, 0, 0, 0, 0, 0, 0, M]),
         True, ["A01/item9_unanswered"])
    rule("a01-item9-unanswered-in-history-only", [S(0, [1, 1, 1, 1, 1, 1, 1, 1, M])], S(14, 8),
         False, [])
    rule("a01-gad7-only-no-item9", [], S(0, g=[1, 1, 1, 1, 1, 1, M]), False, [])
    rule("a01-item9-1-relapse-prevention", [S(0, 3)], S(14, 4, item9=1), True, ["A01/item9_1"])
    # A04
    rule("a04-phq9-19", [], S(0, 19), False, [])
    rule("a04-phq9-20", [], S(0, 20), False, ["A04"])
    rule("a04-gad7-14", [], S(0, g=14), False, [])
    rule("a04-gad7-15", [], S(0, g=15), False, ["A04"])
    rule("a04-phq9-19-gad7-14", [], S(0, 19, 14), False, [])
    rule("a04-prorated-19", [], S(0, [3, 3, 3, 2, 2, 2, 2, M, 0]), False, [])
    rule("a04-prorated-20", [], S(0, [3, 3, 3, 3, 2, 2, 2, M, 0]), False, ["A04"])
    rule("a04-incomplete-phq9-sum-18", [], S(0, [M, M, M, 3, 3, 3, 3, 3, 3]), False,
         ["A01/item9_2"])
    rule("a04-incomplete-gad7-sum-18", [], S(0, g=[3, 3, 3, 3, 3, 3, M]), False, [])
    # A05
    rule("a05-previous-plus-4", [S(0, 8)], S(14, 12), False, [])
    rule("a05-previous-plus-5", [S(0, 8)], S(14, 13), False, ["A05"])
    rule("a05-nadir-plus-4", [S(0, 12), S(14, 6), S(28, 10)], S(42, 10), False, [])
    rule("a05-nadir-plus-5", [S(0, 12), S(14, 6), S(28, 10)], S(42, 11), False, ["A05"])
    rule("a05-into-15-from-14", [S(0, 14)], S(14, 15), False, ["A05"])
    rule("a05-15-to-16", [S(0, 15)], S(14, 16), False, [])
    rule("a05-10-to-14", [S(0, 10)], S(14, 14), False, [])
    rule("a05-first-phq9", [], S(0, 19), False, [])
    rule("a05-gad7-plus-3", [S(0, g=6)], S(14, g=9), False, [])
    rule("a05-gad7-plus-4", [S(0, g=6)], S(14, g=10), False, ["A05"])
    rule("a05-gad7-into-15", [S(0, g=14)], S(14, g=15), False, ["A04", "A05"])
    rule("a05-gad7-15-to-16", [S(0, g=15)], S(14, g=16), False, ["A04"])
    rule("a05-gad7-vs-last-gad7", [S(0, 10, 3), S(14, 10, 9), S(28, 10)], S(42, 10, 12), False, [])
    rule("a05-previous-skips-incomplete", [S(0, 8), S(14, [M, M, M, 0, 0, 0, 0, 0, 0])],
         S(28, 13), False, ["A05"])
    rule("a05-previous-is-prorated", [S(0, 14), S(14, [M, 1, 1, 1, 1, 1, 1, 1, 1])], S(28, 14),
         False, ["A05"])
    rule("a05-latest-prorated", [S(0, 8)], S(14, [2, 2, 2, 2, 2, 1, 1, M, 0]), False, ["A05"])
    rule("a05-latest-incomplete", [S(0, 8)], S(14, [M, M, M, 3, 3, 3, 3, 3, 0]), False, [])
    rule("a05-gad7-previous-skips-incomplete", [S(0, g=6), S(14, g=[M, 0, 0, 0, 0, 0, 0])],
         S(28, g=10), False, ["A05"])
    rule("a05-gad7-latest-incomplete", [S(0, g=2)], S(14, g=[3, 3, 3, 3, 3, 3, M]), False, [])
    # relapse prevention: A11 for the PHQ-9, A05 still for the GAD-7
    rule("rp-gad7-plus-3", [S(0, g=5)], S(14, g=8), True, [])
    rule("rp-gad7-plus-4", [S(0, g=5)], S(14, g=9), True, ["A05"])
    rule("rp-gad7-into-15", [S(0, g=14)], S(14, g=15), True, ["A04", "A05"])
    rule("rp-gad7-15-to-16", [S(0, g=15)], S(14, g=16), True, ["A04"])
    rule("rp-phq9-plus-5-no-a05", [S(0, 3)], S(14, 8), True, ["A11"])
    rule("rp-phq9-into-15-no-a05", [S(0, 14)], S(14, 15), True, ["A11"])
    rule("rp-phq9-and-gad7", [S(0, 4, 6)], S(14, 10, 10), True, ["A05", "A11"])
    # A11
    rule("a11-9", [S(0, 6)], S(14, 9), True, [])
    rule("a11-10", [S(0, 6)], S(14, 10), True, ["A11"])
    rule("a11-previous-plus-5", [S(0, 2)], S(14, 7), True, ["A11"])
    rule("a11-previous-plus-4", [S(0, 3)], S(14, 7), True, [])
    rule("a11-nadir-plus-5", [S(0, 5), S(14, 1), S(28, 5)], S(42, 6), True, ["A11"])
    rule("a11-nadir-plus-4", [S(0, 5), S(14, 2), S(28, 5)], S(42, 6), True, [])
    rule("a11-not-outside-relapse-prevention", [S(0, 6)], S(14, 10), False, [])
    rule("a11-latest-prorated-10", [S(0, 6)], S(14, [2, 2, 1, 1, 1, 1, 1, M, 0]), True, ["A11"])
    rule("a11-latest-incomplete", [S(0, 6)], S(14, [M, M, M, 3, 3, 3, 3, 3, 0]), True, [])
    # A06 (AIMS: 10 weeks, less than 50 % improvement, not in remission)
    rule("a06-week-9", [S(0, 18)], S(69, 12), False, [])
    rule("a06-week-10", [S(0, 18)], S(70, 12), False, ["A06"])
    rule("a06-exactly-50-percent", [S(0, 20)], S(70, 10), False, ["A10/response"])
    rule("a06-just-under-50-percent", [S(0, 19)], S(70, 10), False, ["A06"])
    rule("a06-phq9-9-not-improved", [S(0, 12)], S(70, 9), False, ["A06"])
    rule("a06-phq9-5", [S(0, 6)], S(70, 5), False, ["A06"])
    rule("a06-phq9-4-remission", [S(0, 6)], S(70, 4), False, [])
    rule("a06-plan-start-0", [S(0, 0)], S(70, 5), False, ["A05", "A06"])
    rule("a06-plan-start-on-plan-day", [S(0, 20), S(28, 16), PLAN(28, False)], S(98, 12), False,
         ["A06"])
    rule("a06-plan-start-on-plan-day-improved", [S(0, 20), S(28, 24), PLAN(28, False)], S(98, 12),
         False, [])
    rule("a06-plan-start-before-plan", [S(0, 22), PLAN(28, False), S(42, 18)], S(98, 11), False,
         ["A10/response"])
    rule("a06-plan-start-first-after", [PLAN(0, False), S(14, 18)], S(70, 10), False, ["A06"])
    rule("a06-plan-start-is-latest", [PLAN(0, False)], S(70, 6), False, ["A06"])
    rule("a06-plan-after-latest-ignored", [S(0, 18), PLAN(80, True)], S(70, 12), False, ["A06"])
    rule("a06-weeks-from-plan", [S(0, 18), PLAN(7, False)], S(70, 12), False, [])
    rule("a06-gad7-only", [S(0, 18)], S(70, g=12), False, [])
    rule("a06-latest-prorated", [S(0, 18)], S(70, [2, 2, 1, 1, 1, 1, 1, M, 0]), False, ["A06"])
    rule("a06-latest-incomplete", [S(0, 18)], S(70, [M, M, M, 2, 2, 2, 2, 2, 0]), False, [])
    rule("a06-plan-start-skips-incomplete", [S(0, 20), PLAN(0, False),
                                             S(0, [M, M, M, 0, 0, 0, 0, 0, 0])], S(70, 10), False,
         ["A10/response"])
    rule("a06-config-8-weeks", [S(0, 18)], S(56, 12), False, ["A06"], cfg=(8, 4, 6))
    rule("a06-config-8-weeks-7", [S(0, 18)], S(55, 12), False, [], cfg=(8, 4, 6))
    # A10
    rule("a10-baseline-9", [S(0, 9)], S(14, 4), False, [])
    rule("a10-baseline-10-remission", [S(0, 10)], S(14, 4), False, ["A10/remission"])
    rule("a10-remission-already", [S(0, 10), S(14, 4)], S(28, 3), False, [])
    rule("a10-response", [S(0, 20), S(14, 11)], S(28, 10), False, ["A10/response"])
    rule("a10-not-response", [S(0, 20), S(14, 12)], S(28, 11), False, [])
    rule("a10-response-already", [S(0, 20), S(14, 10)], S(28, 9), False, [])
    rule("a10-remission-wins", [S(0, 20), S(14, 12)], S(28, 4), False, ["A10/remission"])
    rule("a10-remission-5", [S(0, 20), S(14, 12)], S(28, 5), False, ["A10/response"])
    rule("a10-no-previous", [], S(0, 3), False, [])
    rule("a10-previous-skips-incomplete", [S(0, 10), S(14, [M, M, M, 1, 1, 0, 0, 0, 0])],
         S(28, 4), False, ["A10/remission"])
    rule("a10-baseline-skips-incomplete", [S(0, [M, M, M, 3, 3, 3, 3, 3, 3]), S(14, 9)],
         S(28, 4), False, [])
    rule("a10-baseline-prorated", [S(0, [M, 2, 2, 1, 1, 1, 1, 1, 1]), S(14, 9)], S(28, 4), False,
         ["A10/remission"])
    rule("a10-latest-prorated-5-no-remission", [S(0, 12)], S(14, [1, 1, 1, 1, 0, 0, 0, M, 0]),
         False, ["A10/response"])
    rule("a10-latest-prorated-3-remission", [S(0, 12)], S(14, [1, 1, 1, 0, 0, 0, 0, M, 0]), False,
         ["A10/remission"])
    rule("a10-latest-incomplete", [S(0, 12)], S(14, [M, M, M, 0, 0, 0, 0, 0, 0]), False, [])
    rule("a10-relapse-prevention", [S(0, 12)], S(14, 4), True, ["A10/remission"])
    # A06b
    rule("a06b-week-4-reduction-below-25", [S(0, 16), PLAN(0, True)], S(28, 13), False, ["A06b"])
    rule("a06b-week-4-reduction-25", [S(0, 16), PLAN(0, True)], S(28, 12), False, [])
    rule("a06b-week-3", [S(0, 16), PLAN(0, True)], S(27, 13), False, [])
    rule("a06b-week-6", [S(0, 16), PLAN(0, True)], S(48, 13), False, ["A06b"])
    rule("a06b-week-7", [S(0, 16), PLAN(0, True)], S(49, 13), False, [])
    rule("a06b-no-antidepressant", [S(0, 16), PLAN(0, False)], S(28, 13), False, [])
    rule("a06b-last-plan-wins", [S(0, 20), PLAN(7, False), S(14, 18), PLAN(28, True), S(28, 16)],
         S(56, 14), False, ["A06b"])
    rule("a06b-last-plan-wins-off", [S(0, 20), PLAN(7, True), S(14, 18), PLAN(28, False),
                                     S(28, 16)], S(56, 14), False, [])
    rule("a06b-plan-start-is-latest", [PLAN(0, True)], S(35, 12), False, ["A06b"])
    rule("a06b-latest-incomplete", [S(0, 16), PLAN(0, True)], S(28, [M, M, M, 3, 3, 3, 3, 3, 0]),
         False, [])
    # date order: records by their day, same-day records in entry order, the latest entered last
    rule("order-backdated-no-a05", [S(0, 20), S(28, 10)], S(14, 18), False, [])
    rule("order-backdated-no-a11", [S(0, 6), S(28, 2)], S(14, 7), True, [])
    rule("order-backdated-no-a10-against-later", [S(0, 20), S(7, 8), S(28, 14)], S(14, 9), False,
         [])
    rule("order-backdated-gad7-no-a05", [S(0, g=12), S(28, g=5)], S(14, g=10), False, [])
    rule("order-backdated-item9-still-a01", [S(0, 20), S(28, 10)], S(14, 18, item9=2), False,
         ["A01/item9_2"])
    rule("order-later-dated-baseline", [S(28, 12)], S(0, 20), False, ["A04"])
    rule("order-baseline-entered-later", [S(14, 20), S(0, 16)], S(28, 12), False, [])
    rule("order-history-out-of-order", [S(28, 10), S(0, 20)], S(42, 16), False, ["A05"])
    rule("order-same-day-history-is-earlier", [S(0, 12), S(14, 6)], S(14, 12), False, ["A05"])
    rule("order-same-day-entry-order", [S(0, 20), S(14, 8), S(14, 12)], S(14, 10), False,
         ["A10/response"])
    rule("order-same-day-entry-order-2", [S(0, 20), S(14, 12), S(14, 8)], S(14, 10), False, [])
    rule("order-same-day-plans-entry-order", [PLAN(0, True), PLAN(0, False), S(0, 16)], S(28, 13),
         False, [])
    rule("order-same-day-plans-entry-order-2", [PLAN(0, False), PLAN(0, True), S(0, 16)],
         S(28, 13), False, ["A06b"])
    rule("order-plan-entered-late", [S(0, 16), S(28, 13), PLAN(0, True)], S(35, 13), False,
         ["A06b"])
    rule("order-plan-start-first-after-by-date", [PLAN(0, True), S(21, 16), S(7, 20)], S(35, 13),
         False, [])
    rule("order-plan-start-not-from-later-dated", [PLAN(0, False), S(70, 10)], S(14, 18), False,
         [])
    rule("order-plan-after-backdated-latest", [S(0, 18), PLAN(50, True)], S(28, 15), False, [])
    rule("order-gad7-only-before-baseline", [S(28, 14)], S(0, g=6), False, [])
    rule("order-incomplete-before-baseline", [S(28, 14)], S(0, [M, M, M, 1, 1, 1, 1, 1, 0]),
         False, [])
    # combinations, order
    rule("order-a01-a04-a05", [S(0, 12, 8)], S(14, 22, 16, item9=2), False,
         ["A01/item9_2", "A04", "A05"])
    rule("order-a01-a04-a11", [S(0, 3)], S(14, 21, item9=3), True, ["A01/item9_2", "A04", "A11"])
    rule("order-a01-a04-a05-a11", [S(0, 3, 10)], S(14, 21, 15, item9=1), True,
         ["A01/item9_1", "A04", "A05", "A11"])
    rule("order-five-config", [S(0, 14, 8), PLAN(0, True)], S(28, 20, 12, item9=1), False,
         ["A01/item9_1", "A04", "A05", "A06", "A06b"], cfg=(4, 4, 6))
    rule("config-early-window-5-5", [S(0, 16), PLAN(0, True)], S(28, 13), False, [],
         cfg=(8, 5, 5))
    rule("phq2-only", [S(0, 12)], S(14, phq2=[3, 3]), False, [])
    rule("phq2-incomplete", [S(0, 12)], S(14, phq2=[3, M]), False, [])
    rule("incomplete-phq9-with-gad7", [S(0, 12, 6)], S(14, [M, M, M, 3, 3, 3, 3, 3, 0], 10),
         False, ["A05"])
    rule("prorated-phq9-with-gad7", [S(0, 12, 6)], S(14, [M, 3, 3, 3, 3, 3, 3, 3, 0], 10),
         False, ["A04", "A05"])
    V["rules"] = R

    # (d) record codec
    recs = []
    for name, r in (
            ("scales-all", S(0, phq2=[1, 2], p=[1, 2, 1, 2, 1, 2, 1, 3, 1], g=[0, 1, 2, 3, 2, 1, 0])),
            ("scales-example", {"kind": "scales", "date": "2026-11-23",
                                "phq9": [2, 2, 2, 2, 2, 1, 1, 1, 1], "gad7": [2, 1, 1, 1, 1, 1, 1]}),
            ("phq2-negative", {"kind": "scales", "date": "2026-03-01", "phq2": [1, 1]}),
            ("phq2-positive", {"kind": "scales", "date": "2026-03-01", "phq2": [2, 1]}),
            ("phq9-minimal", {"kind": "scales", "date": "2026-03-01", "phq9": [0] * 9}),
            ("phq9-modsevere", {"kind": "scales", "date": "2026-03-01", "phq9": phq9(17, 3)}),
            ("phq9-severe", {"kind": "scales", "date": "2026-03-01", "phq9": [3] * 9}),
            ("gad7-severe", {"kind": "scales", "date": "2026-03-01", "gad7": [3] * 7}),
            ("phq2-gad7", {"kind": "scales", "date": "2026-03-01", "phq2": [0, 0], "gad7": [1] * 7}),
            ("date-epoch", {"kind": "scales", "date": "1970-01-01", "phq9": [1] * 9}),
            ("date-max", {"kind": "scales", "date": "9999-12-31", "gad7": [0] * 7}),
            ("date-leap", {"kind": "scales", "date": "2024-02-29", "phq2": [3, 3]}),
            ("phq9-prorated", {"kind": "scales", "date": "2026-03-01",
                               "phq9": [1, 1, None, 1, 1, 1, 1, 1, 3]}),
            ("phq9-prorated-half-up", {"kind": "scales", "date": "2026-03-01",
                                       "phq9": [2, 2, 2, 2, 1, 1, 1, None, 1]}),
            ("phq9-prorated-2-missing", {"kind": "scales", "date": "2026-03-01",
                                         "phq9": [None, 2, 2, 1, 1, 1, 1, None, 0]}),
            ("phq9-prorated-item9-missing", {"kind": "scales", "date": "2026-03-01",
                                             "phq9": [2, 2, 2, 2, 2, 1, 1, 1, None]}),
            ("phq9-incomplete-item9-missing", {"kind": "scales", "date": "2026-03-01",
                                               "phq9": [None, None, 1, 1, 1, 1, 1, 1, None]}),
            ("phq9-incomplete-item9-answered", {"kind": "scales", "date": "2026-03-01",
                                                "phq9": [None, None, None, 3, 3, 3, 3, 3, 1]}),
            ("phq9-one-answer", {"kind": "scales", "date": "2026-03-01",
                                 "phq9": [None] * 8 + [0]}),
            ("gad7-incomplete", {"kind": "scales", "date": "2026-03-01",
                                 "gad7": [3, 3, 3, 3, 3, 3, None]}),
            ("phq2-incomplete", {"kind": "scales", "date": "2026-03-01", "phq2": [None, 2]}),
            ("scales-all-with-missing", {"kind": "scales", "date": "2026-03-01",
                                         "phq2": [1, None], "phq9": [1, 2, 1, 2, None, 2, 1, 3, 1],
                                         "gad7": [None, 1, 2, 3, 2, 1, 0]}),
            ("plan-antidepressant", {"kind": "plan", "date": "2026-11-01", "antidepressant": True}),
            ("plan-other", {"kind": "plan", "date": "2026-11-01", "antidepressant": False})):
        recs.append({"name": name, "record": r, "text": record_text(r), "body": encode(r)})
    V["records"] = recs

    ex = {"kind": "scales", "date": "2026-11-23", "phq9": [2, 2, 2, 2, 2, 1, 1, 1, 1]}
    prefix = '{"v":1,"kind":"scales","date":"2026-11-23","phq9":[2,2,2,2,2,1,1,1,1],"text":"'
    pad4096 = prefix + "x" * (4096 - len(prefix) - 2) + '"}'
    pad4097 = prefix + "x" * (4097 - len(prefix) - 2) + '"}'
    assert len(pad4096) == 4096 and len(pad4097) == 4097
    ok = [
        ("reordered-spaces-unknown-keys",
         ' {\n "text" : "t", "x":{"a":[1,{"b":null}]}, "phq9" : [2,2,2,2,2,1,1,1,1],\n'
         ' "date":"2026-11-23", "kind":"scales", "v":1, "future":true }\n', ex, "t"),
        ("text-escapes",
         '{"v":1,"kind":"plan","date":"2026-11-01","antidepressant":false,'
         '"text":"a\\"b\\\\c\\/d\\n\\t\\u00e9\\ud83d\\ude00 \u00e9"}',
         {"kind": "plan", "date": "2026-11-01", "antidepressant": False},
         "a\"b\\c/d\n\t\u00e9\U0001F600 \u00e9"),
        ("text-empty", '{"v":1,"kind":"scales","date":"2026-11-23","phq2":[0,3],"text":""}',
         {"kind": "scales", "date": "2026-11-23", "phq2": [0, 3]}, ""),
        ("null-items-spaces",
         '{"v":1,"kind":"scales","date":"2026-11-23","phq9":[ null ,1,1,1,1,1,1,1, 2 ],'
         '"gad7":[0,null,null,null,null,null,null],"text":"t"}',
         {"kind": "scales", "date": "2026-11-23", "phq9": [None, 1, 1, 1, 1, 1, 1, 1, 2],
          "gad7": [0, None, None, None, None, None, None]}, "t"),
        ("text-not-checked-against-fields",
         '{"v":1,"kind":"scales","date":"2026-11-23","gad7":[0,0,0,0,0,0,0],"text":"PHQ-9 27"}',
         {"kind": "scales", "date": "2026-11-23", "gad7": [0] * 7}, "PHQ-9 27"),
        ("size-4096", pad4096, ex, "x" * (4096 - len(prefix) - 2)),
        ("depth-16", '{"v":1,"kind":"plan","date":"2026-11-01","antidepressant":true,"text":"",'
                     '"x":' + "[" * 15 + "]" * 15 + "}",
         {"kind": "plan", "date": "2026-11-01", "antidepressant": True}, ""),
    ]
    V["parse"] = [{"name": n, "body": b, "record": r, "text": t} for n, b, r, t in ok]

    good = '"v":1,"kind":"scales","date":"2026-11-23","phq9":[2,2,2,2,2,1,1,1,1],"text":"t"'

    def body(**kw):
        o = {"v": 1, "kind": "scales", "date": "2026-11-23", "phq9": [2, 2, 2, 2, 2, 1, 1, 1, 1],
             "text": "t"}
        for k, v in kw.items():
            if v is DEL:
                del o[k]
            else:
                o[k] = v
        return json.dumps(o, separators=(",", ":"))
    DEL = object()
    plan = '{"v":1,"kind":"plan","date":"2026-11-01",%s"text":"t"}'
    rej = [
        ("empty", ""), ("null", "null"), ("array", "[]"), ("string", '"x"'), ("number", "1"),
        ("v-missing", body(v=DEL)), ("v-2", body(v=2)), ("v-0", body(v=0)), ("v-string", body(v="1")),
        ("v-real", '{"v":1.0,' + good[6:] + "}"), ("v-true", body(v=True)),
        ("v-huge", '{"v":100000000000000000000000,' + good[6:] + "}"),
        ("kind-missing", body(kind=DEL)), ("kind-unknown", body(kind="medication")),
        ("kind-case", body(kind="Scales")), ("kind-number", body(kind=1)),
        ("date-missing", body(date=DEL)), ("date-feb-29-2026", body(date="2026-02-29")),
        ("date-month-13", body(date="2026-13-01")), ("date-one-digit-month", body(date="2026-1-01")),
        ("date-day-0", body(date="2026-01-00")), ("date-apr-31", body(date="2026-04-31")),
        ("date-1900-02-29", body(date="1900-02-29")), ("date-before-1970", body(date="1969-12-31")),
        ("date-time", body(date="2026-11-23T00:00:00Z")), ("date-slashes", body(date="2026/11/23")),
        ("date-number", body(date=20261123)), ("date-trailing-space", body(date="2026-11-23 ")),
        ("no-scale", body(phq9=DEL)), ("phq9-8-items", body(phq9=[1] * 8)),
        ("phq9-10-items", body(phq9=[1] * 10)), ("phq9-item-4", body(phq9=[0, 0, 0, 4, 0, 0, 0, 0, 0])),
        ("phq9-item-negative", body(phq9=[0, 0, 0, -1, 0, 0, 0, 0, 0])),
        ("phq9-item-real", '{' + good.replace("[2,2,2,2,2,1,1,1,1]", "[2,2,2,2,2,1,1,1,1.0]") + "}"),
        ("phq9-item-exponent", '{' + good.replace("[2,2,2,2,2,1,1,1,1]", "[2,2,2,2,2,1,1,1,1e0]") + "}"),
        ("phq9-item-string", body(phq9=[2, 2, 2, 2, 2, 1, 1, 1, "1"])),
        ("phq9-all-null", body(phq9=[None] * 9)),
        ("gad7-all-null", body(gad7=[None] * 7)),
        ("phq2-all-null", body(phq2=[None, None])),
        ("phq9-all-null-gad7-answered", body(phq9=[None] * 9, gad7=[0] * 7)),
        ("phq9-8-items-with-null", body(phq9=[1] * 7 + [None])),
        ("phq9-10-items-with-null", body(phq9=[1] * 9 + [None])),
        ("phq9-item-false", body(phq9=[2, 2, 2, 2, 2, 1, 1, 1, False])),
        ("phq9-item-array", body(phq9=[2, 2, 2, 2, 2, 1, 1, 1, []])),
        ("phq9-item-true", body(phq9=[2, 2, 2, 2, 2, 1, 1, 1, True])),
        ("phq9-object", body(phq9={"0": 1})), ("phq9-null", body(phq9=None)),
        ("phq2-3-items", body(phq2=[1, 1, 1])), ("phq2-1-item", body(phq2=[1])),
        ("gad7-6-items", body(gad7=[1] * 6)), ("gad7-8-items", body(gad7=[1] * 8)),
        ("gad7-item-4", body(gad7=[0, 0, 0, 0, 0, 0, 4])),
        ("scales-with-antidepressant", body(antidepressant=True)),
        ("plan-no-antidepressant", plan % ""),
        ("plan-antidepressant-string", plan % '"antidepressant":"true",'),
        ("plan-antidepressant-1", plan % '"antidepressant":1,'),
        ("plan-antidepressant-null", plan % '"antidepressant":null,'),
        ("plan-with-phq9", plan % '"antidepressant":true,"phq9":[0,0,0,0,0,0,0,0,0],'),
        ("plan-with-phq2", plan % '"antidepressant":true,"phq2":[0,0],'),
        ("text-missing", body(text=DEL)), ("text-number", body(text=1)), ("text-null", body(text=None)),
        ("duplicate-key", '{"v":1,' + good + "}"),
        ("duplicate-phq9", '{' + good + ',"phq9":[0,0,0,0,0,0,0,0,0]}'),
        ("trailing-garbage", "{" + good + "}x"), ("two-objects", "{" + good + "}{}"),
        ("truncated", "{" + good), ("single-quotes", "{'v':1}"),
        ("text-nul", "{" + good.replace('"text":"t"', '"text":"a\\u0000b"') + "}"),
        ("text-lone-surrogate", "{" + good.replace('"text":"t"', '"text":"\\ud800"') + "}"),
        ("size-4097", pad4097),
        ("depth-17", '{"v":1,"kind":"plan","date":"2026-11-01","antidepressant":true,"text":"",'
                     '"x":' + "[" * 16 + "]" * 16 + "}"),
    ]
    V["reject"] = [{"name": n, "body": b} for n, b in rej]
    # bodies that are not UTF-8: hex only
    bad_utf8 = ("{" + good.replace('"text":"t"', '"text":"') ).encode() + b"\xc3\x28" + b'"}'
    overlong = ("{" + good.replace('"text":"t"', '"text":"') ).encode() + b"\xc0\xaf" + b'"}'
    V["reject"].append({"name": "text-invalid-utf8", "body_hex": bad_utf8.hex()})
    V["reject"].append({"name": "text-overlong-utf8", "body_hex": overlong.hex()})
    for v in V["reject"]:
        if v["name"] in ("v-real", "phq9-item-real", "phq9-item-exponent"):
            v["note"] = ("numbers must be integer tokens (no fraction or exponent); JSON.parse "
                         "alone cannot tell 1.0 from 1")
        if v["name"] == "depth-17":
            v["note"] = "nesting deeper than 16 (SES_MAX_JSON_DEPTH, the top-level object is 1)"
        if v["name"] == "text-nul":
            v["note"] = "U+0000 is refused anywhere in the body"

    for k in ("scoring", "rules", "records", "parse", "reject"):
        names = [v["name"] for v in V[k]]
        assert len(names) == len(set(names)), "duplicate names in " + k
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        # one vector a line, so that a diff shows which vector changed
        f.write("{\n")
        keys = list(V)
        for i, k in enumerate(keys):
            f.write(" %s: " % json.dumps(k))
            if isinstance(V[k], list):
                f.write("[\n")
                for j, v in enumerate(V[k]):
                    f.write("  " + json.dumps(v, ensure_ascii=False) + ("," if j + 1 < len(V[k]) else "") + "\n")
                f.write(" ]")
            else:
                f.write(json.dumps(V[k], ensure_ascii=False))
            f.write(",\n" if i + 1 < len(keys) else "\n")
        f.write("}\n")


main()
