"""The run path reads config files with libyaml (layerplan.engine.fast_yaml_loader) and caches
parsed files for repeated composes: both must give exactly what OmegaConf and Hydra give."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

import layerplan.conf

CONF = Path(layerplan.conf.__file__).parent


@pytest.fixture()
def loaders(monkeypatch):
    import omegaconf._utils as u

    from layerplan.engine import fast_yaml_loader

    shipped = getattr(u.get_yaml_loader, "original", u.get_yaml_loader)  # OmegaConf's own, before any patch
    monkeypatch.setattr(u, "get_yaml_loader", shipped)
    reference = u.get_yaml_loader()
    fast_yaml_loader()
    fast = u.get_yaml_loader()
    assert fast is not reference and issubclass(fast, yaml.CSafeLoader)
    return reference, fast


def _load(text: str, loader):
    return yaml.load(text, Loader=loader)


def test_every_shipped_config_file_loads_the_same(loaders):
    reference, fast = loaders
    files = sorted(CONF.rglob("*.yaml"))
    assert len(files) > 50
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert _load(text, fast) == _load(text, reference), f


@pytest.mark.parametrize("text", [
    "a: 1e-3\nb: 1.5e9\nc: 10\nd: .5\ne: -.inf\nf: 2001-12-14\ng: 0x1F\nh: yes\ni: ~\nj: '1e3'\nk: 1_000.5\n",
    "a: [1, 2.0, x]\nb: {c: null, d: true}\n",
    "x: ${oc.env:HOME,/tmp}\ny: !!str 12\n",
])
def test_scalars_resolve_as_omegaconf_resolves_them(loaders, text):
    reference, fast = loaders
    got, want = _load(text, fast), _load(text, reference)
    assert got == want
    assert [type(v) for v in got.values()] == [type(v) for v in want.values()]


def test_duplicate_keys_are_still_an_error(loaders):
    reference, fast = loaders
    for loader in (reference, fast):
        with pytest.raises(yaml.constructor.ConstructorError, match="duplicate key a"):
            _load("a: 1\nb: 2\na: 3\n", loader)


def test_cached_sources_compose_the_same_config_every_time():
    """The first read of a file is handed out as it is, later reads get copies: composing
    twice, and mutating the first result, must not change the second."""
    from layerplan.engine import cache_config_sources
    from layerplan.launch import compose

    cache_config_sources()
    overrides = ["dnn=vgg16", "+formulation=[dime,freddi]", "objective=latency_cons"]
    first = compose(overrides)
    want = OmegaConf.to_container(first)
    first.dnn.name = "changed"
    for _ in range(3):
        assert OmegaConf.to_container(compose(overrides)) == want

