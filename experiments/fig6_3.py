"""Figure 6.3: VGG16 on C0, C1, C2, C3 vs network bandwidth (Sec. 6.4).

In C3 (Pi A, Jetson Nano hub B, 1080 Ti cloud C) the swept bandwidth is that of the WAN
links to the cloud (A<->C, B<->C); the edge-hub LAN link A<->B is fixed. The sweep runs two
readings of that LAN link (``fig6_3.lan``, see conf/experiment/fig6_3.yaml):

* ``uncapped``: 1.25e8 B/s, not capped by the Pi's NIC (``cap_by_external: false``);
* ``nic``: 1.25e8 B/s capped by both NICs, i.e. min(1.11e7, 1.25e8) = 1.11e7 B/s.

The report uses the reading whose C3 latency at 1e4 B/s is nearest the thesis' 0.16 s and
shows the other beside it (the claims are checked under both).
"""

from __future__ import annotations

from pathlib import Path

from layerplan.experiments.plotting import (
    EPS,
    ROC_ALL,
    bandwidths,
    bw_label,
    fmt,
    index,
    line_panels,
    point_row,
    series,
    solved,
    sort_rows,
)
from layerplan.experiments.records import claim, claims_markdown, markdown_table, write_csv

NAME = "fig6_3"
TITLE = "Figure 6.3: VGG16 latency and ratio of compute vs network bandwidth on C0, C1, C2, C3"
DNNS = ["vgg16"]
CONFIGS = ["C0", "C1", "C2", "C3"]
DEFAULT_LAN = "uncapped"
LAN_TEXT = {
    "uncapped": "A<->B at 1.25e8 B/s, not capped by the Pi's 1.11e7 B/s NIC",
    "nic": "A<->B at min(1.11e7 Pi NIC, 1.25e8 Nano NIC) = 1.11e7 B/s",
}
THESIS_BW = 1e4
THESIS_C3_S = 0.16  # "0.16s in C3 versus 9.51s in other configurations for the 10^4 bandwidth"
THESIS_OTHER_S = 9.51
HUB_BWS = (1e4, 1e5)
CLOUD_BW = 1e7
COLS = ["dnn", "config", "lan", "bandwidth_Bps", "latency_s", "T_c_s", "T_x_s", "T_w_s", "RoC_A", "RoC_B",
        "RoC_C", "transitions", "status"]


def lan_of(rec: dict) -> str:
    return str(((rec.get("config") or {}).get("fig6_3") or {}).get("lan") or DEFAULT_LAN)


def within(ours: float, theirs: float) -> bool:
    """Table 6.2's tolerance: 0.01 s or 2 %."""
    return abs(ours - theirs) <= 0.01 + 1e-9 or abs(ours - theirs) <= 0.02 * abs(theirs)


def all_rows(records: list[dict]) -> list[dict]:
    ok, _ = solved(records)
    return sort_rows([point_row(r, {"lan": lan_of(r)}, on_a=True) for r in ok], DNNS, CONFIGS)


def choose_lan(rows: list[dict]) -> tuple[str, dict]:
    """The LAN reading whose C3 latency at 1e4 B/s is nearest 0.16 s; {lan: that latency}."""
    c3 = {r["lan"]: r["latency_s"] for r in rows if r["config"] == "C3" and r["bandwidth_Bps"] == THESIS_BW}
    lans = sorted({r["lan"] for r in rows})
    if c3:
        return min(c3, key=lambda k: (abs(c3[k] - THESIS_C3_S), k)), c3
    return (DEFAULT_LAN if DEFAULT_LAN in lans or not lans else lans[0]), c3


