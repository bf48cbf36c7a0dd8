"""result.json files are written atomically (layerplan.results.write_json)."""

from __future__ import annotations

import pytest


def test_result_files_are_written_whole_or_not_at_all(tmp_path, monkeypatch):
    """result.json is written through a temporary file and a rename: a write that dies
    leaves the previous file intact and no temporary behind (a SIGKILLed sweep once left
    an empty result.json)."""
    import json
    import os

    from layerplan.results import write_json

    path = tmp_path / "result.json"
    write_json(path, {"status": "optimal"}, indent=2)
    assert json.loads(path.read_text()) == {"status": "optimal"}

    def dies(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", dies)
    with pytest.raises(KeyboardInterrupt):
        write_json(path, {"status": "feasible"})
    assert json.loads(path.read_text()) == {"status": "optimal"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]
