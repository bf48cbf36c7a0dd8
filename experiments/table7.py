"""Tables 7.1-7.3 (Sec. 7.4): DIME for each MBS, JointDNN and the exhaustive Optimal with
bundle profiles, per bandwidth; shared by ``table7_1``, ``table7_2`` and ``table7_3``.

One row per (profile set, method, MBS, network point): the transition (the first real layer
not on the edge, 'none' if every real layer stays there; with more than two devices, or more
than one hand-over, every hand-over as ``layer -> device``), the estimated latency (the ILP
objective; for Optimal its actual latency), the actual latency (every device's segment scored
with the profile of the whole segment) and the number of profiles the method needs (all
devices). JointDNN and Optimal do not depend on MBS: the sweep runs them once per MBS value
and the rows are deduplicated here.

Our profiles (data/profiles/synthetic, data/profiles/cpu) are not the thesis' measurements,
so latencies and transitions are not expected to match the published ones; the #profiles
column is a pure function of L, MBS and the number of devices and must match exactly.
The claims of the thesis are judged on our numbers.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from layerplan.experiments.plotting import bw_label
from layerplan.experiments.records import claim, claims_markdown, markdown_table, published, write_csv

#: pseudo layers of the scenario (pinned input/output, preprocessing): not DNN layers
PSEUDO = ("source", "preprocess", "destination")
#: equality of latencies (s) between two plans (same plan gives bit-identical numbers)
EPS = 1e-6
METHODS = ("DIME", "JointDNN", "Optimal")
#: the thesis' names of AlexNet's major layers -> ours (data/dnn/alexnet_major.csv)
THESIS_NAMES = {"alexnet": {"fc1": "fc6", "fc2": "fc7", "fc3": "fc8"}}


# ----------------------------------------------------------------------------------------
# records -> rows
# ----------------------------------------------------------------------------------------

def method_of(rec: dict) -> str | None:
    if rec.get("baseline") == "exhaustive":
        return "Optimal"
    if "dime" in rec:
        return "DIME"
    if "jointdnn" in rec:
        return "JointDNN"
    return None


def profile_set(rec: dict) -> str:
    src = ((rec.get("config") or {}).get("profiles") or {}).get("source")
    return os.path.basename(str(src).rstrip("/")) if src else "none"


def real_layers(rec: dict) -> list[tuple[str, str]]:
    return [(a["layer"], a["device"]) for a in rec.get("assignment") or [] if a["layer"] not in PSEUDO]


def source_device(rec: dict) -> str:
    return ((rec.get("config") or {}).get("devices") or {}).get("source") or "edge"


def handovers(rec: dict) -> list[tuple[str, str]]:
    """(first layer, device) each time the real layers change device, starting on the source."""
    out, cur = [], source_device(rec)
    for layer, dev in real_layers(rec):
        if dev != cur:
            out.append((layer, dev))
            cur = dev
    return out


def transition(rec: dict) -> str:
    hs = handovers(rec)
    if not hs:
        return "none"
    if len(rec.get("devices") or []) == 2 and len(hs) == 1:
        return hs[0][0]
    return ", ".join(f"{l} -> {d}" for l, d in hs)


def network_point(rec: dict) -> tuple[float, float | None]:
    """(bandwidth_Bps of every link, bandwidth of the first per-link override or None)."""
    net = (rec.get("config") or {}).get("network") or {}
    links = net.get("links") or []
    lan = float(links[0]["bandwidth_Bps"]) if links else None
    return float(net.get("bandwidth_Bps")), lan


def n_real(rec: dict) -> int:
    return len(real_layers(rec))


def full_profiles(L: int, D: int) -> int:
    """Profiles of every bundle on every device: L (L + 1) / 2 x D (Sec. 7.2)."""
    return L * (L + 1) // 2 * D


def row_of(rec: dict) -> dict | None:
    m = method_of(rec)
    if m is None or rec.get("status") not in ("optimal", "feasible"):
        return None
    L, D = n_real(rec), len(rec.get("devices") or [])
    bw, lan = network_point(rec)
    if m == "Optimal":
        act = rec["actual_latency_s"]["total"]
        est, mbs, prof = act, None, full_profiles(L, D)
    else:
        sec = rec[m.lower()]
        est = sec["estimated_latency_s"]
        act = sec["actual_latency_s"]["total"]
        mbs = sec["mbs"] if m == "DIME" else None
        prof = sec["profiles_total"]
    return {
        "dnn": rec.get("dnn"),
        "profiles_set": profile_set(rec),
        "method": m,
        "mbs": mbs,
        "L": L,
        "devices": D,
        "bandwidth_Bps": bw,
        "lan_Bps": lan,
        "transition": transition(rec),
        "est_s": est,
        "act_s": act,
        "gap_s": act - est,
        "profiles": prof,
        "plan": " ".join(f"{l}@{d}" for l, d in real_layers(rec)),
    }


def rows_from(records: list[dict]) -> tuple[list[dict], list[dict], int]:
    """(deduplicated rows, failed records, number of duplicate JointDNN/Optimal jobs dropped)."""
    seen, rows, failed, dups = set(), [], [], 0
    for rec in records:
        if rec.get("status") not in ("optimal", "feasible"):
            failed.append(rec)
            continue
        row = row_of(rec)
        if row is None:
            continue
        key = (row["profiles_set"], row["method"], row["mbs"], row["bandwidth_Bps"], row["lan_Bps"])
        if key in seen:
            dups += 1
            continue
        seen.add(key)
        rows.append(row)
    order = {m: i for i, m in enumerate(METHODS)}
    rows.sort(key=lambda r: (r["profiles_set"] != "synthetic", r["profiles_set"], order[r["method"]],
                             r["mbs"] or 0, r["bandwidth_Bps"], r["lan_Bps"] or 0))
    return rows, failed, dups


# ----------------------------------------------------------------------------------------
# published values
# ----------------------------------------------------------------------------------------

def _f(v: str) -> float | None:
    return float(v) if v not in (None, "") else None


def published_rows(name: str) -> dict:
    """{(method, mbs or None, bandwidth_Bps): {trans, est, act, profiles}} of the thesis."""
    out = {}
    for r in published(name):
        mbs = int(r["mbs"]) if r.get("mbs") else None
        if r["method"] != "DIME":
            mbs = None
        out[(r["method"], mbs, float(r["bandwidth_Bps"]))] = {
            "trans": r["trans"], "est": _f(r.get("est")), "act": _f(r.get("act")),
            "profiles": int(r["profiles"]) if r.get("profiles") else None,
            "lan": _f(r.get("lan_Bps")),
        }
    return out


def thesis_profiles(pub: dict, method: str, mbs: int | None) -> int | None:
    vals = {v["profiles"] for (m, b, _), v in pub.items() if m == method and b == mbs}
    return vals.pop() if len(vals) == 1 else None


# ----------------------------------------------------------------------------------------
# formatting
# ----------------------------------------------------------------------------------------

def fmt_lat(v: float | None, digits: int = 4) -> str:
    return "" if v is None else f"{v:.{digits}f}"


def cell(trans: str, est: float | None, act: float | None, opt: float | None, digits: int = 4) -> str:
    """'trans est / act' with the values equal to the optimum (at the shown precision) in bold,
    as in the thesis."""
    def one(v):
        s = fmt_lat(v, digits)
        if v is not None and opt is not None and round(v, digits) == round(opt, digits):
            return f"**{s}**"
        return s

    if est is None:
        return f"{trans} {one(act)}"
    return f"{trans} {one(est)} / {one(act)}"


# ----------------------------------------------------------------------------------------
# Tables 7.1 and 7.2: MBS x bandwidth on the edge-cloud pair
# ----------------------------------------------------------------------------------------

def _lookup(rows: list[dict]) -> dict:
    return {(r["profiles_set"], r["method"], r["mbs"], r["bandwidth_Bps"]): r for r in rows}


def sweep_tables(rows: list[dict], pub: dict, dnn: str) -> list[str]:
    lines = []
    at = _lookup(rows)
    pub_bws = sorted({k[2] for k in pub})
    for ps in dict.fromkeys(r["profiles_set"] for r in rows):
        sub = [r for r in rows if r["profiles_set"] == ps]
        bws = sorted({r["bandwidth_Bps"] for r in sub} | set(pub_bws))
        ours_bws = {r["bandwidth_Bps"] for r in sub}
        mbss = sorted({r["mbs"] for r in sub if r["method"] == "DIME"})
        L = sub[0]["L"]
        cols = ["method", "MBS"]
        for b in bws:
            cols += [f"{bw_label(b)} ours", f"{bw_label(b)} thesis"]
        cols += ["#profiles ours", "#profiles thesis"]
        table = []
        keys = [("DIME", m) for m in sorted(set(mbss) | {k[1] for k in pub if k[0] == "DIME"})]
        keys += [("JointDNN", None), ("Optimal", None)]
        for method, mbs in keys:
            line = {"method": method, "MBS": mbs if mbs is not None else ""}
            ours_prof = None
            for b in bws:
                r = at.get((ps, method, mbs, b))
                opt = at.get((ps, "Optimal", None, b))
                if r is not None:
                    ours_prof = r["profiles"]
                    line[f"{bw_label(b)} ours"] = cell(r["transition"], None if method == "Optimal" else r["est_s"],
                                                       r["act_s"], opt["act_s"] if opt else None)
                elif b in ours_bws:
                    line[f"{bw_label(b)} ours"] = "(not run)"
                t = pub.get((method, mbs, b))
                if t is not None:
                    topt = pub.get(("Optimal", None, b))
                    line[f"{bw_label(b)} thesis"] = cell(t["trans"], t["est"], t["act"], topt["act"] if topt else None, 3)
            line["#profiles ours"] = ours_prof
            line["#profiles thesis"] = thesis_profiles(pub, method, mbs)
            table.append(line)
        lines += ["", f"### Profiles: {ps} (L = {L})", "",
                  "Each cell: transition, estimated / actual latency (s); Optimal: its (actual) latency. "
                  "Bold: equal to the Optimal latency of that column at the shown precision (as in the "
                  "thesis). Empty: not run (ours) or not in the thesis table.", ""]
        lines += markdown_table(table, cols)
    return lines


def gap_by_mbs(rows: list[dict], ps: str) -> dict[int, float]:
    """Mean |actual - estimated| over the bandwidths, per MBS (DIME rows of profile set ``ps``)."""
    by: dict[int, list[float]] = {}
    for r in rows:
        if r["profiles_set"] == ps and r["method"] == "DIME":
            by.setdefault(r["mbs"], []).append(abs(r["gap_s"]))
    return {m: sum(v) / len(v) for m, v in sorted(by.items())}


def spearman(xs: list[float], ys: list[float]) -> float | None:
    def ranks(v):
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        i = 0
        while i < len(v):
            j = i
            while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2
            i = j + 1
        return r

    if len(xs) < 2:
        return None
    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sx = math.sqrt(sum((a - mx) ** 2 for a in rx))
    sy = math.sqrt(sum((b - my) ** 2 for b in ry))
    if sx == 0 or sy == 0:
        return None
    return sum((a - mx) * (b - my) for a, b in zip(rx, ry)) / (sx * sy)


def same_as(r: dict, opt: dict) -> bool:
    return r["transition"] == opt["transition"] and abs(r["act_s"] - opt["act_s"]) <= EPS


def sweep_claims(rows: list[dict], pub: dict, highest_bws: tuple = (), cloud_only_bws: tuple = (),
                 notes: list[str] | None = None) -> tuple[list[dict], list[str]]:
    claims, skipped = [], []
    notes = notes if notes is not None else []
    at = _lookup(rows)
    # #profiles against the thesis (a function of L, MBS, D only: must match exactly)
    mism, checked = [], 0
    for r in rows:
        t = thesis_profiles(pub, r["method"], r["mbs"])
        if t is None:
            continue
        checked += 1
        if t != r["profiles"]:
            mism.append(f"{r['profiles_set']}/{r['method']}/{r['mbs']}: {r['profiles']} vs {t}")
    claims.append(claim("#profiles of every row equals the thesis' (DIME per MBS, JointDNN, Optimal)",
                        checked > 0 and not mism,
                        f"{checked} rows checked" + (f"; mismatches: {', '.join(mism)}" if mism else "")))
    for ps in dict.fromkeys(r["profiles_set"] for r in rows):
        sub = [r for r in rows if r["profiles_set"] == ps]
        L, D = sub[0]["L"], sub[0]["devices"]
        bws = sorted({r["bandwidth_Bps"] for r in sub})
        opt = {b: at.get((ps, "Optimal", None, b)) for b in bws}
        tag = f"[{ps}]"
        full = [at.get((ps, "DIME", L, b)) for b in bws]
        if any(o is None for o in opt.values()):
            skipped.append(f"{tag} claims against Optimal (Optimal not run)")
            continue
        # 1. DIME MBS = L equals Optimal
        if None in full:
            skipped.append(f"{tag} DIME with MBS = L = {L} equals Optimal (MBS = L not in this sweep)")
        else:
            ev = "; ".join(f"{bw_label(b)}: DIME {f['transition']} {fmt_lat(f['act_s'])} vs Optimal "
                           f"{opt[b]['transition']} {fmt_lat(opt[b]['act_s'])}" for b, f in zip(bws, full))
            claims.append(claim(f"{tag} DIME with MBS = L = {L} finds the Optimal solution (transition and latency) "
                                "at every bandwidth", all(same_as(f, opt[b]) for b, f in zip(bws, full)), ev))
            # 2. estimated == actual at MBS = L
            worst = max(abs(f["gap_s"]) for f in full)
            claims.append(claim(f"{tag} with MBS = L the estimated latency equals the actual latency",
                                worst <= EPS, f"largest |actual - estimated| over {len(bws)} bandwidths: {worst:.2e} s"))
        # 3. gap grows as MBS decreases
        gaps = gap_by_mbs(rows, ps)
        if len(gaps) < 2:
            skipped.append(f"{tag} estimation gap vs MBS (fewer than two MBS values)")
        else:
            ms = list(gaps)
            rho = spearman([float(m) for m in ms], list(gaps.values()))
            ups = [f"{a}->{b}" for a, b in zip(ms, ms[1:]) if gaps[b] > gaps[a] + EPS]
            holds = (rho is not None and rho < 0 and gaps[ms[0]] >= max(gaps.values()) - EPS
                     and gaps[ms[-1]] <= min(gaps.values()) + EPS)
            claims.append(claim(
                f"{tag} the gap between estimated and actual latency tends to grow as MBS decreases "
                "(largest at the smallest MBS, smallest at the largest, negative rank correlation)",
                holds,
                "mean |actual - estimated| over the bandwidths per MBS: "
                + ", ".join(f"{m}: {g:.4f}" for m, g in gaps.items())
                + f"; Spearman rho(MBS, gap) = {'n/a' if rho is None else f'{rho:.2f}'}"
                + (f"; increases with MBS at {', '.join(ups)}" if ups else "; never increases with MBS")))
        # 4. JointDNN misses the optimum while needing the maximum number of profiles
        jd = {b: at.get((ps, "JointDNN", None, b)) for b in bws}
        if any(j is None for j in jd.values()):
            skipped.append(f"{tag} JointDNN vs Optimal (JointDNN not run)")
        else:
            miss = [b for b in bws if not same_as(jd[b], opt[b])]
            maxp = full_profiles(L, D)
            prof = {j["profiles"] for j in jd.values()}
            under = [b for b in bws if jd[b]["est_s"] < jd[b]["act_s"] - EPS]
            ev = "; ".join(f"{bw_label(b)}: JointDNN {jd[b]['transition']} {fmt_lat(jd[b]['est_s'])} / "
                           f"{fmt_lat(jd[b]['act_s'])} vs Optimal {opt[b]['transition']} {fmt_lat(opt[b]['act_s'])}"
                           + (" (miss)" if b in miss else "") for b in bws)
            claims.append(claim(
                f"{tag} JointDNN fails to find the optimum in at least one bandwidth while needing the maximum "
                f"number of profiles ({maxp})", bool(miss) and prof == {maxp},
                f"misses at {', '.join(bw_label(b) for b in miss) or 'no bandwidth'} of {len(bws)}; "
                f"profiles {sorted(prof)}; under-estimates (est < act) at {len(under)} of {len(bws)}; {ev}"))
        # 5. some MBS < L reaches the optimum with fewer profiles
        small = {}
        for b in bws:
            for r in sorted((r for r in sub if r["method"] == "DIME" and r["mbs"] < L and r["bandwidth_Bps"] == b),
                            key=lambda r: r["mbs"]):
                if same_as(r, opt[b]):
                    small[b] = r
                    break
        exact = sorted({(r["mbs"], bw_label(r["bandwidth_Bps"])) for r in sub if r["method"] == "DIME"
                        and r["mbs"] < L and same_as(r, opt[r["bandwidth_Bps"]]) and abs(r["gap_s"]) <= EPS})
        claims.append(claim(
            f"{tag} some MBS < L reaches the Optimal solution (transition and actual latency) at some bandwidth "
            f"with fewer profiles than MBS = L ({full_profiles(L, D)})", bool(small),
            ("smallest such MBS per bandwidth: " + ", ".join(
                f"{bw_label(b)}: MBS {r['mbs']} ({r['profiles']} profiles, est {fmt_lat(r['est_s'])} / act "
                f"{fmt_lat(r['act_s'])})" for b, r in small.items()) if small else "none")
            + ("; with the estimate exact too: " + ", ".join(f"MBS {m} @ {b}" for m, b in exact) if exact
               else "; never with an exact estimate")))
        # 6. the thesis' high-bandwidth observations: MBS = 1 is already optimal there
        for hb in highest_bws:
            r1 = at.get((ps, "DIME", 1, hb))
            if r1 is None or opt.get(hb) is None:
                skipped.append(f"{tag} MBS = 1 optimal at {bw_label(hb)} (not in this sweep)")
                continue
            o = opt[hb]
            claims.append(claim(
                f"{tag} at {bw_label(hb)} B/s MBS = 1 already gives the Optimal transition and latency "
                f"({r1['profiles']} instead of {full_profiles(L, D)} profiles)", same_as(r1, o),
                f"MBS 1 {r1['transition']} {fmt_lat(r1['est_s'])} / {fmt_lat(r1['act_s'])} vs Optimal "
                f"{o['transition']} {fmt_lat(o['act_s'])}"))
        # 7. (Table 7.2) at the highest bandwidths every method runs every layer on the cloud
        if cloud_only_bws:
            there = [r for r in sub if r["bandwidth_Bps"] in cloud_only_bws]
            if {r["bandwidth_Bps"] for r in there} != set(cloud_only_bws):
                skipped.append(f"{tag} cloud-only at {', '.join(bw_label(b) for b in cloud_only_bws)} "
                               "(not all in this sweep)")
            else:
                first = sub[0]["plan"].split()[0].split("@")[0]  # first real layer
                off = [f"{r['method']}{'' if r['mbs'] is None else ' MBS ' + str(r['mbs'])} @ "
                       f"{bw_label(r['bandwidth_Bps'])}: {r['transition']}" for r in there
                       if r["transition"] != first]
                claims.append(claim(
                    f"{tag} at {', '.join(bw_label(b) for b in cloud_only_bws)} B/s every method (DIME at every "
                    f"MBS, JointDNN, Optimal) puts every layer on the cloud (transition {first})", not off,
                    f"{len(there) - len(off)} of {len(there)} rows cloud-only"
                    + (f"; not: {'; '.join(off)}" if off else "")))
        # 8. degenerate profile sets: nothing ever leaves the edge
        if all(r["transition"] == "none" for r in sub):
            notes.append(f"[{ps}] every method keeps every layer on the edge at every bandwidth (no transfer "
                         "costs less than the compute it saves on the cloud profile), so the claims on "
                         "transitions are trivial for this profile set.")
    return claims, skipped


def sweep_plot(rows: list[dict], path: Path, title: str) -> Path:
    """Estimated and actual latency vs MBS, one panel per (profile set, bandwidth); JointDNN and
    Optimal as horizontal lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = list(dict.fromkeys(r["profiles_set"] for r in rows))
    bws = sorted({r["bandwidth_Bps"] for r in rows})
    fig, axes = plt.subplots(len(sets), len(bws), figsize=(3.4 * len(bws), 3.0 * len(sets)), squeeze=False)
    at = _lookup(rows)
    for i, ps in enumerate(sets):
        for j, b in enumerate(bws):
            ax = axes[i][j]
            pts = sorted((r["mbs"], r["est_s"], r["act_s"]) for r in rows
                         if r["profiles_set"] == ps and r["method"] == "DIME" and r["bandwidth_Bps"] == b)
            if pts:
                ms, es, acts = zip(*pts)
                ax.plot(ms, es, "o--", color="tab:blue", ms=4, label="DIME estimated")
                ax.plot(ms, acts, "s-", color="tab:blue", ms=4, label="DIME actual")
            jd, op = at.get((ps, "JointDNN", None, b)), at.get((ps, "Optimal", None, b))
            if jd:
                ax.axhline(jd["est_s"], color="tab:orange", ls="--", label="JointDNN estimated")
                ax.axhline(jd["act_s"], color="tab:orange", ls="-", label="JointDNN actual")
            if op:
                ax.axhline(op["act_s"], color="k", ls=":", lw=2, label="Optimal")
            ax.set_title(f"{ps}, {bw_label(b)} B/s", fontsize=9)
            ax.set_xlabel("MBS")
            if j == 0:
                ax.set_ylabel("latency (s)")
            ax.grid(True, alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


CSV_COLS = ["dnn", "profiles_set", "method", "mbs", "L", "devices", "bandwidth_Bps", "lan_Bps", "transition",
            "est_s", "act_s", "gap_s", "profiles", "thesis_transition", "thesis_est_s", "thesis_act_s",
            "thesis_profiles", "optimal_act_s", "same_as_optimal", "plan"]


def with_thesis(rows: list[dict], pub: dict) -> list[dict]:
    at = _lookup(rows)
    out = []
    for r in rows:
        t = pub.get((r["method"], r["mbs"], r["bandwidth_Bps"])) or {}
        opt = at.get((r["profiles_set"], "Optimal", None, r["bandwidth_Bps"]))
        row = {k: r.get(k) for k in CSV_COLS}
        row.update({"thesis_transition": t.get("trans"), "thesis_est_s": t.get("est"), "thesis_act_s": t.get("act"),
                    "thesis_profiles": thesis_profiles(pub, r["method"], r["mbs"]),
                    "optimal_act_s": opt["act_s"] if opt else None,
                    "same_as_optimal": same_as(r, opt) if opt else None})
        out.append(row)
    return out


def build_sweep(records: list[dict], out_dir: Path, *, name: str, title: str, dnn: str,
                highest_bws: tuple = (), cloud_only_bws: tuple = (), thesis_notes: tuple = ()) -> dict:
    """Report of Table 7.1 or 7.2."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, failed, dups = rows_from(records)
    pub = published_rows(name)
    csv_rows = with_thesis(rows, pub)
    write_csv(out_dir / f"{name}.csv", csv_rows)
    notes: list[str] = []
    claims, skipped = sweep_claims(rows, pub, highest_bws, cloud_only_bws, notes)
    png = sweep_plot(rows, out_dir / f"{name}_latency.png", title).name if rows else None
    names = THESIS_NAMES.get(dnn)
    lines = [
        f"# {title}", "",
        f"{len(rows)} rows from {len(records)} jobs ({len(failed)} failed, {dups} duplicate JointDNN/Optimal "
        "jobs of the MBS sweep dropped). Edge-cloud pair: LePotato-like edge (source and destination), "
        "2080 Ti-like cloud; major layers; bundle profiles per profile set: `synthetic` "
        "(data/profiles/synthetic: an under-estimating LePotato-like edge and an over-estimating "
        "2080 Ti-like cloud) and `cpu` (data/profiles/cpu: measured on this machine's CPU with 1 and "
        "2 threads, mapped edge -> cpu_t1, cloud -> cpu_t2).", "",
        "Transition: the first layer not on the edge ('none': every layer on the edge). Estimated latency: "
        "the ILP objective (Optimal: its actual latency). Actual latency: each device's segment scored "
        "with the profile of the whole segment. #profiles: bundle profiles over both devices.", "",
        "**Our profiles are not the thesis' measurements, so latencies and transitions are not expected to "
        "match the published ones; only the #profiles column must (and does, see the claims).**"
        + (" Layer names are ours (data/dnn/): the thesis' " + ", ".join(f"{a}" for a in names)
           + " are our " + ", ".join(names.values()) + "." if names else ""), "",
    ]
    if png:
        lines += [f"Plot: [{png}]({png}) (estimated and actual latency vs MBS; JointDNN and Optimal as "
                  "horizontal lines).", ""]
    lines += ["## Ours beside the thesis"]
    lines += sweep_tables(rows, pub, dnn)
    lines += ["", "## Estimation gap per MBS (mean |actual - estimated| over the bandwidths, s)", ""]
    gap_rows = []
    for ps in dict.fromkeys(r["profiles_set"] for r in rows):
        g = gap_by_mbs(rows, ps)
        gap_rows.append({"profiles": ps, **{f"MBS {m}": round(v, 5) for m, v in g.items()}})
    if gap_rows:
        cols = ["profiles"] + list(dict.fromkeys(k for g in gap_rows for k in g if k != "profiles"))
        lines += markdown_table(gap_rows, cols)
    lines += claims_markdown(claims)
    if notes or thesis_notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in [*notes, *thesis_notes]]
    if skipped:
        lines += ["", "Not evaluated (points not in this sweep): " + "; ".join(skipped)]
    if failed:
        lines += ["", "Failed jobs: " + "; ".join(sorted({str(r.get("error")) for r in failed}))]
    (out_dir / "report.md").write_text("\n".join(lines) + "\n")
    return {"rows": rows, "csv_rows": csv_rows, "notes": notes, "claims": claims, "skipped": skipped, "failed": len(failed),
            "duplicates": dups, "plots": [png] if png else []}


# ----------------------------------------------------------------------------------------
# Table 7.3: edge -> hub -> cloud, one network point
# ----------------------------------------------------------------------------------------

def table3_rows(records: list[dict], name: str) -> tuple[list[dict], list[dict], int]:
    rows, failed, dups = rows_from(records)
    pub = {r["method"]: r for r in published(name)}
    out = []
    for r in rows:
        t = pub.get(r["method"]) or {}
        out.append({**r, "thesis_transition": t.get("trans"), "thesis_est_s": _f(t.get("est")),
                    "thesis_act_s": _f(t.get("act"))})
    return out, failed, dups


def build_hub(records: list[dict], out_dir: Path, *, name: str, title: str) -> dict:
    """Report of Table 7.3."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    rows, failed, dups = table3_rows(records, name)
    write_csv(out_dir / f"{name}.csv", rows)
    claims, skipped = [], []
    for ps in dict.fromkeys(r["profiles_set"] for r in rows):
        for point in dict.fromkeys((r["bandwidth_Bps"], r["lan_Bps"]) for r in rows if r["profiles_set"] == ps):
            sub = {r["method"]: r for r in rows if r["profiles_set"] == ps and (r["bandwidth_Bps"], r["lan_Bps"]) == point}
            tag = f"[{ps}, cloud {bw_label(point[0])}, LAN {bw_label(point[1]) if point[1] else '-'}]"
            d, j, o = sub.get("DIME"), sub.get("JointDNN"), sub.get("Optimal")
            if o is None:
                skipped.append(f"{tag} Optimal not run")
                continue
            if d is not None:
                L = d["L"]
                claims.append(claim(f"{tag} DIME (MBS = {d['mbs']}) equals Optimal (transition and latency), "
                                    "with an exact estimate",
                                    d["mbs"] == L and same_as(d, o) and abs(d["gap_s"]) <= EPS,
                                    f"DIME {d['transition']} {fmt_lat(d['est_s'])} / {fmt_lat(d['act_s'])} vs Optimal "
                                    f"{o['transition']} {fmt_lat(o['act_s'])}"))
            if j is not None:
                claims.append(claim(f"{tag} JointDNN keeps every layer on the edge", j["transition"] == "none",
                                    f"JointDNN transition {j['transition']}"))
                claims.append(claim(f"{tag} JointDNN under-estimates its plan (estimated < actual: the "
                                    "under-estimating LePotato-like edge)", j["est_s"] < j["act_s"] - EPS,
                                    f"{fmt_lat(j['est_s'])} / {fmt_lat(j['act_s'])}"))
                claims.append(claim(f"{tag} JointDNN misses the optimum (thesis: 3.533 s vs 3.418 s)",
                                    not same_as(j, o), f"JointDNN {j['transition']} {fmt_lat(j['act_s'])} vs "
                                    f"Optimal {o['transition']} {fmt_lat(o['act_s'])}"))
            claims.append(claim(f"{tag} the optimum hands layers over to the hub (thesis: fc2 -> hub)",
                                "hub" in o["transition"], f"Optimal {o['transition']}"))
    cols = ["profiles_set", "method", "mbs", "bandwidth_Bps", "lan_Bps", "transition", "est_s", "act_s",
            "profiles", "thesis_transition", "thesis_est_s", "thesis_act_s"]
    png = None
    if rows:
        fig, ax = plt.subplots(figsize=(6, 3.6))
        labels = [f"{r['method']}\n({r['profiles_set']})" for r in rows]
        xs = range(len(rows))
        ax.bar([x - 0.2 for x in xs], [r["est_s"] for r in rows], 0.4, label="estimated")
        ax.bar([x + 0.2 for x in xs], [r["act_s"] for r in rows], 0.4, label="actual")
        for x, r in zip(xs, rows):
            ax.text(x, max(r["est_s"], r["act_s"]), r["transition"], ha="center", va="bottom", fontsize=7)
        ax.set_xticks(list(xs), labels, fontsize=8)
        ax.set_ylabel("latency (s)")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out_dir / f"{name}_latency.png", dpi=100)
        plt.close(fig)
        png = f"{name}_latency.png"
    lines = [
        f"# {title}", "",
        f"{len(rows)} rows from {len(records)} jobs ({len(failed)} failed, {dups} duplicates dropped). Devices of "
        "Table 4.1: LePotato-like edge (source and destination), Jetson-Nano-like hub, 2080 Ti-like cloud; LAN "
        "edge-hub link and WAN links edge-cloud, hub-cloud; synthetic bundle profiles. Transition: every "
        "hand-over of the real layers as 'layer -> device' ('none': every layer on the edge). #profiles: bundle "
        "profiles over all three devices (the thesis lists none for this table).", "",
        "**Our profiles are not the thesis' measurements, so latencies and transitions are not expected to "
        "match the published ones.**", "",
    ]
    if png:
        lines += [f"Plot: [{png}]({png})", ""]
    lines += markdown_table(rows, cols)
    lines += claims_markdown(claims)
    if skipped:
        lines += ["", "Not evaluated: " + "; ".join(skipped)]
    if failed:
        lines += ["", "Failed jobs: " + "; ".join(sorted({str(r.get("error")) for r in failed}))]
    (out_dir / "report.md").write_text("\n".join(lines) + "\n")
    return {"rows": rows, "claims": claims, "skipped": skipped, "failed": len(failed), "duplicates": dups,
            "plots": [png] if png else []}