def split(rows: list[dict], lan: str) -> tuple[list[dict], list[dict], list[str]]:
    """(main rows: C0..C2 once and C3 under ``lan``; C3 rows under the other readings;
    C0..C2 points that differ between LAN readings, which should be none)."""
    main, alt, mismatch = [], [], []
    ref = {(r["config"], r["bandwidth_Bps"]): r for r in rows if r["lan"] == lan}
    seen = set()
    for r in rows:
        key = (r["config"], r["bandwidth_Bps"])
        if r["config"] == "C3":
            (main if r["lan"] == lan else alt).append(r)
            continue
        other = ref.get(key, r)
        if abs(other["latency_s"] - r["latency_s"]) > EPS:
            mismatch.append(f"{r['config']}@{bw_label(r['bandwidth_Bps'])}")
        if key not in seen:
            seen.add(key)
            main.append(other)
    return main, alt, mismatch


def claims_from(rows: list[dict], tag: str = "") -> tuple[list[dict], list[str]]:
    """Claims on main rows (C0..C3, one LAN reading). ``tag`` is appended to each claim."""
    at = index(rows, "config", "bandwidth_Bps")
    bws = bandwidths(rows)
    claims, skipped = [], []
    sfx = f" [{tag}]" if tag else ""
    if not bws:
        return claims, ["no solved points"]

    # 1. C3 smallest everywhere
    ev, ok, complete = [], True, True
    for b in bws:
        c3 = at.get(("C3", b))
        others = {c: at[(c, b)]["latency_s"] for c in ("C0", "C1", "C2") if (c, b) in at}
        if c3 is None or not others:
            complete = False
            continue
        best = min(others, key=others.get)
        ok &= c3["latency_s"] <= others[best] + EPS
        ev.append(f"{bw_label(b)}: C3 {fmt(c3['latency_s'], 3)} s vs best other {best} {fmt(others[best], 3)} s")
    if ev:
        claims.append(claim("C3 has the smallest inference latency at all bandwidths" + sfx
                            + ("" if complete else " (some points missing)"), ok, "; ".join(ev)))
    else:
        skipped.append("C3 smallest (points missing)")

    # 2. 1e4 and 1e5: everything on the hub, and the cloud in C2 is slower
    hub = [b for b in HUB_BWS if ("C3", b) in at]
    if hub:
        ok = all(at[("C3", b)]["RoC_B"] >= ROC_ALL for b in hub)
        c2_slower = all(at[("C2", b)]["latency_s"] > at[("C3", b)]["latency_s"] + EPS for b in hub if ("C2", b) in at)
        ev = "; ".join(f"{bw_label(b)}: RoC_B^C3 {fmt(at[('C3', b)]['RoC_B'], 4)}, RoC_C^C3 {fmt(at[('C3', b)]['RoC_C'], 4)}, "
                       f"on A: {at[('C3', b)]['layers_on_A'] or 'nothing'}, {at[('C3', b)]['transitions']} transitions"
                       + (f", C2 {fmt(at[('C2', b)]['latency_s'], 3)} s vs C3 {fmt(at[('C3', b)]['latency_s'], 3)} s"
                          if ("C2", b) in at else "") for b in hub)
        claims.append(claim(f"at {' and '.join(bw_label(b) for b in hub)} B/s all computation goes to the hub "
                            f"(RoC_B^C3 = 1, read as >= {ROC_ALL}) and using the cloud (C2) gives a higher latency" + sfx,
                            ok and c2_slower, ev))
    missing = [bw_label(b) for b in HUB_BWS if b not in hub]
    if missing:
        skipped.append(f"RoC_B^C3 = 1 at {', '.join(missing)} B/s (not in the sweep)")

    # 3. 1e7: everything on the cloud, C2 ~ C3
    if ("C3", CLOUD_BW) in at and ("C2", CLOUD_BW) in at:
        c3, c2 = at[("C3", CLOUD_BW)], at[("C2", CLOUD_BW)]
        same = abs(c3["latency_s"] - c2["latency_s"]) <= max(0.01 * c2["latency_s"], EPS)
        claims.append(claim(f"at {bw_label(CLOUD_BW)} B/s all computation goes to the cloud (RoC_C^C3 = 1, "
                            f"read as >= {ROC_ALL}), the hub is unused, and C2 and C3 are effectively the same solution "
                            "(latency within 1 %)" + sfx,
                            c3["RoC_C"] >= ROC_ALL and c3["RoC_B"] <= EPS and same,
                            f"RoC_C^C3 {fmt(c3['RoC_C'], 4)}, RoC_B^C3 {fmt(c3['RoC_B'], 4)}, RoC_B^C2 "
                            f"{fmt(c2['RoC_B'], 4)}; on A in C3: {c3['layers_on_A'] or 'nothing'}; latency C3 {fmt(c3['latency_s'])} s vs C2 {fmt(c2['latency_s'])} s"))
    else:
        skipped.append(f"C2 ~ C3 at {bw_label(CLOUD_BW)} B/s (not in the sweep)")

    # 4. the thesis' numbers at 1e4
    if ("C3", THESIS_BW) in at:
        others = {c: at[(c, THESIS_BW)]["latency_s"] for c in ("C0", "C1", "C2") if (c, THESIS_BW) in at}
        c3 = at[("C3", THESIS_BW)]["latency_s"]
        claims.append(claim(f"at {bw_label(THESIS_BW)} B/s C3 takes {THESIS_C3_S} s versus {THESIS_OTHER_S} s in the "
                            "other configurations (thesis numbers; 0.01 s or 2 % tolerance)" + sfx,
                            within(c3, THESIS_C3_S) and bool(others)
                            and all(within(v, THESIS_OTHER_S) for v in others.values()),
                            f"ours: C3 {fmt(c3, 4)} s (thesis {THESIS_C3_S}); "
                            + ", ".join(f"{c} {fmt(v, 4)} s" for c, v in others.items())
                            + f" (thesis {THESIS_OTHER_S})"))
    else:
        skipped.append(f"0.16 s vs 9.51 s at {bw_label(THESIS_BW)} B/s (not in the sweep)")
    return claims, skipped


