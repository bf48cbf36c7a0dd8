"""FreDDI frequency selection and energy, Chapter 8 (Eqs. (8.1)-(8.6)).

Composes with a bundle block (``dime`` or ``jointdnn``), whose variables y[i, j, d, f]
are indexed by the frequencies each device may use (Eq. (8.1)); this block adds

- one frequency per device: binary w[d, f] with sum_f w[d, f] = 1 and
  y[i, j, d, f] <= w[d, f]. With DIME and MBS = L a device runs one bundle, so one
  frequency follows from Eq. (7.4) already; with MBS < L (several bundles on a device)
  or with JointDNN the w variables enforce it, as the thesis requires ("constraining a
  device to operate at a single frequency", Sec. 8.3);
- compute energy per device, Eq. (8.3): E^c_d = sum e^c[i, j, d, f] y[i, j, d, f];
- communication energy per device, Eq. (8.4): E^x_d = sum_l sum_{r != d} e^up[l, d, r]
  z[l, d, r] + sum_l sum_{s != d} e^down[l, s, d] z[l, s, d], with e = P t^x and the
  radio power model P = alpha * throughput + beta (Eqs. (8.5)-(8.6)) of the device's
  connection.

Energy is counted on the *energy devices* (default: the edge devices, as in the thesis'
objectives). Each gets the term lists ``energy.compute@<device>`` and
``energy.communication@<device>``; energy objectives and caps sum them. Pseudo layers
(source, preprocess, destination) carry no compute energy.
"""

from __future__ import annotations

import pyomo.core as pyo
from pyomo.common.config import Bool, ConfigDict, ConfigValue, In
from pyomo.core.base.block import declare_custom_block

from layerplan.contribution import ContributionData, ModelContext
from layerplan.errors import ConfigError, DataError
from layerplan.registry import formulations


def energy_devices(ctx: ModelContext, spec) -> list[str]:
    """Devices whose energy counts: ``edge`` (default), ``all``, or a list of names."""
    p = ctx.params
    if spec in (None, "edge"):
        return [d for d, c in zip(p.devices, p.device_classes) if c == "edge"]
    if spec == "all":
        return list(p.devices)
    names = [spec] if isinstance(spec, str) else list(spec)
    for n in names:
        ctx.check_device(n, "formulation.freddi.energy_devices")
    return names


