"""Debug levels settable in code and in the environment; EMBER_DUMP_DIR artifacts."""
import ember
from ember.passes.log import debug_level


def test_debug_level_in_code_and_env(monkeypatch, capsys):
    monkeypatch.setenv("EMBER_DEBUG", "0")
    assert debug_level() == 0
    f = ember.compile(lambda x: (x * 2).exp().sum())
    f(ember.ones(3))
    with ember.debug(1):
        assert debug_level() == 1
        f(ember.ones(3))
    err = capsys.readouterr().err
    assert "compile <lambda>" in err and "trace" in err and "passes" in err
    with ember.debug(1):
        f(ember.ones(5))
    assert "retrace <lambda>: tensor argument 0: shape (3,) -> (5,)" in capsys.readouterr().err
    monkeypatch.setenv("EMBER_DEBUG", "3")
    assert debug_level() == 3
    ember.set_debug(0)
    assert debug_level() == 0
    ember.set_debug(None)
    assert debug_level() == 3


def test_dump_dir_gets_the_graph_after_each_pass(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_DUMP_DIR", str(tmp_path))

    def scaled_exp(x):
        return (x * 2).exp().sum()
    f = ember.compile(scaled_exp)
    f(ember.ones(3))
    f(ember.ones(3))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert any(n.endswith("fuse.txt") for n in names)
    text = (tmp_path / [n for n in names if n.endswith("fuse.txt")][0]).read_text()
    assert "exp(" in text and "test_compile_debug.py" in text