def plots(rows: list[dict], alt: list[dict], lan: str, out_dir: Path) -> list[str]:
    styles = {"C0": {"color": "k", "linestyle": "--"}, "C1": {"color": "tab:blue"}, "C2": {"color": "tab:red"},
              "C3": {"color": "tab:green"}}
    lines = {c: series(rows, "latency_s", config=c) for c in CONFIGS}
    for other in sorted({r["lan"] for r in alt}):
        key = f"C3 (LAN: {other})"
        lines[key] = series(alt, "latency_s", config="C3", lan=other)
        styles[key] = {"color": "tab:green", "linestyle": ":", "marker": "x"}
    lat = [{"title": f"VGG16 (C3 LAN: {lan})", "styles": styles, "lines": lines}]
    roc_lines = {
        "RoC$_B^{C1}$": series(rows, "RoC_B", config="C1"),
        "RoC$_B^{C2}$": series(rows, "RoC_B", config="C2"),
        "RoC$_B^{C3}$ (hub)": series(rows, "RoC_B", config="C3"),
        "RoC$_C^{C3}$ (cloud)": series(rows, "RoC_C", config="C3"),
    }
    roc_styles = {"RoC$_B^{C1}$": styles["C1"], "RoC$_B^{C2}$": styles["C2"],
                  "RoC$_B^{C3}$ (hub)": {"color": "tab:green"},
                  "RoC$_C^{C3}$ (cloud)": {"color": "tab:olive", "linestyle": "-."}}
    roc = [{"title": f"VGG16 (C3 LAN: {lan})", "styles": roc_styles, "lines": roc_lines}]
    files = [
        line_panels(out_dir / f"{NAME}_latency.png", lat, suptitle="Fig. 6.3: inference latency", logy=True,
                    ylabel="latency (s)"),
        line_panels(out_dir / f"{NAME}_roc.png", roc, suptitle="Fig. 6.3: ratio of compute", ylabel="RoC",
                    ylim=(-0.05, 1.05)),
    ]
    return [f.name for f in files]


