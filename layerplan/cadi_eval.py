"""CADI quantities of one plan over a duration U (Ch. 9), evaluated directly.

This is the definition the ``cadi`` formulation encodes and the enumeration oracle of
its tests. A *plan* is an assignment of every layer (pseudo layers included) to a device
plus the frequency index each device runs at; bundles are the maximal runs of
consecutive real layers on one device (one bundle per device run, as DIME with MBS = L).

Per inference, device d is *busy* for

    B_d = compute on d (its bundles at its frequency, plus pseudo layers' analytic compute)
        + transfers d sends (t^x[l, d, d'] for every layer l on d whose successor is on d').

The service is a pipeline (Fig. 9.2): a device starts inference n + 1 once it has sent
its part of inference n, so the cycle time (time between two inferences) is

    tau = max_d B_d,      I = U / tau inferences in the duration U       (Eq. (9.1))

which for the two-device chain source -> partner -> source is exactly Eq. (9.1):
max(t^c_{1,l,s} + t^x_{l,s,p}, t^c_{l+1,L,p} + t^x_{l,p,s}). A device waits (holds) for
tau - B_d per inference at its idle power (Sec. 9.3):

    t^h_d = tau - B_d,    e^h_d = P^idle_d t^h_d                         (Eq. (9.2))
    E_d   = E^c_d + E^x_d + e^h_d                                        (Eq. (9.3))
    EF_d  = I E_d,        CF_d = C_d EF_d                                (Eqs. (9.4)-(9.5))

A device that runs nothing is off (no energy) unless ``idle_unused`` charges its idle
power for the whole cycle. ``hold_time="compute"`` uses the thesis' literal two-device
hold times instead (Sec. 9.3: the difference of the two compute times, t^h_p =
t^c_s - t^c_p when positive, else t^h_s = t^c_p - t^c_s), which ignore the transfers
that Eq. (9.1) counts; it is defined for two devices only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from layerplan.bundle_eval import device_energy_J, runs
from layerplan.errors import DataError
from layerplan.latency import LatencyParams


@dataclass
class PlanMetrics:
    """Everything Table 9.1 reports for one plan, per device and in total."""

    busy_s: dict[str, float]  # B_d, every scenario device
    compute_s: dict[str, float]
    send_s: dict[str, float]
    used: dict[str, bool]
    cycle_s: float  # tau
    inferences: float  # I = U / tau, Eq. (9.1)
    latency_s: float  # single-inference latency (sum of B_d)
    energy_J: dict[str, float]  # E^c_d + E^x_d of one inference (no hold)
    hold_s: dict[str, float]  # t^h_d
    hold_energy_J: dict[str, float]  # e^h_d, Eq. (9.2)
    footprint_J: dict[str, float]  # EF_d, Eq. (9.4)
    carbon_mg: dict[str, float] = field(default_factory=dict)  # CF_d, Eq. (9.5) (empty without C_d)
    duration_s: float = 3600.0

    @property
    def energy_total_J(self) -> float:
        """E: energy of a single inference, sum_d (E^c_d + E^x_d) (Sec. 9.3, objectives)."""
        return sum(self.energy_J.values())

    @property
    def footprint_total_J(self) -> float:
        return sum(self.footprint_J.values())

    @property
    def carbon_total_mg(self) -> float:
        return sum(self.carbon_mg.values())

    @property
    def carbon_per_inference_mg(self) -> float:
        return self.carbon_total_mg / self.inferences

    def as_dict(self) -> dict:
        out = {
            "duration_s": self.duration_s,
            "cycle_s": self.cycle_s,
            "inferences": self.inferences,
            "latency_s": self.latency_s,
            "energy_J": self.energy_total_J,
            "energy_footprint_J": self.footprint_total_J,
            "per_device": {
                d: {
                    "busy_s": self.busy_s[d], "compute_s": self.compute_s[d], "send_s": self.send_s[d],
                    "used": self.used[d], "energy_J": self.energy_J.get(d), "hold_s": self.hold_s.get(d),
                    "hold_energy_J": self.hold_energy_J.get(d), "energy_footprint_J": self.footprint_J.get(d),
                    "carbon_footprint_mg": self.carbon_mg.get(d),
                }
                for d in self.busy_s
            },
        }
        if self.carbon_mg:
            out["carbon_footprint_mg"] = self.carbon_total_mg
            out["carbon_per_inference_mg"] = self.carbon_per_inference_mg
        return out


def busy_times(params: LatencyParams, assignment: list[int], freq: list[int]) -> tuple[list[float], list[float]]:
    """(compute, send) seconds per scenario device for one inference of the plan."""
    bl = params.bundles
    comp = [0.0] * params.n_devices
    send = [0.0] * params.n_devices
    for i, j, d in runs(params, assignment):
        key = (i, j, d, freq[d])
        if key not in bl.latency_s:
            raise DataError(f"no profile of bundle (i={bl.real_layers.index(i) + 1}, j={bl.real_layers.index(j) + 1}) "
                            f"on {bl.device_labels[d]!r}", source="profiles", field="latency_s")
        comp[d] += bl.latency_s[key]
    for l, kind in enumerate(params.pseudo):
        if kind is not None:
            comp[assignment[l]] += float(params.compute_s[l, assignment[l]])
    for l in range(len(assignment) - 1):
        send[assignment[l]] += float(params.comm_s[l, assignment[l], assignment[l + 1]])
    return comp, send


def plan_metrics(
    params: LatencyParams,
    assignment: list[int],
    freq: list[int],
    *,
    energy_devices: list[str],
    idle_power_W: dict[str, float],
    carbon_mg_per_J: dict[str, float] | None = None,
    duration_s: float = 3600.0,
    hold_time: str = "cycle",
    idle_unused: bool = False,
) -> PlanMetrics:
    """CADI quantities of a plan (module docstring). ``freq[d]`` is d's frequency index."""
    devs = params.devices
    comp, send = busy_times(params, assignment, freq)
    busy = [c + s for c, s in zip(comp, send)]
    used = [any(a == d for a in assignment) for d in range(len(devs))]
    tau = max(busy)
    if tau <= 0:
        raise DataError("the plan has zero cycle time (no compute or transfer time anywhere)", source="profiles",
                        field="latency_s")
    inferences = duration_s / tau
    energy, hold, hold_e, fp, cf = {}, {}, {}, {}, {}
    for name in energy_devices:
        d = devs.index(name)
        if not used[d]:
            h = tau if idle_unused else 0.0
        elif hold_time == "cycle":
            h = tau - busy[d]
        elif hold_time == "compute":
            if len(devs) != 2:
                raise DataError("hold_time=compute (the thesis' two-device hold time) needs exactly two devices",
                                source="formulation.cadi", field="hold_time")
            other = 1 - d
            h = max(0.0, comp[other] - comp[d]) if used[other] else 0.0
        else:
            raise DataError(f"hold_time must be cycle or compute, got {hold_time!r}", source="formulation.cadi",
                            field="hold_time")
        energy[name] = device_energy_J(params, assignment, freq, d) if used[d] else 0.0
        hold[name] = h
        hold_e[name] = idle_power_W.get(name, 0.0) * h
        fp[name] = inferences * (energy[name] + hold_e[name])
        if carbon_mg_per_J is not None:
            cf[name] = carbon_mg_per_J[name] * fp[name]
    return PlanMetrics(
        busy_s=dict(zip(devs, busy)), compute_s=dict(zip(devs, comp)), send_s=dict(zip(devs, send)),
        used=dict(zip(devs, used)), cycle_s=tau, inferences=inferences, latency_s=float(sum(busy)),
        energy_J=energy, hold_s=hold, hold_energy_J=hold_e, footprint_J=fp, carbon_mg=cf, duration_s=duration_s,
    )


def transition_layer(params: LatencyParams, assignment: list[int], source: str) -> str | None:
    """Last real layer the source runs before the first hand-over to another device
    (Table 9.1's L_trans); None when the source runs every real layer (single device),
    ``"-"`` when the source runs no real layer."""
    s = params.devices.index(source)
    real = params.bundles.real_layers
    if all(assignment[l] == s for l in real):
        return None
    last = None
    for l in real:
        if assignment[l] != s:
            break
        last = params.layers[l]
    return last if last is not None else "-"