@formulations.register(
    "freddi",
    phase=30,
    requires=("bundles",),
    doc="FreDDI frequency selection and energy, Ch. 8: Eqs. (8.1)-(8.6)",
)
@declare_custom_block(name="FreddiBlock")
class FreddiBlockData(ContributionData):
    """FreDDI (Ch. 8): one frequency per device, compute and communication energy."""

    CONFIG = ConfigDict()
    CONFIG.declare("energy_devices", ConfigValue(default="edge", description="edge | all | list of device names"))
    CONFIG.declare("one_frequency", ConfigValue(default=True, domain=Bool,
                                                description="enforce a single frequency per device (w variables)"))
    CONFIG.declare("link", ConfigValue(
        default="start", domain=In(["start", "thesis"]),
        description="frequency link: 'thesis' y[i,j,d,f] <= w[d,f]; 'start' sum_j y[l,j,d,f] <= w[d,f] (default)",
        doc="'start' aggregates the thesis' rows per (first layer, device, frequency): at most one bundle starts "
            "at a layer, so the integer solutions are the same, each row dominates the thesis rows it replaces, "
            "and there are MBS times fewer rows (issue 12)."))

    def build(self, ctx: ModelContext) -> None:
        bundles = ctx.require("bundles", "freddi")
        base, p = ctx.base, ctx.params
        bl = p.bundles
        didx = base.device_index
        self.ENERGY_DEVICES = pyo.Set(initialize=energy_devices(ctx, self.config.energy_devices), ordered=True,
                                      doc="devices whose energy is counted")
        multi = [d for d in base.DEVICES if len(bl.freqs[didx[d]]) > 1]
        self.FREQ = pyo.Set(initialize=[(d, f) for d in multi for f in range(len(bl.freqs[didx[d]]))], dimen=2,
                            ordered=True, doc="(d, f) for devices with several frequencies")
        if self.config.one_frequency:
            self.w = pyo.Var(self.FREQ, domain=pyo.Binary, doc="w[d,f] = 1: device d runs at its f-th frequency")
            self.one_frequency_Constraint = pyo.Constraint(
                pyo.Set(initialize=multi, ordered=True),
                rule=lambda b, d: sum(b.w[e, f] for (e, f) in b.FREQ if e == d) == 1,
                doc="one frequency per device (Sec. 8.3)",
            )
            if self.config.link == "thesis":
                self.frequency_link_Constraint = pyo.Constraint(
                    [k for k in bundles.BUNDLE_F if k[2] in multi],
                    rule=lambda b, i, j, d, f: bundles.y[i, j, d, f] <= b.w[d, f],
                    doc="y[i,j,d,f] <= w[d,f]",
                )
            else:
                first: dict = {}
                multi_set = set(multi)
                for k in bundles.BUNDLE_F:
                    if k[2] in multi_set:
                        first.setdefault((k[0], k[2], k[3]), []).append(k)
                self.frequency_link_Constraint = pyo.Constraint(
                    list(first),
                    rule=lambda b, i, d, f: sum(bundles.y[k] for k in first[i, d, f]) <= b.w[d, f],
                    doc="sum_j y[i,j,d,f] <= w[d,f] (aggregated y <= w)",
                )
        missing = [d for d in self.ENERGY_DEVICES if not bl.has_energy(didx[d])]
        if missing:
            raise DataError(
                f"no energy_J in the bundle profiles of energy device {missing[0]!r} "
                f"(label {bl.device_labels[didx[missing[0]]]!r}); profile its energy or set "
                "formulation.freddi.energy_devices", source=bl.sources.get(bl.device_labels[didx[missing[0]]], "profiles"),
                field="energy_J")
        e = bl.energy_J
        for (i, j, d, f) in bundles.BUNDLE_F:
            if d in self.ENERGY_DEVICES and (i, j, didx[d], f) not in e:
                raise DataError(f"missing energy_J of bundle (i={bl.real_layers.index(i) + 1}, "
                                f"j={bl.real_layers.index(j) + 1}, device={bl.device_labels[didx[d]]!r}, "
                                f"f={bl.freqs[didx[d]][f]})", source=bl.sources.get(bl.device_labels[didx[d]], "profiles"),
                                field="energy_J")

        def compute_energy(b, d):
            """Eq. (8.3): E^c_d = sum_(i,j,f) e^c[i,j,d,f] y[i,j,d,f]."""
            mine = getattr(bundles, "by_device", None)
            keys = mine[d] if mine is not None else [k for k in bundles.BUNDLE_F if k[2] == d]
            return sum(e[(i, j, didx[d], f)] * bundles.y[i, j, dd, f] for (i, j, dd, f) in keys)

        self.compute_energy_J = pyo.Expression(self.ENERGY_DEVICES, rule=compute_energy, doc="E^c_d, Eq. (8.3)")
        bw, tx = p.bandwidth_Bps, p.comm_s

        def comm_energy(b, d):
            """Eq. (8.4) with Eqs. (8.5)-(8.6): upload to r != d plus download from s != d,
            e = P(throughput) x t^x."""
            radio = p.radios[didx[d]]
            if radio is None:
                return 0.0
            k = didx[d]
            up = sum(radio.upload_power_W(bw[k, didx[r]]) * tx[l, k, didx[r]] * base.z[l, d, r]
                     for l in base.TRANSITIONS for r in base.DEVICES if r != d)
            down = sum(radio.download_power_W(bw[didx[s], k]) * tx[l, didx[s], k] * base.z[l, s, d]
                       for l in base.TRANSITIONS for s in base.DEVICES if s != d)
            return up + down

        self.communication_energy_J = pyo.Expression(self.ENERGY_DEVICES, rule=comm_energy, doc="E^x_d, Eq. (8.4)")
        for d in self.ENERGY_DEVICES:
            ctx.terms.declare(f"energy.compute@{d}", "J", f"compute energy of {d}, Eq. (8.3)")
            ctx.terms.declare(f"energy.communication@{d}", "J", f"communication energy of {d}, Eq. (8.4)")
            ctx.terms.add(f"energy.compute@{d}", "freddi", self.compute_energy_J[d])
            ctx.terms.add(f"energy.communication@{d}", "freddi", self.communication_energy_J[d])
        ctx.provide("energy_devices", list(self.ENERGY_DEVICES))

    def report(self, ctx: ModelContext) -> dict:
        p, bl = ctx.params, ctx.params.bundles
        bundles = ctx.shared["bundles"]
        freq = bundles.frequency_choice()
        from layerplan.formulations.dime import frequency_value

        return {
            "frequency": {d: frequency_value(bl.freqs[p.devices.index(d)][f]) for d, f in freq.items()},  # Hz
            "frequency_label": {d: bl.freqs[p.devices.index(d)][f] for d, f in freq.items()},
            "energy_J": {d: {"compute": float(pyo.value(self.compute_energy_J[d])),
                             "communication": float(pyo.value(self.communication_energy_J[d])),
                             "total": float(pyo.value(self.compute_energy_J[d] + self.communication_energy_J[d]))}
                         for d in self.ENERGY_DEVICES},
        }


def device_energy(ctx: ModelContext, d: str):
    """E_d = E^c_d + E^x_d from the term lists (what energy objectives and caps use)."""
    return ctx.terms.expr(f"energy.compute@{d}") + ctx.terms.expr(f"energy.communication@{d}")


def energy_device_names(ctx: ModelContext, by: str) -> list[str]:
    names = ctx.require("energy_devices", by)
    if not names:
        raise ConfigError("no energy devices (no edge device in the scenario); set formulation.freddi.energy_devices",
                          field="formulation.freddi.energy_devices")
    return names