def build(records: list[dict], out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    everything = all_rows(records)
    _, failed = solved(records)
    lan, c3_at_1e4 = choose_lan(everything)
    rows, alt, mismatch = split(everything, lan)
    write_csv(out_dir / f"{NAME}.csv", rows + alt)
    claims, skipped = claims_from(rows)
    alt_claims = []
    for other in sorted({r["lan"] for r in alt}):
        alt_rows = [r for r in rows if r["config"] != "C3"] + [r for r in alt if r["lan"] == other]
        alt_claims += claims_from(sort_rows(alt_rows, DNNS, CONFIGS), tag=f"LAN: {other}")[0]
    files = plots(rows, alt, lan, out_dir) if rows else []

    lan_lines = ["## The edge-hub LAN link of C3", ""]
    lan_lines.append(
        "The swept bandwidth is the A<->B link of C1 and C2 and the WAN links A<->C and B<->C of C3. "
        "Were the C3 edge-hub link A<->B swept too, the hub could not be reached at 1e4 B/s (the 602 KB "
        "input alone takes 60 s), yet the thesis reports 0.16 s for C3 there, so the thesis evidently kept "
        "the LAN link fixed. Its bandwidth is not stated; two readings were run:")
    lan_lines.append("")
    c3_rows = {r["lan"]: r for r in everything if r["config"] == "C3" and r["bandwidth_Bps"] == THESIS_BW}
    for k in sorted(set(c3_at_1e4) | {lan}):
        r = c3_rows.get(k)
        plan = "" if r is None else (f" ({r['transitions']} transitions; besides the preprocessing, on A: "
                                     f"{' '.join(x for x in r['layers_on_A'].split() if x != 'preprocess') or 'nothing'})")
        lan_lines.append(f"- `{k}`: {LAN_TEXT.get(k, k)}: C3 at {bw_label(THESIS_BW)} B/s = "
                         f"{fmt(c3_at_1e4.get(k), 4)} s{plan}{' **(used)**' if k == lan else ''}")
    lan_lines += [
        "",
        f"Used: `{lan}`, the reading whose C3 latency at {bw_label(THESIS_BW)} B/s is nearest the thesis' "
        f"{THESIS_C3_S} s. The match on the C3 side of the '0.16 s vs 9.51 s' claim is therefore partly by "
        "construction (we picked the LAN reading that reproduces it); the 9.51 s side and the other claims are "
        "independent of the choice, and are also checked under the other reading below. Note that the "
        "uncapped reading gives the Pi a 1.25e8 B/s link although Table 6.1 lists its NIC at 1.11e7 B/s, and that "
        "with so fast a link the preload ILP may hand a few weightless layers back to A so that B preloads the next "
        "layer's weights (more transitions, same RoC).",
    ]
    if mismatch:
        lan_lines += ["", "WARNING: C0..C2 points differ between LAN readings (they should not): " + ", ".join(mismatch)]

    lines = [
        f"# {TITLE}", "",
        f"{len(rows)} points in the figure ({len(alt)} further C3 points under the other LAN reading, "
        f"{len(failed)} failed jobs); preload formulation (Eqs. 5.4, 5.5, 6.2); device A is source and "
        "destination. C0 has no link, its latency is the same at every bandwidth.", "",
        "Plots: " + ", ".join(f"[{f}]({f})" for f in files), "",
    ]
    lines += lan_lines + ["", "## Points", ""]
    lines += markdown_table(rows + alt, COLS)
    lines += claims_markdown(claims)
    if alt_claims:
        lines += ["", "## The same claims under the other LAN reading", ""]
        lines += [f"- **{'holds' if c['holds'] else 'does not hold'}**: {c['claim']} ({c['evidence']})" for c in alt_claims]
    if skipped:
        lines += ["", "Not evaluated (points not in this sweep): " + "; ".join(skipped)]
    (out_dir / "report.md").write_text("\n".join(lines) + "\n")
    return {"rows": rows, "alt_rows": alt, "claims": claims, "alt_claims": alt_claims, "skipped": skipped,
            "lan": lan, "c3_latency_at_1e4": c3_at_1e4, "plots": files, "failed": len(failed)}
